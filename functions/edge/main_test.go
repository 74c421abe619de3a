package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/store/bolt"
)

// TestCommandLine holds every command's command line to the same rules:
// --help prints the command's usage on stdout and exits 0, a wrong command
// line prints one error (once) and exits 2, a failure exits 1.
func TestCommandLine(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // a substring of stdout
		stderr     string // a substring of stderr, which must occur exactly once
		emptyOut   bool   // nothing on stdout
		emptyError bool   // nothing on stderr
	}{
		{name: "no command", args: nil, code: 2, stderr: "usage:", emptyOut: true},
		{name: "help", args: []string{"help"}, code: 0, stdout: "edge recover", emptyError: true},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: "edge version", emptyError: true},
		{name: "-h", args: []string{"-h"}, code: 0, stdout: "usage:", emptyError: true},
		{name: "unknown command", args: []string{"serv"}, code: 2, stderr: `unknown command "serv"`, emptyOut: true},

		{name: "serve --help", args: []string{"serve", "--help"}, code: 0, stdout: "usage: edge serve", emptyError: true},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0, stdout: "-addr", emptyError: true},
		{name: "bootstrap --help", args: []string{"bootstrap", "--help"}, code: 0, stdout: "usage: edge bootstrap", emptyError: true},
		{name: "recover --help", args: []string{"recover", "--help"}, code: 0, stdout: "usage: edge recover", emptyError: true},
		{name: "version --help", args: []string{"version", "--help"}, code: 0, stdout: "usage: edge version", emptyError: true},

		{name: "serve unknown flag", args: []string{"serve", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus", emptyOut: true},
		{name: "bootstrap unknown flag", args: []string{"bootstrap", "--org", "x"}, code: 2, stderr: "flag provided but not defined: -org", emptyOut: true},
		{name: "recover unknown flag", args: []string{"recover", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus", emptyOut: true},
		{name: "version unknown flag", args: []string{"version", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus", emptyOut: true},
		{name: "bad flag value", args: []string{"serve", "--create-table=maybe"}, code: 2, stderr: "invalid boolean value", emptyOut: true},
		{name: "bad log level", args: []string{"bootstrap", "--data", data, "--log-level", "loud"}, code: 2, stderr: "--log-level", emptyOut: true},

		{name: "serve extra argument", args: []string{"serve", "--data", data, "now"}, code: 2, stderr: `unexpected argument "now"`, emptyOut: true},
		{name: "bootstrap extra argument", args: []string{"bootstrap", "--data", data, "Acme"}, code: 2, stderr: `unexpected argument "Acme"`, emptyOut: true},
		{name: "recover extra argument", args: []string{"recover", "--organization", "org_x", "y"}, code: 2, stderr: `unexpected argument "y"`, emptyOut: true},
		{name: "version extra argument", args: []string{"version", "now"}, code: 2, stderr: `unexpected argument "now"`, emptyOut: true},

		{name: "serve empty data", args: []string{"serve", "--data", ""}, code: 2, stderr: "--data must name a folder", emptyOut: true},
		{name: "bootstrap empty data", args: []string{"bootstrap", "--data="}, code: 2, stderr: "--data must name a folder", emptyOut: true},
		{name: "recover empty data", args: []string{"recover", "--organization", "org_x", "--data", " "}, code: 2, stderr: "--data must name a folder", emptyOut: true},
		{name: "key quota below 1", args: []string{"serve", "--data", data, "--max-keys-per-organization", "0"}, code: 2, stderr: "--max-keys-per-organization must be at least 1", emptyOut: true},
		{name: "negative key cache", args: []string{"serve", "--data", data, "--key-cache-mib", "-1"}, code: 2, stderr: "--key-cache-mib must be from 0 to 1048576", emptyOut: true},
		{name: "key cache past 1 TiB (its byte count would overflow)", args: []string{"serve", "--data", data, "--key-cache-mib", "9223372036854775807"}, code: 2, stderr: "--key-cache-mib must be from 0 to 1048576", emptyOut: true},
		{name: "trusted proxy not a network", args: []string{"serve", "--data", data, "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "proxy.internal"}, code: 2, stderr: `invalid value "proxy.internal" for flag -trusted-proxy`, emptyOut: true},
		{name: "trusted proxy with host bits", args: []string{"serve", "--data", data, "--trusted-proxy", "10.0.0.1/8"}, code: 2, stderr: "the network is 10.0.0.0/8", emptyOut: true},
		{name: "no audit retention", args: []string{"serve", "--data", data, "--audit-retention-days", "0"}, code: 2, stderr: "--audit-retention-days must be from 1 to 36500", emptyOut: true},
		{name: "audit retention past 100 years", args: []string{"recover", "--data", data, "--organization", "org_x", "--audit-retention-days", "36501"}, code: 2, stderr: "--audit-retention-days must be from 1 to 36500", emptyOut: true},
		{name: "unknown engine", args: []string{"serve", "--store", "sqlite"}, code: 2, stderr: `unknown engine "sqlite"`, emptyOut: true},
		{name: "dynamodb without table", args: []string{"recover", "--organization", "org_x", "--store", "dynamodb"}, code: 2, stderr: "needs --table", emptyOut: true},

		{name: "recover without organization", args: []string{"recover", "--data", data}, code: 2, stderr: "--organization org_… is required", emptyOut: true},
		{name: "recover not an organization id", args: []string{"recover", "--data", data, "--organization", "team_1"}, code: 2, stderr: "--organization: an organization id starts with", emptyOut: true},
		{name: "recover unknown organization", args: []string{"recover", "--data", data, "--organization", "org_0000000000000000"}, code: 1, stderr: "no organization org_0000000000000000 in this store", emptyOut: true},

		{name: "version", args: []string{"version"}, code: 0, stdout: "edge ", emptyError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout.String())
			}
			if tc.stderr != "" {
				if n := strings.Count(stderr.String(), tc.stderr); n != 1 {
					t.Errorf("stderr holds %q %d times, want once:\n%s", tc.stderr, n, stderr.String())
				}
			}
			if tc.emptyOut && stdout.Len() != 0 {
				t.Errorf("stdout should be empty:\n%s", stdout.String())
			}
			if tc.emptyError && stderr.Len() != 0 {
				t.Errorf("stderr should be empty:\n%s", stderr.String())
			}
		})
	}
}

// TestStoreInUse: a command on a data folder that another process holds
// fails within about a second and says what to do.
func TestStoreInUse(t *testing.T) {
	data := t.TempDir()
	held, err := bolt.Open(filepath.Join(data, "apikeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, args := range [][]string{
		{"bootstrap", "--data", data},
		{"recover", "--data", data, "--organization", "org_0000000000000000"},
		{"serve", "--data", data, "--addr", "127.0.0.1:0"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := run(t.Context(), args, &stdout, &stderr)
			took := time.Since(start)
			if code != 1 {
				t.Fatalf("exit status %d, want 1\nstderr: %s", code, stderr.String())
			}
			if took > 3*time.Second {
				t.Errorf("took %v to give up, want about %v", took, lockTimeout)
			}
			if msg := stderr.String(); !strings.Contains(msg, "in use by another edge process") || !strings.Contains(msg, "stop it first") {
				t.Errorf("stderr does not say another process holds the data folder:\n%s", msg)
			}
		})
	}
}

// TestServeBindsBeforeTheStore: when the address is taken, serve fails
// without creating the store.
func TestServeBindsBeforeTheStore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if code := run(ctx, []string{"serve", "--data", data, "--addr", ln.Addr().String()}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit status %d, want 1\nstderr: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "listening on "+ln.Addr().String()+": the address is in use") {
		t.Errorf("stderr does not name the address:\n%s", stderr.String())
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("serve touched the data folder although it could not listen (stat: %v)", err)
	}
	if stdout.Len() != 0 {
		t.Fatalf("serve printed on stdout although it could not listen:\n%s", stdout.String())
	}
}

func TestDescribeBuild(t *testing.T) {
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"tagged, clean", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "false"}}},
			"edge v1.2.3 revision 0123abcd 2026-01-02T03:04:05Z go1.26.0"},
		{"modified", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}}},
			"edge (devel) revision 0123abcd (modified) go1.26.0"},
		{"no VCS information", debug.BuildInfo{GoVersion: "go1.26.0"},
			"edge (unknown version) revision unknown go1.26.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeBuild(&tc.info); got != tc.want {
				t.Fatalf("describeBuild = %q, want %q", got, tc.want)
			}
		})
	}
}
