package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// version prints the module version, the VCS revision and the Go version
// the binary was built with (runtime/debug.ReadBuildInfo).
func version(_ context.Context, args []string, stdout, _ io.Writer) error {
	if err := parse(newFlagSet("version"), "edge version", args, stdout); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		_, err := fmt.Fprintln(stdout, "edge (no build information)")
		return err
	}
	_, err := fmt.Fprintln(stdout, describeBuild(info))
	return err
}

// describeBuild renders build information on one line:
// "edge v1.2.3 revision 0123abcd (modified) 2026-01-02T03:04:05Z go1.26.0".
func describeBuild(info *debug.BuildInfo) string {
	s := "edge " + info.Main.Version
	if s == "edge " {
		s += "(unknown version)"
	}
	var rev, at, modified string
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			at = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	if rev == "" {
		s += " revision unknown"
	} else {
		s += " revision " + rev + modified
	}
	if at != "" {
		s += " " + at
	}
	return s + " " + info.GoVersion
}
