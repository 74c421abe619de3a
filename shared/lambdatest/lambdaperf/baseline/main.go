// Command baseline is the old layout of the Lambda functions, built and
// measured by make lambda-perf (shared/lambdatest/lambdaperf) in the same
// run as the functions, as the yardstick of their size and cold start:
// one program linking every operation's handler and every service, with
// the AWS SDK's default configuration loader, serving the routes of the
// function LAMBDAPERF_FUNCTION names as each function did before each
// linked only its own operation. For the event functions (notify,
// deliver), which never linked the HTTP operations, the baseline is their
// own handler with the SDK's default configuration loader, as they were
// built before shared/awsenv. It is never deployed.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	deliver "github.com/dotenv/apikeys/functions/deliver/handler"
	notify "github.com/dotenv/apikeys/functions/notify/handler"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	leakshandler "github.com/dotenv/apikeys/functions/leaks/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/awsenv"
	"github.com/dotenv/apikeys/shared/lambdaevent"
	"github.com/dotenv/apikeys/shared/lambdamain"
	"github.com/dotenv/apikeys/shared/secretscan"
	"github.com/dotenv/apikeys/shared/webhook"
	"github.com/dotenv/apikeys/shared/wiring"
)

// EnvFunction names the function whose routes the baseline serves.
const EnvFunction = "LAMBDAPERF_FUNCTION"

func main() {
	f := authz.Function(os.Getenv(EnvFunction))
	if slices.Contains(authz.EventFunctions(), f) {
		serveEvents(f)
		return
	}
	if !slices.Contains(authz.Functions(), f) {
		fmt.Fprintf(os.Stderr, "baseline: %s=%q is not a function\n", EnvFunction, f)
		os.Exit(1)
	}
	lambdamain.Main(lambdamain.Function{
		ID:        f,
		Services:  wiring.All(),
		Door:      lambdamain.VerifyDoor(),
		AWSConfig: sdkConfig,
		Build: func(d wiring.Deps, cfg lambdamain.Config) authz.Handlers {
			keysURL := cfg.GitHubKeys
			if keysURL == "" {
				keysURL = secretscan.GitHubKeysURL
			}
			gh := secretscan.NewKeySet(secretscan.SourceFor(keysURL, &http.Client{Timeout: 5 * time.Second}), time.Hour, d.Now, d.Logger)
			all, err := api.Handlers(d, explorehandler.Config{BaseURL: cfg.APIBaseURL, Client: &http.Client{Timeout: lambdamain.ExploreTimeout}},
				api.WithLeaks(leakshandler.Config{GitHubKeys: gh}))
			if err != nil {
				fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
				os.Exit(1)
			}
			// Every handler is linked; the router mounts f's routes only.
			own := authz.Handlers{}
			for _, r := range d.Routes.ForFunction(f) {
				own[r.Op()] = all[r.Op()]
			}
			return own
		},
	})
}

// sdkConfig is the AWS SDK's default configuration loader.
func sdkConfig(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }

// serveEvents runs the event function f (notify or deliver) as it was
// built before shared/awsenv: its own handler, the SDK's default loader.
func serveEvents(f authz.Function) {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx := context.Background()
	cfg, awsCfg, st, err := lambdaevent.SetupWith(ctx, f == authz.FunctionNotify, logger, sdkConfig)
	if err != nil {
		logger.Error("baseline: init failed", "function", f, "error", err)
		os.Exit(1)
	}
	disp := webhook.NewDispatcher(st, webhook.DispatcherOptions{Safe: cfg.Safe, Logger: logger})
	if f == authz.FunctionDeliver {
		lambda.Start((&deliver.Handler{Dispatcher: disp, Logger: logger}).Handle)
		return
	}
	queue := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if ep := awsenv.Endpoint(os.Getenv, "SQS"); ep != nil {
			o.BaseEndpoint = ep
		}
	})
	lambda.Start((&notify.Handler{Dispatcher: disp, Queue: queue, QueueURL: cfg.QueueURL, Logger: logger}).Handle)
}
