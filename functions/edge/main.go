// Command edge is the single binary: every operation's handler, the
// authorizer's checks as middleware and the dashboard in one process, on the
// embedded store by default or on DynamoDB.
//
//	edge serve     --addr 127.0.0.1:8080 --data ./data
//	edge bootstrap --data ./data [--organization NAME]
//	edge recover   --organization org_… --data ./data
//	edge version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  edge serve     [--addr 127.0.0.1:8080] [--data ./data] [store flags]
  edge bootstrap [--organization NAME] [--data ./data] [store flags]
  edge recover   --organization org_… [--data ./data] [store flags]
  edge version

  serve      the API and the dashboard; the first start on a new embedded
             store creates an organization and prints its owner token once
  bootstrap  a new organization; prints {"organization_id","key_id","token"}
  recover    a new allow-all key for an existing organization whose keys are
             lost; prints {"organization_id","key_id","token"}
  version    the module version and VCS revision of this binary

store flags:
  --store bolt|dynamodb   the engine (default bolt: a file in --data)
  --data DIR              the embedded store's folder (default ./data)
  --table NAME            the DynamoDB table (with --store dynamodb)
  --create-table          create the table and enable TTL when missing
  --log-level LEVEL       debug, info, warn or error (default info)

Run 'edge COMMAND --help' for a command's flags.
`

// command is what runs one command.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	switch name {
	case "serve":
		return serve, true
	case "bootstrap":
		return bootstrap, true
	case "recover":
		return recoverKey, true
	case "version":
		return version, true
	}
	return nil, false
}

// errHelp ends a command that printed its help on stdout (exit status 0).
var errHelp = errors.New("help requested")

// usageError is a command line the command refuses (exit status 2).
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usageError of cmd.
func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// run is main without the process: tests call it directly. Exit status: 0
// done (or help shown), 1 the command failed, 2 the command line is wrong.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "edge: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "edge %s: %v\nRun 'edge %s --help' for usage.\n", ue.cmd, ue.err, ue.cmd)
		return 2
	}
	fmt.Fprintf(stderr, "edge %s: %v\n", args[0], err)
	return 1
}
