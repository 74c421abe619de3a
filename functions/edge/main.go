// Command edge is the single binary: every operation's handler, the
// authorizer's checks as middleware and the dashboard in one process, on the
// embedded store by default or on DynamoDB.
//
//	edge serve     --addr 127.0.0.1:8080 --data ./data
//	edge bootstrap --data ./data [--organization NAME]
package main

import (
	"context"
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
  edge bootstrap [--data ./data] [--organization NAME] [store flags]

store flags:
  --store bolt|dynamodb   the engine (default bolt: a file in --data)
  --table NAME            the DynamoDB table (with --store dynamodb)
  --create-table          create the table and enable TTL when missing
  --log-level LEVEL       debug, info, warn or error (default info)
`

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "bootstrap":
		err = bootstrap(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "edge: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "edge: %v\n", err)
		return 1
	}
	return 0
}
