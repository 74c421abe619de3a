// Package lambdamain is what every Lambda function's main does: read the
// configuration from the environment, create the AWS configuration and the
// DynamoDB client once per container, build the shared dependencies on the
// DynamoDB store, mount only the function's own routes, and start the
// aws-lambda-go runtime loop through the API Gateway adapter. The verify
// function also answers REST API REQUEST authorizer events.
//
// Nothing else happens at init: no request to AWS is made before the first
// invocation.
package lambdamain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/awsenv"
	"github.com/dotenv/apikeys/shared/gate"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/lambdahttp"
	"github.com/dotenv/apikeys/shared/safehttp"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/wiring"
)

// UsageInterval is how often, at most, an instance writes the usage it
// counted by default (EnvUsageFlushInterval): at the end of the first invocation at least this long after the
// previous flush, and when Lambda shuts the instance down (SIGTERM). An
// instance killed without SIGTERM loses at most this long of its counts
// (docs/lambda-performance.md).
const UsageInterval = 30 * time.Second

// The environment variables the functions read.
const (
	// EnvTableName names the DynamoDB table (every function).
	EnvTableName = "TABLE_NAME"
	// EnvAPIBaseURL is the API's own base URL (explore only).
	EnvAPIBaseURL = "API_BASE_URL"
	// EnvLogLevel is debug, info, warn or error (optional, default info).
	EnvLogLevel = "LOG_LEVEL"
	// EnvCORSOrigin is the dashboard's origin, allowed to read answers
	// across origins (optional).
	EnvCORSOrigin = "CORS_ORIGIN"
	// EnvGitHubKeys is where GitHub's secret-scanning public keys are read
	// (leaks only): a URL or a file path; GitHub's own URL when unset.
	EnvGitHubKeys = "GITHUB_KEYS_URL"
	// EnvUsageFlushInterval is how often, at most, the verify function
	// writes the usage it counted (optional, a Go duration from 0s to
	// MaxUsageInterval, default UsageInterval; 0s writes after every
	// invocation).
	EnvUsageFlushInterval = "USAGE_FLUSH_INTERVAL"
	// EnvAuditRetentionDays is how many days audit events are kept
	// (optional, default 400): their ttl, and how far back listings look.
	EnvAuditRetentionDays = "AUDIT_RETENTION_DAYS"
	// EnvMaxKeysPerOrganization is the key quota of an organization
	// (optional, at least 1, default keys.DefaultMaxKeysPerOrganization;
	// only create enforces it, so the CDK stack sets it there alone).
	EnvMaxKeysPerOrganization = "MAX_KEYS_PER_ORGANIZATION"
	// EnvWebhooksAllowLoopback set to "true" lets webhook endpoints be
	// http:// loopback addresses: a development switch for tests under the
	// Lambda emulator; the CDK stack never sets it (docs/security.md,
	// "Webhooks").
	EnvWebhooksAllowLoopback = "WEBHOOKS_ALLOW_LOOPBACK"
)

// MaxUsageInterval bounds EnvUsageFlushInterval: an instance killed
// without SIGTERM loses at most that long of its counts.
const MaxUsageInterval = 5 * time.Minute

// maxAuditRetentionDays bounds EnvAuditRetentionDays (100 years).
const maxAuditRetentionDays = 36500

// InitMessage is the message of the one log line a function writes when its
// init is done, with init_ms: the time main took before the runtime loop
// (configuration, AWS configuration, DynamoDB client, router).
const InitMessage = "init done"

// ExploreTimeout bounds one call the explorer makes to the API.
const ExploreTimeout = 10 * time.Second

// Build returns a function's handlers, keyed by operation, on the shared
// dependencies and the function's configuration. Each functions/<op>/main.go
// hands in its own handler package's, so a function links no other
// operation's code.
type Build func(d wiring.Deps, cfg Config) authz.Handlers

// Plain adapts a handler package's Handlers that needs no configuration.
func Plain(handlers func(wiring.Deps) authz.Handlers) Build {
	return func(d wiring.Deps, _ Config) authz.Handlers { return handlers(d) }
}

// Config is a function's configuration, read from the environment.
type Config struct {
	// Function is the operation the function serves.
	Function authz.Function
	// Table is the DynamoDB table name.
	Table string
	// APIBaseURL is the API's own base URL (explore only).
	APIBaseURL string
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// CORSOrigin is the dashboard's origin ("" when it shares the API's).
	CORSOrigin string
	// GitHubKeys is where GitHub's secret-scanning keys are read (leaks
	// only; "" is GitHub's own URL, which the leaks function knows).
	GitHubKeys string
	// UsageInterval is how often, at most, usage is written (verify).
	UsageInterval time.Duration
	// AuditRetention is how long audit events are kept.
	AuditRetention time.Duration
	// WebhooksAllowLoopback is the webhooks' development switch.
	WebhooksAllowLoopback bool
	// MaxKeysPerOrganization is the key quota (0: the default).
	MaxKeysPerOrganization int
}

