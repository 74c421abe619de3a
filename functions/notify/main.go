// Command notify is the notify Lambda function, run by an EventBridge
// schedule: the expiry sweep, then the due webhook deliveries sent to the
// deliveries queue (see package handler). Configuration comes from the
// environment (see lambdaevent.LoadConfig).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dotenv/apikeys/functions/notify/handler"
	"github.com/dotenv/apikeys/shared/awsenv"
	"github.com/dotenv/apikeys/shared/lambdaevent"
	"github.com/dotenv/apikeys/shared/webhook"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, awsCfg, st, err := lambdaevent.Setup(context.Background(), true, logger)
	if err != nil {
		logger.Error("notify: init failed", "error", err)
		os.Exit(1)
	}
	h := &handler.Handler{
		Dispatcher: webhook.NewDispatcher(st, webhook.DispatcherOptions{Safe: cfg.Safe, Logger: logger}),
		Queue: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
			if ep := awsenv.Endpoint(os.Getenv, "SQS"); ep != nil {
				o.BaseEndpoint = ep
			}
		}),
		QueueURL: cfg.QueueURL,
		Logger:   logger,
	}
	lambda.Start(h.Handle)
}
