// Package stack defines the CDK stack of the API keys service: the DynamoDB
// table from the shared table definition, one Lambda function per operation,
// the REST API generated from the shared route table behind the verify
// function as a REQUEST authorizer, least-privilege roles from Permissions,
// and the dashboard in S3 (behind CloudFront on AWS). The app in infra/ and
// the synth tests in this package both build it with New.
package stack

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/store/dynamo/schema"
)

// Context keys the app reads (`cdk synth -c key=value` or cdk.json).
const (
	// CtxAssetsDir is the folder holding <function>/bootstrap
	// (default build/lambda, what `make functions` writes).
	CtxAssetsDir = "assetsDir"
	// CtxDashboardDir is the dashboard's build folder (default web/dist).
	CtxDashboardDir = "dashboardDir"
	// CtxThrowaway ("true") turns off deletion protection and retention so
	// the stack can be deleted whole (LocalStack, previews).
	CtxThrowaway = "throwaway"
	// CtxLocal ("true") targets LocalStack's community edition: no
	// CloudFront, no BucketDeployment, LocalStack URL forms.
	CtxLocal = "local"
	// CtxLocalEndpoint is LocalStack's host:port as seen by clients and by
	// functions running inside it (default localhost.localstack.cloud:4566).
	CtxLocalEndpoint = "localEndpoint"
	// CtxAuditRetentionDays sets how many days audit events are kept
	// (AuditRetentionDays).
	CtxAuditRetentionDays = "auditRetentionDays"
	// CtxMaxKeysPerOrganization sets the organizations' key quota
	// (MaxKeysPerOrganization).
	CtxMaxKeysPerOrganization = "maxKeysPerOrganization"
	// CtxAuthorizerCacheSeconds sets the authorizer's result cache TTL
	// (default 0: off, so a revoked key fails on the next request).
	CtxAuthorizerCacheSeconds = "authorizerCacheSeconds"
	// CtxThrottleRate and CtxThrottleBurst set the stage's throttling.
	CtxThrottleRate  = "throttleRate"
	CtxThrottleBurst = "throttleBurst"
	// CtxWAF ("true" or "false") attaches the WAF web ACL to the stage
	// (default true, but false with local=true: LocalStack's community
	// edition does not run WAF).
	CtxWAF = "waf"
	// CtxWAFRateLimit sets the WAF rule's requests per address per
	// WAFWindowSeconds.
	CtxWAFRateLimit = "wafRateLimit"
)

// Options configure the stack. DefaultOptions gives production values.
type Options struct {
	// AssetsDir holds one folder per function with its `bootstrap`.
	AssetsDir string
	// DashboardDir is the dashboard's build folder; when it does not exist
	// the stack deploys config.json alone and warns.
	DashboardDir string
	// Throwaway turns off the table's deletion protection and sets
	// DESTROY removal policies.
	Throwaway bool
	// Local targets LocalStack's community edition.
	Local bool
	// LocalEndpoint is LocalStack's host:port (Local only).
	LocalEndpoint string
	// AuthorizerCacheSeconds is the REQUEST authorizer's result cache
	// TTL; 0 turns caching off. At most 3600 (API Gateway's limit).
	AuthorizerCacheSeconds int
	// AuditRetentionDays is how long audit events are kept: every function
	// gets it as AUDIT_RETENTION_DAYS, and the event items expire through
	// the table's TTL after it (docs/dynamodb.md, "Audit trail"). 1 to
	// 36500; 400 by default.
	AuditRetentionDays int
	// MaxKeysPerOrganization is the key quota of an organization (409
	// key_quota_exceeded beyond): the create function, the only one that
	// enforces it, gets it as MAX_KEYS_PER_ORGANIZATION. At least 1; 1000
	// by default, as `edge serve --max-keys-per-organization`.
	MaxKeysPerOrganization int
	// ThrottleRate (requests per second, steady) and ThrottleBurst limit
	// every method of the stage.
	ThrottleRate, ThrottleBurst float64
	// WAF attaches an AWS WAF web ACL to the stage with a rate-based rule
	// per client IP address.
	WAF bool
	// WAFRateLimit is how many requests one IP address may send per
	// WAFWindowSeconds before WAF answers 429 (10 to 2,000,000,000).
	WAFRateLimit int
	// StageName is the API Gateway stage; URLs end in /<StageName>/.
	StageName string
	// Table is the table definition (schema.Spec()).
	Table schema.TableSpec
}

