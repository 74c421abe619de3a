// Command deliver is the deliver Lambda function, the consumer of the
// webhook deliveries queue (see package handler). Configuration comes from
// the environment (see lambdaevent.LoadConfig).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/dotenv/apikeys/functions/deliver/handler"
	"github.com/dotenv/apikeys/shared/lambdaevent"
	"github.com/dotenv/apikeys/shared/webhook"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, _, st, err := lambdaevent.Setup(context.Background(), false, logger)
	if err != nil {
		logger.Error("deliver: init failed", "error", err)
		os.Exit(1)
	}
	h := &handler.Handler{
		Dispatcher: webhook.NewDispatcher(st, webhook.DispatcherOptions{Safe: cfg.Safe, Logger: logger}),
		Logger:     logger,
	}
	lambda.Start(h.Handle)
}
