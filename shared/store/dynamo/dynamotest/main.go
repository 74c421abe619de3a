package dynamotest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"
)

// Main is the body of a test package's TestMain that runs against moto and
// dynalite: it starts both (three minutes at most), hands the servers to
// use, runs the tests and stops the servers, and returns the exit code. A
// server that cannot start fails the package; it never skips.
//
//	func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m, func(e *dynamotest.Env) { servers = e })) }
func Main(m *testing.M, use func(*Env)) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := Start(ctx, Options{Moto: true, Dynalite: true, Logger: logger})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the DynamoDB-compatible test servers: %v\n", err)
		return 1
	}
	use(e)
	code := m.Run()
	if err := e.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		code = 1
	}
	return code
}