// DefaultOptions returns the production configuration.
func DefaultOptions() Options {
	return Options{
		AssetsDir:     "build/lambda",
		DashboardDir:  "web/dist",
		LocalEndpoint: "localhost.localstack.cloud:4566",
		// 50 rps steady with bursts of 100 per stage: well above what a
		// dashboard and CI pipelines need, low enough that a runaway
		// client cannot run up the Lambda and DynamoDB bill.
		ThrottleRate:  50,
		ThrottleBurst: 100,
		// 1500 requests per 5 minutes is 5 rps per address on average, a
		// tenth of the stage's rate: one address cannot take the whole
		// throttling budget, and a CI pipeline or the dashboard stays far
		// below it.
		WAF:          true,
		WAFRateLimit: 1500,
		StageName:    "prod",
		Table:        schema.Spec(),
		// Over a year, so that last year's changes can still be read.
		AuditRetentionDays:     400,
		MaxKeysPerOrganization: DefaultMaxKeysPerOrganization,
	}
}

// DefaultMaxKeysPerOrganization is the default key quota, the keys
// package's (which infra does not link; a synth test holds them equal).
const DefaultMaxKeysPerOrganization = 1000

// FunctionConfig is a function's memory and timeout.
type FunctionConfig struct {
	MemoryMB int
	Timeout  time.Duration
}

// FunctionSettings returns each function's memory and timeout.
//
// Go binaries need little memory (a static bootstrap uses 20-40 MB), but
// Lambda allots CPU in proportion to memory, and CPU is what cold starts
// (TLS to DynamoDB, SDK set-up) and digest checks spend. 256 MB keeps a cold
// start short at a low price; verify gets 512 MB because it also runs as the
// authorizer in front of every authenticated request, so its latency adds to
// all of them. Timeouts: each operation is one or two single-item DynamoDB
// calls (milliseconds), so 10 s only bounds a stuck call (SDK retries
// included); verify gets 5 s because a slow authorizer holds up every
// request; explore calls this API over HTTP (authorizer + function) and
// gets 25 s, under API Gateway's 29 s integration limit; leaks gets 25 s
// too, because one GitHub report may carry up to 1000 matches, each looked
// up (and a live one revoked) one after another: 10 s would cut a large
// report short (and GitHub sends it again), while more than 29 s would
// outlast API Gateway's answer.
func FunctionSettings() map[authz.Function]FunctionConfig {
	std := FunctionConfig{MemoryMB: 256, Timeout: 10 * time.Second}
	m := make(map[authz.Function]FunctionConfig)
	for _, f := range authz.Functions() {
		m[f] = std
	}
	m[authz.FunctionVerify] = FunctionConfig{MemoryMB: 512, Timeout: 5 * time.Second}
	m[authz.FunctionExplore] = FunctionConfig{MemoryMB: 256, Timeout: 25 * time.Second}
	m[authz.FunctionLeaks] = FunctionConfig{MemoryMB: 256, Timeout: 25 * time.Second}
	// notify sweeps and queues up to 1000 due deliveries a minute; deliver
	// sends a batch of 10 concurrently, each bounded by the 10 s timeout
	// of the outbound client.
	m[authz.FunctionNotify] = FunctionConfig{MemoryMB: 256, Timeout: 50 * time.Second}
	m[authz.FunctionDeliver] = FunctionConfig{MemoryMB: 256, Timeout: 30 * time.Second}
	return m
}

