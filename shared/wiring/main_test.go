package wiring_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
)

// dynamoServers are the DynamoDB-compatible servers (moto served one request
// at a time, and dynalite) that eachEngine runs scenarios on. TestMain starts
// them once for the package and stops them at the end; a server that cannot
// start fails the package, it never skips.
var dynamoServers *dynamotest.Env

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := dynamotest.Start(ctx, dynamotest.Options{Moto: true, Dynalite: true, Logger: logger})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the DynamoDB-compatible test servers: %v\n", err)
		os.Exit(1)
	}
	dynamoServers = e
	code := m.Run()
	if err := dynamoServers.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		code = 1
	}
	os.Exit(code)
}
