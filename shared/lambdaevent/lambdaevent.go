// Package lambdaevent is what the event-driven Lambda functions (notify,
// deliver) share: their configuration from the environment, the AWS
// configuration and the DynamoDB store, built once per container with no
// request to AWS before the first invocation.
package lambdaevent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dotenv/apikeys/shared/awsenv"
	"github.com/dotenv/apikeys/shared/safehttp"
	"github.com/dotenv/apikeys/shared/store/dynamo"
)

// The environment variables the event functions read.
const (
	// EnvTableName names the DynamoDB table.
	EnvTableName = "TABLE_NAME"
	// EnvQueueURL is the webhook deliveries queue (notify only).
	EnvQueueURL = "QUEUE_URL"
	// EnvWebhooksAllowLoopback "true" lets deliveries go to http://
	// loopback addresses: the development switch for tests under the
	// Lambda emulator, never set by the CDK stack.
	EnvWebhooksAllowLoopback = "WEBHOOKS_ALLOW_LOOPBACK"
)

// Config is an event function's configuration.
type Config struct {
	Table    string
	QueueURL string
	Safe     safehttp.Options
}

// LoadConfig reads the configuration through getenv; needQueue says
// whether QUEUE_URL is required. Every problem is reported at once.
func LoadConfig(getenv func(string) string, needQueue bool) (Config, error) {
	c := Config{Table: strings.TrimSpace(getenv(EnvTableName)), QueueURL: strings.TrimSpace(getenv(EnvQueueURL))}
	var errs []error
	if c.Table == "" {
		errs = append(errs, fmt.Errorf("%s is not set: it must name the DynamoDB table", EnvTableName))
	}
	if needQueue && c.QueueURL == "" {
		errs = append(errs, fmt.Errorf("%s is not set: it must be the webhook deliveries queue's URL", EnvQueueURL))
	}
	switch v := strings.TrimSpace(getenv(EnvWebhooksAllowLoopback)); v {
	case "", "false":
	case "true":
		c.Safe.AllowLoopback = true
	default:
		errs = append(errs, fmt.Errorf("%s=%q is neither true nor false", EnvWebhooksAllowLoopback, v))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("lambdaevent: %w", err)
	}
	return c, nil
}

// Setup loads the configuration and the AWS configuration (shared/awsenv:
// what Lambda sets in the environment) and opens the DynamoDB store; it
// makes no request. Other clients of the returned configuration take
// their endpoint override from awsenv.Endpoint.
func Setup(ctx context.Context, needQueue bool, logger *slog.Logger) (Config, aws.Config, *dynamo.Store, error) {
	return SetupWith(ctx, needQueue, logger, func(context.Context) (aws.Config, error) { return awsenv.Load(os.Getenv) })
}

// SetupWith is Setup with the AWS configuration from load (make
// lambda-perf's baseline passes the SDK's default loader, as these
// functions used before shared/awsenv).
func SetupWith(ctx context.Context, needQueue bool, logger *slog.Logger, load func(context.Context) (aws.Config, error)) (Config, aws.Config, *dynamo.Store, error) {
	c, err := LoadConfig(os.Getenv, needQueue)
	if err != nil {
		return Config{}, aws.Config{}, nil, err
	}
	awsCfg, err := load(ctx)
	if err != nil {
		return Config{}, aws.Config{}, nil, fmt.Errorf("lambdaevent: %w", err)
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if ep := awsenv.Endpoint(os.Getenv, "DYNAMODB"); ep != nil {
			o.BaseEndpoint = ep
		}
	})
	st := dynamo.New(db, c.Table, dynamo.WithLogger(logger))
	return c, awsCfg, st, nil
}