// OptionsFromContext returns DefaultOptions overridden by the construct
// tree's context values (see the Ctx* keys).
func OptionsFromContext(node constructs.Node) (Options, error) {
	o := DefaultOptions()
	get := func(key string) (string, bool) {
		v := node.TryGetContext(jsii.String(key))
		if v == nil {
			return "", false
		}
		return fmt.Sprint(v), true
	}
	var err error
	boolOf := func(key string, dst *bool) {
		if s, ok := get(key); ok && err == nil {
			if *dst, err = strconv.ParseBool(s); err != nil {
				err = fmt.Errorf("context %s=%q: want true or false", key, s)
			}
		}
	}
	numOf := func(key string, dst *float64) {
		if s, ok := get(key); ok && err == nil {
			if *dst, err = strconv.ParseFloat(s, 64); err != nil || *dst <= 0 {
				err = fmt.Errorf("context %s=%q: want a positive number", key, s)
			}
		}
	}
	if s, ok := get(CtxAssetsDir); ok {
		o.AssetsDir = s
	}
	if s, ok := get(CtxDashboardDir); ok {
		o.DashboardDir = s
	}
	if s, ok := get(CtxLocalEndpoint); ok {
		o.LocalEndpoint = s
	}
	boolOf(CtxThrowaway, &o.Throwaway)
	boolOf(CtxLocal, &o.Local)
	// LocalStack's community edition has no WAF: local turns it off
	// unless -c waf=true asks for it (LocalStack Pro).
	o.WAF = !o.Local
	boolOf(CtxWAF, &o.WAF)
	if s, ok := get(CtxWAFRateLimit); ok && err == nil {
		n, convErr := strconv.Atoi(s)
		if convErr != nil {
			err = fmt.Errorf("context %s=%q: want a whole number of requests", CtxWAFRateLimit, s)
		}
		o.WAFRateLimit = n
	}
	numOf(CtxThrottleRate, &o.ThrottleRate)
	numOf(CtxThrottleBurst, &o.ThrottleBurst)
	if s, ok := get(CtxAuthorizerCacheSeconds); ok && err == nil {
		n, convErr := strconv.Atoi(s)
		if convErr != nil {
			err = fmt.Errorf("context %s=%q: want whole seconds", CtxAuthorizerCacheSeconds, s)
		}
		o.AuthorizerCacheSeconds = n
	}
	if s, ok := get(CtxAuditRetentionDays); ok && err == nil {
		n, convErr := strconv.Atoi(s)
		if convErr != nil {
			err = fmt.Errorf("context %s=%q: want whole days", CtxAuditRetentionDays, s)
		}
		o.AuditRetentionDays = n
	}
	if s, ok := get(CtxMaxKeysPerOrganization); ok && err == nil {
		n, convErr := strconv.Atoi(s)
		if convErr != nil {
			err = fmt.Errorf("context %s=%q: want a whole number of keys", CtxMaxKeysPerOrganization, s)
		}
		o.MaxKeysPerOrganization = n
	}
	if err != nil {
		return Options{}, err
	}
	return o, o.Validate()
}

// Validate reports options the stack cannot honour.
func (o Options) Validate() error {
	switch {
	case o.AuthorizerCacheSeconds < 0 || o.AuthorizerCacheSeconds > 3600:
		return fmt.Errorf("authorizer cache TTL %d s: want 0 (off) to 3600", o.AuthorizerCacheSeconds)
	case o.WAF && (o.WAFRateLimit < 10 || o.WAFRateLimit > 2_000_000_000):
		return fmt.Errorf("WAF rate limit %d requests per %d s: want 10 to 2000000000", o.WAFRateLimit, WAFWindowSeconds)
	case o.AuditRetentionDays < 1 || o.AuditRetentionDays > 36500:
		return fmt.Errorf("audit retention %d days: want 1 to 36500", o.AuditRetentionDays)
	case o.MaxKeysPerOrganization < 1:
		return fmt.Errorf("key quota %d: want at least 1 key per organization", o.MaxKeysPerOrganization)
	case o.AssetsDir == "":
		return fmt.Errorf("no assets folder")
	case o.StageName == "":
		return fmt.Errorf("no stage name")
	case o.Table.PartitionKey == "" || o.Table.SortKey == "":
		return fmt.Errorf("table definition without keys")
	}
	return nil
}

// SilenceNodeBanner turns off jsii's full-screen banners about this
// machine's Node.js 20 (end-of-life for jsii since 2026-04-30, and
// "untested"). Only the banner for major version 20 is silenced: another
// unsupported Node still warns, and real errors always surface. Values the
// caller already set are kept.
//
// jsii prepares its Node process (and captures the environment for it)
// while Go packages initialize, before main or TestMain runs, so setting
// the variables in-process is too late: when one is missing,
// SilenceNodeBanner sets it and re-executes the program, which then finds
// it set and returns. If the re-execution fails, the program goes on with
// the banner.
func SilenceNodeBanner() {
	missing := false
	for _, kv := range [][2]string{
		{"JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1"},
		{"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"},
	} {
		if _, ok := os.LookupEnv(kv[0]); !ok {
			os.Setenv(kv[0], kv[1])
			missing = true
		}
	}
	if !missing {
		return
	}
	if exe, err := os.Executable(); err == nil {
		_ = syscall.Exec(exe, os.Args, os.Environ())
	}
}