// LoadConfig reads f's configuration through getenv and reports every
// missing or invalid variable at once.
func LoadConfig(f authz.Function, getenv func(string) string) (Config, error) {
	c := Config{Function: f, Table: strings.TrimSpace(getenv(EnvTableName)), CORSOrigin: strings.TrimSpace(getenv(EnvCORSOrigin)), UsageInterval: UsageInterval}
	var errs []error
	if v := strings.TrimSpace(getenv(EnvUsageFlushInterval)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxUsageInterval {
			errs = append(errs, fmt.Errorf("%s=%q is not a duration from 0s to %s", EnvUsageFlushInterval, v, MaxUsageInterval))
		} else {
			c.UsageInterval = d
		}
	}
	if c.Table == "" {
		errs = append(errs, fmt.Errorf("%s is not set: it must name the DynamoDB table", EnvTableName))
	}
	if f == authz.FunctionExplore {
		c.APIBaseURL = strings.TrimRight(strings.TrimSpace(getenv(EnvAPIBaseURL)), "/")
		if err := checkBaseURL(c.APIBaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if f == authz.FunctionLeaks {
		c.GitHubKeys = strings.TrimSpace(getenv(EnvGitHubKeys))
	}
	c.AuditRetention = audit.DefaultRetention
	if v := strings.TrimSpace(getenv(EnvAuditRetentionDays)); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 || days > maxAuditRetentionDays {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number of days from 1 to %d", EnvAuditRetentionDays, v, maxAuditRetentionDays))
		} else {
			c.AuditRetention = time.Duration(days) * 24 * time.Hour
		}
	}
	if v := strings.TrimSpace(getenv(EnvMaxKeysPerOrganization)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number of keys of at least 1", EnvMaxKeysPerOrganization, v))
		} else {
			c.MaxKeysPerOrganization = n
		}
	}
	switch v := strings.TrimSpace(getenv(EnvWebhooksAllowLoopback)); v {
	case "", "false":
	case "true":
		c.WebhooksAllowLoopback = true
	default:
		errs = append(errs, fmt.Errorf("%s=%q is neither true nor false", EnvWebhooksAllowLoopback, v))
	}
	if lv := getenv(EnvLogLevel); lv != "" {
		if err := c.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not one of debug, info, warn, error", EnvLogLevel, lv))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("lambdamain: %s function: %w", f, err)
	}
	return c, nil
}

// checkBaseURL accepts an absolute http(s) URL without query or fragment.
func checkBaseURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is not set: it must be the API's own base URL (https://...)", EnvAPIBaseURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s=%q is not an absolute http(s) URL without query or fragment", EnvAPIBaseURL, raw)
	}
	return nil
}

// Handler is a function's Lambda handler: the API Gateway adapter, and
// (verify function) the usage it counted, flushed when due at the end of
// an invocation.
type Handler struct {
	*lambdahttp.Handler
	// Usage counts verifications per key (nil but in the verify function).
	Usage Counter
}

// Counter is the usage counted in memory (usage.Recorder): written when
// due and at shutdown.
type Counter interface {
	// FlushIfDue writes the counts when the interval has passed.
	FlushIfDue(ctx context.Context)
	// Flush writes the counts now.
	Flush(ctx context.Context) error
}

// Invoke answers one event, then writes the counted usage when
// UsageInterval has passed since the last flush (before the instance can
// be frozen).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := h.Handler.Invoke(ctx, payload)
	if h.Usage != nil {
		h.Usage.FlushIfDue(ctx)
	}
	return out, err
}

// Flush writes the counted usage now (on SIGTERM).
func (h *Handler) Flush(ctx context.Context) {
	if h.Usage != nil {
		_ = h.Usage.Flush(ctx) // logged
	}
}

// Door is what the verify function adds to the others, the door where
// tokens are authenticated: it counts the usage of the keys it verifies
// and answers the REST API's REQUEST authorizer events. Only the verify
// function's main hands one in (VerifyDoor), so no other bootstrap links
// usage counting or the authorizer. Behind the authorizer every other
// function's guard gets the authorizer's principal (counted there), so
// they need no write permission for usage.
type Door struct {
	// Usage returns the counter of verifications on st.
	Usage func(st usage.Store, logger *slog.Logger, interval time.Duration) (verify.UsageRecorder, Counter)
	// Authorizer answers authorizer events with the gate.
	Authorizer func(g *gate.Gate, logger *slog.Logger) lambdahttp.AuthorizeFunc
}

// VerifyDoor is the verify function's Door: usage.Recorder and
// lambdahttp.Authorizer.
func VerifyDoor() *Door {
	return &Door{
		Usage: func(st usage.Store, logger *slog.Logger, interval time.Duration) (verify.UsageRecorder, Counter) {
			rec := usage.NewRecorder(st, logger, interval, nil)
			return rec, rec
		},
		Authorizer: lambdahttp.Authorizer,
	}
}

// Function is what a function's main hands to Main.
type Function struct {
	// ID is the function.
	ID authz.Function
	// Build returns its handlers, keyed by operation.
	Build Build
	// Services are the services the handlers call (the handler package's
	// Services): only these are constructed.
	Services []wiring.Service
	// Door is set on the verify function only (VerifyDoor).
	Door *Door
	// AWSConfig loads the AWS configuration (nil: awsenv.Load, what
	// Lambda sets in the environment). Only the old-layout baseline that
	// make lambda-perf measures sets it, to the SDK's loader.
	AWSConfig func(ctx context.Context) (aws.Config, error)
}

// New builds fn's Lambda handler from cfg: the AWS configuration from the
// environment Lambda sets (shared/awsenv: AWS_REGION, the role's
// credentials, AWS_ENDPOINT_URL_DYNAMODB for local runs), one DynamoDB
// client, the DynamoDB store, the base dependencies and only the services
// fn's handlers call, with (fn.Door) usage counted in memory and flushed
// every UsageInterval (Handler.Invoke) and the authorizer, and the
// function's routes with the handlers fn.Build returns. It makes no
// request to AWS.
func New(ctx context.Context, cfg Config, fn Function, logger *slog.Logger) (*Handler, error) {
	var awsCfg aws.Config
	var err error
	if fn.AWSConfig != nil {
		awsCfg, err = fn.AWSConfig(ctx)
	} else {
		awsCfg, err = awsenv.Load(os.Getenv)
	}
	if err != nil {
		return nil, fmt.Errorf("lambdamain: %w", err)
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if ep := awsenv.Endpoint(os.Getenv, "DYNAMODB"); ep != nil {
			o.BaseEndpoint = ep
		}
	})
	st := dynamo.New(db, cfg.Table, dynamo.WithLogger(logger), dynamo.WithAuditRetention(cfg.AuditRetention))
	opt := wiring.Options{Logger: logger, Webhooks: safehttp.Options{AllowLoopback: cfg.WebhooksAllowLoopback}, MaxKeysPerOrganization: cfg.MaxKeysPerOrganization}
	var counter Counter
	if fn.Door != nil && fn.Door.Usage != nil {
		opt.Usage, counter = fn.Door.Usage(st, logger, cfg.UsageInterval)
	}
	deps := wiring.New(st, opt, fn.Services...)
	router, err := wiring.Router(deps, fn.Build(deps, cfg), cfg.Function)
	if err != nil {
		return nil, fmt.Errorf("lambdamain: %s function: %w", cfg.Function, err)
	}
	opts := []lambdahttp.Option{lambdahttp.WithLogger(logger)}
	if fn.Door != nil && fn.Door.Authorizer != nil {
		opts = append(opts, lambdahttp.WithAuthorizer(fn.Door.Authorizer(deps.Gate, logger)))
	}
	return &Handler{Handler: lambdahttp.NewHandler(httpapi.CORS(cfg.CORSOrigin, router), opts...), Usage: counter}, nil
}

// Main is the whole main of function fn: it loads the configuration,
// builds the handler (New), logs InitMessage and starts the Lambda runtime
// loop. A configuration error is printed to stderr with what to set, and
// the process exits with status 1 (Lambda reports it as an init failure).
func Main(fn Function) {
	f := fn.ID
	start := time.Now()
	cfg, err := LoadConfig(f, os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: configuration error: %v\n", f, err)
		os.Exit(1)
	}
	// Lambda sends stderr to CloudWatch Logs; JSON lines are searchable.
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", string(f))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	h, err := New(ctx, cfg, fn, logger)
	cancel()
	if err != nil {
		logger.Error("init failed", "error", err)
		fmt.Fprintf(os.Stderr, "%s: init failed: %v\n", f, err)
		os.Exit(1)
	}
	logger.Info(InitMessage, "init_ms", float64(time.Since(start).Microseconds())/1000)
	if h.Usage == nil {
		lambda.Start(h)
		return
	}
	// WithEnableSIGTERM registers the internal extension through which
	// Lambda sends SIGTERM before it shuts the instance down (with about
	// 500 ms to go): the last counts are written then.
	lambda.StartWithOptions(h, lambda.WithEnableSIGTERM(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		h.Flush(ctx)
	}))
}
