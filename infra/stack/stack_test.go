package stack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/infra/iam"
	"github.com/dotenv/apikeys/infra/stack"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/schema"
)

// The stacks every test reads, synthesized once in TestMain.
var (
	// prod is the default (cdk.json) configuration.
	prod assertions.Template
	// throwaway has -c throwaway=true.
	throwaway assertions.Template
	// cached has -c authorizerCacheSeconds=300.
	cached assertions.Template
	// local has -c local=true -c throwaway=true (make deploy-local).
	local assertions.Template
	// prodJSON is prod's JSON.
	prodJSON tmpl
	// synthTime is how long building and synthesizing took.
	synthTime time.Duration
)

const cacheSeconds = 300

// throwawayQuota is the key quota the throwaway variant is given
// (-c maxKeysPerOrganization).
const throwawayQuota = 25

// TestKeyQuota: the key quota reaches the create function, the only one
// that enforces it, as MAX_KEYS_PER_ORGANIZATION: the default (the keys
// package's) or the context's value; no other function gets it, and a
// quota below 1 is refused.
func TestKeyQuota(t *testing.T) {
	if stack.DefaultMaxKeysPerOrganization != keys.DefaultMaxKeysPerOrganization {
		t.Errorf("infra's default key quota %d, the keys package's %d", stack.DefaultMaxKeysPerOrganization, keys.DefaultMaxKeysPerOrganization)
	}
	for name, c := range map[string]struct {
		tp   tmpl
		want string
	}{"prod": {prodJSON, "1000"}, "throwaway": {toJSON(throwaway), fmt.Sprint(throwawayQuota)}, "local": {toJSON(local), "1000"}} {
		lambdas := c.tp.ofType("AWS::Lambda::Function")
		for f, id := range c.tp.ourFunctions() {
			env, _ := lambdas[id]["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			got, ok := vars["MAX_KEYS_PER_ORGANIZATION"]
			if f == authz.FunctionCreate && got != c.want {
				t.Errorf("%s: create's MAX_KEYS_PER_ORGANIZATION=%v, want %s", name, got, c.want)
			}
			if f != authz.FunctionCreate && ok {
				t.Errorf("%s: the %s function gets MAX_KEYS_PER_ORGANIZATION=%v; only create enforces the quota", name, f, got)
			}
		}
	}
	for _, v := range []string{"0", "-3", "lots"} {
		ctx := map[string]any{stack.CtxMaxKeysPerOrganization: v}
		if _, err := stack.OptionsFromContext(awscdk.NewApp(&awscdk.AppProps{Context: &ctx}).Node()); err == nil {
			t.Errorf("-c %s=%s was accepted", stack.CtxMaxKeysPerOrganization, v)
		}
	}
}

func TestMain(m *testing.M) {
	stack.SilenceNodeBanner()
	code := 1
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "infra/stack tests:", err)
	} else {
		code = m.Run()
	}
	jsii.Close()
	os.Exit(code)
}

// setup synthesizes the four variants of the app from one jsii runtime,
// with placeholder bootstraps and dashboard files in a temporary folder,
// and the context of the repository's cdk.json (feature flags included).
func setup() error {
	dir, err := os.MkdirTemp("", "apikeys-infra-test-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	assets := filepath.Join(dir, "lambda")
	for _, f := range append(authz.Functions(), authz.EventFunctions()...) {
		if err := os.MkdirAll(filepath.Join(assets, string(f)), 0o755); err != nil {
			return err
		}
		// Distinct contents, so that each function gets its own asset.
		if err := os.WriteFile(filepath.Join(assets, string(f), "bootstrap"), []byte("#!/bin/sh\n# "+string(f)+"\n"), 0o755); err != nil {
			return err
		}
	}
	web := filepath.Join(dir, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(web, "index.html"), []byte("<!doctype html><title>test</title>"), 0o644); err != nil {
		return err
	}
	raw, err := os.ReadFile("../../cdk.json")
	if err != nil {
		return err
	}
	var cdkJSON struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		return fmt.Errorf("cdk.json: %w", err)
	}

	start := time.Now()
	outdir := filepath.Join(dir, "cdk.out")
	build := func(name string, extra map[string]any) (assertions.Template, error) {
		ctx := map[string]any{}
		for k, v := range cdkJSON.Context {
			ctx[k] = v
		}
		ctx[stack.CtxAssetsDir] = assets
		ctx[stack.CtxDashboardDir] = web
		for k, v := range extra {
			ctx[k] = v
		}
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(filepath.Join(outdir, name))})
		opts, err := stack.OptionsFromContext(app.Node())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s, err := stack.New(app, name, nil, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return assertions.Template_FromStack(s.Stack, nil), nil
	}
	if prod, err = build("Prod", nil); err != nil {
		return err
	}
	// Context values from `-c` arrive as strings.
	if throwaway, err = build("Throwaway", map[string]any{stack.CtxThrowaway: "true", stack.CtxMaxKeysPerOrganization: fmt.Sprint(throwawayQuota)}); err != nil {
		return err
	}
	if cached, err = build("Cached", map[string]any{stack.CtxAuthorizerCacheSeconds: fmt.Sprint(cacheSeconds)}); err != nil {
		return err
	}
	if local, err = build("Local", map[string]any{stack.CtxLocal: "true", stack.CtxThrowaway: "true"}); err != nil {
		return err
	}
	prodJSON = toJSON(prod)
	synthTime = time.Since(start)
	return nil
}

func toJSON(t assertions.Template) tmpl {
	return tmpl(*t.ToJSON())
}

// must runs an assertions call, which panics (a JS exception) on a
// mismatch, and reports the mismatch as a test error.
func must(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func TestSynthTime(t *testing.T) {
	t.Logf("four stacks built and synthesized in %v", synthTime.Round(time.Millisecond))
}

func keySchema(pk, sk string) []any {
	return []any{
		map[string]any{"AttributeName": pk, "KeyType": "HASH"},
		map[string]any{"AttributeName": sk, "KeyType": "RANGE"},
	}
}

func TestTableFollowsSharedDefinition(t *testing.T) {
	spec := dynamo.Spec()
	var gsis []any
	for _, g := range spec.GSIs {
		gsis = append(gsis, map[string]any{
			"IndexName":  g.Name,
			"KeySchema":  keySchema(g.PartitionKey, g.SortKey),
			"Projection": map[string]any{"ProjectionType": "ALL"},
		})
	}
	must(t, "table", func() {
		prod.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1))
		prod.ResourceCountIs(jsii.String("AWS::DynamoDB::GlobalTable"), jsii.Number(0))
		prod.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema":                        assertions.Match_Exact(keySchema(spec.PartitionKey, spec.SortKey)),
			"GlobalSecondaryIndexes":           assertions.Match_Exact(gsis),
			"TimeToLiveSpecification":          map[string]any{"AttributeName": spec.TTLAttribute, "Enabled": true},
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"DeletionProtectionEnabled":        true,
		})
		prod.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
		})
	})
	for name, tp := range map[string]assertions.Template{"throwaway": throwaway, "local": local} {
		must(t, name+" table", func() {
			tp.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
				"DeletionProtectionEnabled":        false,
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			})
			tp.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{"DeletionPolicy": "Delete"})
		})
	}
}

func TestFunctions(t *testing.T) {
	ours := append(authz.Functions(), authz.EventFunctions()...)
	fns := prodJSON.ourFunctions()
	if len(fns) != len(ours) {
		t.Fatalf("found %d tagged functions %v, want %d", len(fns), fns, len(ours))
	}
	all := prodJSON.ofType("AWS::Lambda::Function")
	// Ours plus BucketDeployment's handler, nothing else.
	if len(all) != len(ours)+1 {
		t.Errorf("%d functions in the template, want %d of ours + 1 BucketDeployment handler", len(all), len(ours))
	}
	table, _ := prodJSON.tableID()
	api := slices.Collect(func(yield func(string) bool) {
		for id := range prodJSON.ofType("AWS::ApiGateway::RestApi") {
			yield(id)
		}
	})
	settings := stack.FunctionSettings()
	logs := prodJSON.ofType("AWS::Logs::LogGroup")
	for _, f := range ours {
		p := all[fns[f]]
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" ||
			!slices.Equal(list(p["Architectures"]), []any{"arm64"}) {
			t.Errorf("%s: runtime %v, handler %v, architectures %v", f, p["Runtime"], p["Handler"], p["Architectures"])
		}
		if p["MemorySize"] != float64(settings[f].MemoryMB) || p["Timeout"] != settings[f].Timeout.Seconds() {
			t.Errorf("%s: memory %v timeout %v, want %+v", f, p["MemorySize"], p["Timeout"], settings[f])
		}
		// Behind API Gateway a function has 29 s to answer: a longer
		// timeout would outlast the answer.
		if slices.Contains(authz.Functions(), f) && settings[f].Timeout >= 29*time.Second {
			t.Errorf("%s: timeout %s, want under API Gateway's 29 s", f, settings[f].Timeout)
		}
		// A GitHub report of 1000 matches is processed one match after
		// another: leaks has 25 s, not the 10 s of a single-item operation.
		if f == authz.FunctionLeaks && p["Timeout"] != float64(25) {
			t.Errorf("leaks: timeout %v, want 25", p["Timeout"])
		}
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		wantVars := []string{"TABLE_NAME", "CORS_ORIGIN", "AUDIT_RETENTION_DAYS"}
		switch f {
		case authz.FunctionExplore:
			wantVars = append(wantVars, "API_BASE_URL")
		case authz.FunctionCreate:
			wantVars = append(wantVars, "MAX_KEYS_PER_ORGANIZATION")
			if vars["MAX_KEYS_PER_ORGANIZATION"] != fmt.Sprint(keys.DefaultMaxKeysPerOrganization) {
				t.Errorf("create: MAX_KEYS_PER_ORGANIZATION=%v, want the default %d", vars["MAX_KEYS_PER_ORGANIZATION"], keys.DefaultMaxKeysPerOrganization)
			}
		case authz.FunctionLeaks:
			wantVars = append(wantVars, "GITHUB_KEYS_URL")
			if ref(vars["GITHUB_KEYS_URL"]) != stack.ParamGitHubKeysURL {
				t.Errorf("leaks: GITHUB_KEYS_URL=%v, want the %s parameter", vars["GITHUB_KEYS_URL"], stack.ParamGitHubKeysURL)
			}
		case authz.FunctionNotify:
			// Never WEBHOOKS_ALLOW_LOOPBACK (the development switch).
			wantVars = []string{"TABLE_NAME", "QUEUE_URL"}
		case authz.FunctionDeliver:
			wantVars = []string{"TABLE_NAME"}
		}
		if got := slices.Sorted(keysOf(vars)); !slices.Equal(got, slices.Sorted(slices.Values(wantVars))) {
			t.Errorf("%s: environment %v, want %v", f, got, wantVars)
		}
		if ref(vars["TABLE_NAME"]) != table {
			t.Errorf("%s: TABLE_NAME=%v, want the table", f, vars["TABLE_NAME"])
		}
		if f == authz.FunctionExplore {
			// Built from the RestApi's id: no reference to the Stage or
			// Deployment, which would be circular.
			b, _ := json.Marshal(vars["API_BASE_URL"])
			if len(api) != 1 || !mentions(vars["API_BASE_URL"], api[0]) || strings.Contains(string(b), "Stage") ||
				strings.Contains(string(b), "Deployment") || !strings.HasSuffix(string(b), `"/prod"]]}`) {
				t.Errorf("explore: API_BASE_URL=%s", b)
			}
		}
		lc, _ := p["LoggingConfig"].(map[string]any)
		if lg := logs[ref(lc["LogGroup"])]; lg == nil || lg["RetentionInDays"] != float64(30) {
			t.Errorf("%s: log group %v with %v", f, lc, lg)
		}
	}
}

// TestWebhooksEventSide: notify runs every minute from an EventBridge
// schedule and may only send to the deliveries queue; deliver consumes that
// queue in batches of 10, reporting item failures; a message deliver could
// not handle 5 times moves to the dead-letter queue; both queues are
// encrypted and refuse plain HTTP.
func TestWebhooksEventSide(t *testing.T) {
	fns := prodJSON.ourFunctions()
	queues := prodJSON.ofType("AWS::SQS::Queue")
	if len(queues) != 2 {
		t.Fatalf("%d queues, want the deliveries queue and its dead-letter queue", len(queues))
	}
	main := prodJSON.queueID("WebhookDeliveries")
	dlq := prodJSON.queueID("WebhookDeliveriesDlq")
	for id := range queues {
		if strings.HasPrefix(id, "WebhookDeliveriesDlq") {
			dlq = id
		}
	}
	q := queues[main]
	redrive, _ := q["RedrivePolicy"].(map[string]any)
	if main == "" || dlq == "" || redrive["maxReceiveCount"] != float64(stack.DeliveryAttempts) || !mentions(redrive["deadLetterTargetArn"], dlq) {
		t.Errorf("deliveries queue %s redrive %v, want %d receives then %s", main, redrive, stack.DeliveryAttempts, dlq)
	}
	if q["VisibilityTimeout"] != 6*stack.FunctionSettings()[authz.FunctionDeliver].Timeout.Seconds() {
		t.Errorf("visibility timeout %v, want six times deliver's timeout", q["VisibilityTimeout"])
	}
	for id, qp := range queues {
		if qp["SqsManagedSseEnabled"] != true {
			t.Errorf("queue %s is not encrypted: %v", id, qp)
		}
	}
	if n := len(prodJSON.ofType("AWS::SQS::QueuePolicy")); n != 2 {
		t.Errorf("%d queue policies, want 2 (EnforceSSL on both queues)", n)
	}
	rules := prodJSON.ofType("AWS::Events::Rule")
	if len(rules) != 1 {
		t.Fatalf("%d EventBridge rules, want the notify schedule", len(rules))
	}
	for _, r := range rules {
		targets := list(r["Targets"])
		if r["ScheduleExpression"] != "rate(1 minute)" || len(targets) != 1 || !mentions(targets[0], fns[authz.FunctionNotify]) {
			t.Errorf("schedule %v targets %v, want rate(1 minute) on notify", r["ScheduleExpression"], targets)
		}
	}
	mappings := prodJSON.ofType("AWS::Lambda::EventSourceMapping")
	if len(mappings) != 1 {
		t.Fatalf("%d event source mappings, want deliver's", len(mappings))
	}
	for _, m := range mappings {
		if !mentions(m["FunctionName"], fns[authz.FunctionDeliver]) || !mentions(m["EventSourceArn"], main) ||
			m["BatchSize"] != float64(10) || !slices.Equal(list(m["FunctionResponseTypes"]), []any{"ReportBatchItemFailures"}) {
			t.Errorf("event source mapping %v, want deliver on the deliveries queue, batches of 10, item failures", m)
		}
	}
	// The development switch is never set, on any function of any variant.
	for name, tp := range map[string]tmpl{"prod": prodJSON, "local": toJSON(local), "throwaway": toJSON(throwaway)} {
		for id, fn := range tp.ofType("AWS::Lambda::Function") {
			if b, _ := json.Marshal(fn["Environment"]); strings.Contains(string(b), "WEBHOOKS_ALLOW_LOOPBACK") {
				t.Errorf("%s: function %s sets WEBHOOKS_ALLOW_LOOPBACK", name, id)
			}
		}
	}
}

func keysOf(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestRoutesFollowRouteTable(t *testing.T) {
	routes := authz.NewRoutes()
	for _, e := range checkRoutes(prodJSON, routes) {
		t.Error(e)
	}
	// Spelled out too: the only routes without the authorizer are verify
	// and healthz, and the two leak reports (their own authentication).
	wantPublic := map[string]bool{"POST /v1/verify": true, "GET /healthz": true, "POST /v1/leaks": true, "POST /v1/leaks/github": true}
	public := 0
	for _, r := range routes {
		if r.Public() {
			public++
			if !wantPublic[r.Method+" "+r.Pattern] {
				t.Errorf("unexpected public route %s %s", r.Method, r.Pattern)
			}
		}
	}
	if public != len(wantPublic) {
		t.Errorf("%d public routes, want %d (verify, healthz, the leak reports)", public, len(wantPublic))
	}
	must(t, "method counts", func() {
		prod.ResourcePropertiesCountIs(jsii.String("AWS::ApiGateway::Method"),
			map[string]any{"AuthorizationType": "CUSTOM"}, jsii.Number(float64(len(routes)-len(wantPublic))))
		prod.ResourcePropertiesCountIs(jsii.String("AWS::ApiGateway::Method"),
			map[string]any{"AuthorizationType": "NONE", "HttpMethod": assertions.Match_Not("OPTIONS")}, jsii.Number(float64(len(wantPublic))))
	})
}

func TestAuthorizer(t *testing.T) {
	verify := prodJSON.ourFunctions()[authz.FunctionVerify]
	must(t, "default authorizer", func() {
		prod.ResourceCountIs(jsii.String("AWS::ApiGateway::Authorizer"), jsii.Number(1))
		prod.HasResourceProperties(jsii.String("AWS::ApiGateway::Authorizer"), map[string]any{
			"Type":                         "REQUEST",
			"IdentitySource":               "method.request.header.Authorization",
			"AuthorizerResultTtlInSeconds": 0,
			"AuthorizerUri":                assertions.Match_AnyValue(),
		})
	})
	for _, a := range prodJSON.ofType("AWS::ApiGateway::Authorizer") {
		if !mentions(a["AuthorizerUri"], verify) {
			t.Errorf("authorizer does not invoke the verify function: %v", a["AuthorizerUri"])
		}
	}
	must(t, "cached authorizer", func() {
		cached.HasResourceProperties(jsii.String("AWS::ApiGateway::Authorizer"), map[string]any{
			"Type":                         "REQUEST",
			"AuthorizerResultTtlInSeconds": cacheSeconds,
			"IdentitySource": "method.request.header.Authorization," +
				"context.httpMethod,context.resourcePath,context.path,context.identity.sourceIp",
		})
	})
	// The cache must not change who needs the authorizer.
	for _, e := range checkRoutes(toJSON(cached), authz.NewRoutes()) {
		t.Error("cached:", e)
	}
}

func TestLeastPrivilege(t *testing.T) {
	for name, tp := range map[string]tmpl{"prod": prodJSON, "local": toJSON(local)} {
		for _, e := range checkPolicies(tp, iam.Permissions()) {
			t.Errorf("%s: %s", name, e)
		}
	}
	// The map itself: no function without DynamoDB access, nothing broad.
	for _, f := range authz.Functions() {
		a, ok := iam.Permissions()[f]
		if !ok || !slices.Contains(a.AllActions(), "dynamodb:GetItem") {
			t.Errorf("%s: %+v lacks GetItem (path resolution)", f, a)
		}
		if len(a.Indexes) > 0 && !slices.Contains(a.Actions, "dynamodb:Query") {
			t.Errorf("%s: index access without Query: %+v", f, a)
		}
	}
}

// TestAuditLeastPrivilege: the audit reader can only read (GetItem, Query),
// and verification, on every request's path, cannot Query at all (so it
// can never read audit events, which only a Query reaches); checkPolicies
// holds the synthesized roles to exactly this map.
func TestAuditLeastPrivilege(t *testing.T) {
	perms := iam.Permissions()
	auditor := perms[authz.FunctionAudit]
	for _, a := range auditor.Actions {
		switch a {
		case "dynamodb:GetItem", "dynamodb:Query":
		default:
			t.Errorf("the audit function may %s: it must not write", a)
		}
	}
	if !slices.Contains(auditor.Actions, "dynamodb:Query") || !slices.Equal(auditor.Indexes, []string{schema.IndexGSI1}) {
		t.Errorf("the audit function cannot Query the table and GSI1: %+v", auditor)
	}
	verifier := perms[authz.FunctionVerify]
	if slices.Contains(verifier.AllActions(), "dynamodb:Query") || len(verifier.Indexes) > 0 {
		t.Errorf("the verify function may Query (and so read audit events): %+v", verifier)
	}
	// Nor read or write an audit event by its key: every action it has is
	// conditioned on partitions that no audit event, delivery or notice
	// has, while the keys and nodes it needs match.
	if len(verifier.Actions) != 0 || verifier.DeletesNotices {
		t.Errorf("the verify function has unconditioned actions: %+v", verifier)
	}
	for _, tc := range []struct {
		action, pk string
		ok         bool
	}{
		{"dynamodb:GetItem", "KEY#key_abc", true},
		{"dynamodb:GetItem", "ORG#org_1", true},
		{"dynamodb:GetItem", "PING", true},
		{"dynamodb:UpdateItem", "KEY#key_abc", true},
		{"dynamodb:GetItem", "AUDIT#org_1#2026-11", false},
		{"dynamodb:UpdateItem", "AUDIT#org_1#2026-11", false},
		{"dynamodb:UpdateItem", "ORG#org_1", false},
		{"dynamodb:GetItem", "WEBHOOK#wh_1", false},
		{"dynamodb:GetItem", "NOTICE#evt_1", false},
		{"dynamodb:GetItem", "PINGX", false},
		{"dynamodb:PutItem", "KEY#key_abc", false},
	} {
		ok := slices.ContainsFunc(verifier.Scoped, func(sc iam.Scoped) bool { return sc.Allows(tc.action, tc.pk) })
		if ok != tc.ok {
			t.Errorf("verify %s on %s: allowed %v, want %v", tc.action, tc.pk, ok, tc.ok)
		}
	}
	// The synthesized role says the same: its statements carry the
	// conditions (checkPolicies holds them to the map exactly).
	for name, tp := range map[string]tmpl{"prod": prodJSON, "local": toJSON(local)} {
		conds := tp.roleStatements(authz.FunctionVerify)
		if len(conds) != 2 {
			t.Errorf("%s: verify's role has %d DynamoDB statements, want 2", name, len(conds))
		}
		for _, st := range conds {
			b, _ := json.Marshal(st["Condition"])
			if !strings.Contains(string(b), `"dynamodb:LeadingKeys":["KEY#*"`) {
				t.Errorf("%s: verify statement %v without its LeadingKeys condition", name, st)
			}
		}
	}
	for name, tp := range map[string]tmpl{"prod": prodJSON, "local": toJSON(local)} {
		lambdas := tp.ofType("AWS::Lambda::Function")
		fn := lambdas[tp.ourFunctions()[authz.FunctionAudit]]
		env, _ := fn["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars["AUDIT_RETENTION_DAYS"] != "400" {
			t.Errorf("%s: the audit function's AUDIT_RETENTION_DAYS = %v, want 400", name, vars["AUDIT_RETENTION_DAYS"])
		}
	}
}

func TestChecksCatchRegressions(t *testing.T) {
	if errs := checkPolicies(prodJSON, iam.Permissions()); len(errs) != 0 {
		t.Fatalf("the unmutated template already fails: %v", errs)
	}
	bad := prodJSON.clone()
	fns := bad.ourFunctions()
	lambdas := bad.ofType("AWS::Lambda::Function")
	role := ref(lambdas[fns[authz.FunctionShow]]["Role"])
	for _, p := range bad.ofType("AWS::IAM::Policy") {
		if !mentions(p["Roles"], role) {
			continue
		}
		doc := p["PolicyDocument"].(map[string]any)
		doc["Statement"] = append(list(doc["Statement"]), map[string]any{
			"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
		})
	}
	// Widen create's DeleteItem of the pending notices to the keys.
	createRole := ref(lambdas[fns[authz.FunctionCreate]]["Role"])
	widened := false
	for _, p := range bad.ofType("AWS::IAM::Policy") {
		if !mentions(p["Roles"], createRole) {
			continue
		}
		for _, st := range list(p["PolicyDocument"].(map[string]any)["Statement"]) {
			if c, _ := st.(map[string]any)["Condition"].(map[string]any); c != nil {
				c["ForAllValues:StringLike"] = map[string]any{"dynamodb:LeadingKeys": []any{"KEY#*"}}
				widened = true
			}
		}
	}
	if !widened {
		t.Fatal("create's notice statement not found to mutate")
	}
	// Drop the condition from verify's GetItem: it could read audit events.
	verifyRole := ref(lambdas[fns[authz.FunctionVerify]]["Role"])
	unconditioned := false
	for _, p := range bad.ofType("AWS::IAM::Policy") {
		if !mentions(p["Roles"], verifyRole) {
			continue
		}
		for _, st := range list(p["PolicyDocument"].(map[string]any)["Statement"]) {
			m := st.(map[string]any)
			if m["Action"] == "dynamodb:GetItem" && m["Condition"] != nil {
				delete(m, "Condition")
				unconditioned = true
			}
		}
	}
	if !unconditioned {
		t.Fatal("verify's conditioned GetItem not found to mutate")
	}
	// Drop the authorizer from DELETE /v1/api-keys/{id}.
	paths := bad.apiPaths()
	dropped := false
	for _, m := range bad.ofType("AWS::ApiGateway::Method") {
		if m["HttpMethod"] == "DELETE" && paths[ref(m["ResourceId"])] == "/v1/api-keys/{id}" {
			m["AuthorizationType"] = "NONE"
			delete(m, "AuthorizerId")
			dropped = true
		}
	}
	if !dropped {
		t.Fatal("DELETE /v1/api-keys/{id} not found to mutate")
	}
	policyErrs := strings.Join(checkPolicies(bad, iam.Permissions()), "\n")
	for _, want := range []string{`show role: wildcard action "dynamodb:*"`, "show role: statement on resource *", "show role: DynamoDB actions",
		"create role: conditioned statement", "verify role: DynamoDB actions [dynamodb:GetItem], want exactly []",
		"verify role: conditioned statements"} {
		if !strings.Contains(policyErrs, want) {
			t.Errorf("policy check missed %q; it said:\n%s", want, policyErrs)
		}
	}
	routeErrs := strings.Join(checkRoutes(bad, authz.NewRoutes()), "\n")
	if !strings.Contains(routeErrs, "DELETE /v1/api-keys/{id}: authorization NONE") {
		t.Errorf("route check missed the dropped authorizer; it said:\n%s", routeErrs)
	}
	// The assertions package sees it too.
	mutated := assertions.Template_FromJSON((*map[string]any)(&bad), nil)
	failed := false
	func() {
		defer func() { failed = recover() != nil }()
		mutated.ResourcePropertiesCountIs(jsii.String("AWS::ApiGateway::Method"),
			map[string]any{"AuthorizationType": "CUSTOM"}, jsii.Number(float64(len(authz.NewRoutes())-2)))
	}()
	if !failed {
		t.Error("assertions did not notice the dropped authorizer")
	}
}

func TestDashboardBucketIsPrivate(t *testing.T) {
	for name, tp := range map[string]assertions.Template{"prod": prod, "local": local} {
		must(t, name+" bucket", func() {
			tp.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(1))
			tp.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
				"PublicAccessBlockConfiguration": map[string]any{
					"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
				},
				"BucketEncryption": assertions.Match_ObjectLike(&map[string]any{
					"ServerSideEncryptionConfiguration": assertions.Match_AnyValue(),
				}),
			})
			tp.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
				"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
					"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
						"Effect":    "Deny",
						"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
					})}),
				}),
			})
		})
	}
	// Only CloudFront reads it, through origin access control.
	must(t, "cloudfront", func() {
		prod.ResourceCountIs(jsii.String("AWS::CloudFront::OriginAccessControl"), jsii.Number(1))
		prod.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
				"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Allow", "Action": "s3:GetObject",
					"Principal": map[string]any{"Service": "cloudfront.amazonaws.com"},
				})}),
			}),
		})
		prod.ResourceCountIs(jsii.String("Custom::CDKBucketDeployment"), jsii.Number(1))
	})
	// config.json names the API's URL: Source.jsonData fills in the
	// RestApi's id and the stage at deploy time through markers.
	var api, stage string
	for id := range prodJSON.ofType("AWS::ApiGateway::RestApi") {
		api = id
	}
	for id := range prodJSON.ofType("AWS::ApiGateway::Stage") {
		stage = id
	}
	for id, p := range prodJSON.ofType("Custom::CDKBucketDeployment") {
		b, _ := json.Marshal(p["SourceMarkers"])
		if api == "" || !mentions(p["SourceMarkers"], api) || !mentions(p["SourceMarkers"], stage) || len(list(p["SourceObjectKeys"])) != 2 {
			t.Errorf("%s: markers %s, %d sources; want the API URL and the dashboard + config.json", id, b, len(list(p["SourceObjectKeys"])))
		}
	}
}

func TestLocalMode(t *testing.T) {
	must(t, "local", func() {
		local.ResourceCountIs(jsii.String("AWS::CloudFront::Distribution"), jsii.Number(0))
		local.ResourceCountIs(jsii.String("Custom::CDKBucketDeployment"), jsii.Number(0))
		local.ResourceCountIs(jsii.String("Custom::S3AutoDeleteObjects"), jsii.Number(0))
		local.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"WebsiteConfiguration": map[string]any{"IndexDocument": "index.html"},
		})
		local.HasOutput(jsii.String(stack.OutputDashboardBucket), map[string]any{})
	})
	lj := toJSON(local)
	if fns := lj.ourFunctions(); len(fns) != len(authz.Functions())+len(authz.EventFunctions()) || len(lj.ofType("AWS::Lambda::Function")) != len(fns) {
		t.Errorf("local: %d functions, %d ours; want only ours", len(lj.ofType("AWS::Lambda::Function")), len(fns))
	}
	for _, e := range checkRoutes(lj, authz.NewRoutes()) {
		t.Error("local:", e)
	}
	out, _ := json.Marshal(lj["Outputs"])
	if !strings.Contains(string(out), ".execute-api.localhost.localstack.cloud:4566/prod") ||
		!strings.Contains(string(out), ".s3-website.localhost.localstack.cloud:4566") {
		t.Errorf("local outputs do not use LocalStack URLs: %s", out)
	}
}

func TestGatewayResponses(t *testing.T) {
	got := map[string]map[string]any{}
	for _, p := range prodJSON.ofType("AWS::ApiGateway::GatewayResponse") {
		got[fmt.Sprint(p["ResponseType"])] = p
	}
	for _, typ := range []string{"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} {
		if got[typ] == nil {
			t.Errorf("no gateway response for %s", typ)
		}
	}
	want := map[string]struct {
		status float64
		code   string
	}{
		"UNAUTHORIZED": {401, "unauthenticated"}, "ACCESS_DENIED": {403, "forbidden"},
		"THROTTLED": {429, "rate_limited"}, "DEFAULT_5XX": {500, "internal"},
	}
	for typ, p := range got {
		params, _ := p["ResponseParameters"].(map[string]any)
		if params["gatewayresponse.header.Content-Type"] != "'application/problem+json'" {
			t.Errorf("%s: Content-Type %v", typ, params["gatewayresponse.header.Content-Type"])
		}
		if ra := params["gatewayresponse.header.Retry-After"]; (typ == "THROTTLED" || typ == "QUOTA_EXCEEDED") != (ra == "'1'") {
			t.Errorf("%s: Retry-After %v; want '1' exactly on the 429 answers", typ, ra)
		}
		if o := params["gatewayresponse.header.Access-Control-Allow-Origin"]; o == nil || o == "'*'" {
			t.Errorf("%s: Access-Control-Allow-Origin %v, want the dashboard's origin", typ, o)
		}
		tpls, _ := p["ResponseTemplates"].(map[string]any)
		var body map[string]any
		if err := json.Unmarshal([]byte(fmt.Sprint(tpls["application/json"])), &body); err != nil {
			t.Errorf("%s: body is not JSON: %v", typ, err)
			continue
		}
		for _, k := range []string{"type", "title", "status", "detail", "code"} {
			if body[k] == nil || body[k] == "" {
				t.Errorf("%s: problem without %q: %v", typ, k, body)
			}
		}
		if fmt.Sprint(body["status"]) != fmt.Sprint(p["StatusCode"]) {
			t.Errorf("%s: body status %v, response status %v", typ, body["status"], p["StatusCode"])
		}
		if w, ok := want[typ]; ok && (body["status"] != w.status || body["code"] != w.code) {
			t.Errorf("%s: status %v code %v, want %v %v", typ, body["status"], body["code"], w.status, w.code)
		}
	}
	if p := got["UNAUTHORIZED"]; p != nil {
		params, _ := p["ResponseParameters"].(map[string]any)
		if params["gatewayresponse.header.WWW-Authenticate"] == nil {
			t.Error("401 without WWW-Authenticate")
		}
	}
}

func TestApiSettings(t *testing.T) {
	opts := stack.DefaultOptions()
	must(t, "api", func() {
		// cloudWatchRole: false leaves no account-wide role behind.
		prod.ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(0))
		prod.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{
			"StageName": opts.StageName,
			"MethodSettings": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"HttpMethod": "*", "ResourcePath": "/*",
				"ThrottlingRateLimit": opts.ThrottleRate, "ThrottlingBurstLimit": opts.ThrottleBurst,
			})}),
		})
		for _, o := range []string{stack.OutputApiUrl, stack.OutputDashboardUrl, stack.OutputTableName} {
			prod.HasOutput(jsii.String(o), map[string]any{"Value": assertions.Match_AnyValue()})
		}
	})
	// CORS preflights allow the dashboard's origin only.
	for id, m := range prodJSON.ofType("AWS::ApiGateway::Method") {
		if m["HttpMethod"] != "OPTIONS" {
			continue
		}
		b, _ := json.Marshal(m["Integration"])
		if !strings.Contains(string(b), `"method.response.header.Access-Control-Allow-Origin":{"Fn::Join":["",["'https://",{"Fn::GetAtt":["DashboardCdn`) {
			t.Errorf("%s: preflight origin is not the dashboard's: %s", id, b)
		}
	}
}

// TestLeakRoutes: the two leak routes take no authorizer (their own
// authentication: GitHub's signature, possession of the token), have a
// throttle of their own, and GitHub's key location is a parameter that
// defaults to GitHub's published URL.
func TestLeakRoutes(t *testing.T) {
	must(t, "leaks", func() {
		prod.HasParameter(jsii.String(stack.ParamGitHubKeysURL), map[string]any{
			"Type": "String", "Default": "https://api.github.com/meta/public_keys/secret_scanning",
		})
		var throttles []any
		for _, path := range []string{"/~1v1~1leaks", "/~1v1~1leaks~1github"} {
			throttles = append(throttles, assertions.Match_ObjectLike(&map[string]any{
				"HttpMethod": "POST", "ResourcePath": path,
				"ThrottlingRateLimit": stack.LeakThrottleRate, "ThrottlingBurstLimit": stack.LeakThrottleBurst,
			}))
		}
		prod.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{
			"MethodSettings": assertions.Match_ArrayWith(&throttles),
		})
	})
	leakRoutes := authz.NewRoutes().ForFunction(authz.FunctionLeaks)
	if len(leakRoutes) != 2 {
		t.Fatalf("the leaks function serves %d routes, want 2", len(leakRoutes))
	}
	found := 0
	for id, m := range prodJSON.ofType("AWS::ApiGateway::Method") {
		op, _ := m["OperationName"].(string)
		for _, r := range leakRoutes {
			if op != r.Operation {
				continue
			}
			found++
			if m["AuthorizationType"] != "NONE" || m["AuthorizerId"] != nil {
				t.Errorf("%s (%s): authorization %v, authorizer %v, want none", id, op, m["AuthorizationType"], m["AuthorizerId"])
			}
		}
	}
	if found != len(leakRoutes) {
		t.Errorf("found %d leak methods, want %d", found, len(leakRoutes))
	}
}

func TestAbuseLimits(t *testing.T) {
	localOpts := stack.DefaultOptions()
	localOpts.WAF = false
	for name, c := range map[string]struct {
		tp   tmpl
		opts stack.Options
	}{
		"prod": {prodJSON, stack.DefaultOptions()}, "cached": {toJSON(cached), stack.DefaultOptions()},
		"throwaway": {toJSON(throwaway), stack.DefaultOptions()}, "local": {toJSON(local), localOpts},
	} {
		for _, e := range checkAbuseLimits(c.tp, c.opts) {
			t.Errorf("%s: %s", name, e)
		}
	}
	opts := stack.DefaultOptions()
	must(t, "waf", func() {
		prod.HasResourceProperties(jsii.String("AWS::WAFv2::WebACL"), map[string]any{
			"Scope":         "REGIONAL",
			"DefaultAction": map[string]any{"Allow": map[string]any{}},
			"Rules": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Name": stack.WAFRuleName,
				"Statement": map[string]any{"RateBasedStatement": map[string]any{
					"AggregateKeyType": "IP", "Limit": opts.WAFRateLimit, "EvaluationWindowSec": stack.WAFWindowSeconds,
				}},
				"Action": map[string]any{"Block": map[string]any{"CustomResponse": assertions.Match_ObjectLike(&map[string]any{
					"ResponseCode": 429,
					"ResponseHeaders": assertions.Match_ArrayWith(&[]any{
						map[string]any{"Name": "Retry-After", "Value": fmt.Sprint(stack.WAFRetryAfterSeconds)},
					}),
				})}},
			})}),
		})
		prod.ResourceCountIs(jsii.String("AWS::WAFv2::WebACLAssociation"), jsii.Number(1))
		local.ResourceCountIs(jsii.String("AWS::WAFv2::WebACL"), jsii.Number(0))
		local.ResourceCountIs(jsii.String("AWS::WAFv2::WebACLAssociation"), jsii.Number(0))
	})
	// The WAF needs no permissions: no IAM statement names a wafv2 action.
	for id, p := range prodJSON.ofType("AWS::IAM::Policy") {
		if b, _ := json.Marshal(p); strings.Contains(string(b), "wafv2:") {
			t.Errorf("%s grants WAF actions: %s", id, b)
		}
	}
}

func TestAbuseLimitChecksCatchRegressions(t *testing.T) {
	opts := stack.DefaultOptions()
	mutations := []struct {
		name   string
		mutate func(tmpl)
		want   string
	}{
		{"stage throttling raised", func(m tmpl) {
			for _, st := range m.ofType("AWS::ApiGateway::Stage") {
				for _, ms := range list(st["MethodSettings"]) {
					ms.(map[string]any)["ThrottlingRateLimit"] = 10000.0
				}
			}
		}, "want every method throttled"},
		{"rule keyed by a forwarding header", func(m tmpl) {
			for _, acl := range m.ofType("AWS::WAFv2::WebACL") {
				rb := list(acl["Rules"])[0].(map[string]any)["Statement"].(map[string]any)["RateBasedStatement"].(map[string]any)
				rb["AggregateKeyType"] = "FORWARDED_IP"
				rb["ForwardedIPConfig"] = map[string]any{"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH"}
			}
		}, "want the source IP"},
		{"limit raised", func(m tmpl) {
			for _, acl := range m.ofType("AWS::WAFv2::WebACL") {
				list(acl["Rules"])[0].(map[string]any)["Statement"].(map[string]any)["RateBasedStatement"].(map[string]any)["Limit"] = 2e9
			}
		}, "requests per 300 s"},
		{"rule only counts", func(m tmpl) {
			for _, acl := range m.ofType("AWS::WAFv2::WebACL") {
				list(acl["Rules"])[0].(map[string]any)["Action"] = map[string]any{"Count": map[string]any{}}
			}
		}, "want Block with a 429"},
		{"429 without Retry-After", func(m tmpl) {
			for _, acl := range m.ofType("AWS::WAFv2::WebACL") {
				cr := list(acl["Rules"])[0].(map[string]any)["Action"].(map[string]any)["Block"].(map[string]any)["CustomResponse"].(map[string]any)
				delete(cr, "ResponseHeaders")
			}
		}, "want Retry-After: 300"},
		{"association dropped", func(m tmpl) {
			rs := m["Resources"].(map[string]any)
			for id := range m.ofType("AWS::WAFv2::WebACLAssociation") {
				delete(rs, id)
			}
		}, "want 1 web ACL and 1 association"},
	}
	if errs := checkAbuseLimits(prodJSON, opts); len(errs) != 0 {
		t.Fatalf("the unmutated template already fails: %v", errs)
	}
	for _, mu := range mutations {
		bad := prodJSON.clone()
		mu.mutate(bad)
		if errs := strings.Join(checkAbuseLimits(bad, opts), "\n"); !strings.Contains(errs, mu.want) {
			t.Errorf("%s: the check missed it (want %q); it said:\n%s", mu.name, mu.want, errs)
		}
		if mu.name != "association dropped" {
			continue
		}
		// The assertions package sees it too.
		mutated := assertions.Template_FromJSON((*map[string]any)(&bad), nil)
		failed := false
		func() {
			defer func() { failed = recover() != nil }()
			mutated.ResourceCountIs(jsii.String("AWS::WAFv2::WebACLAssociation"), jsii.Number(1))
		}()
		if !failed {
			t.Error("assertions did not notice the dropped association")
		}
	}
}

func TestWAFOptions(t *testing.T) {
	tests := []struct {
		ctx     map[string]any
		waf     bool
		limit   int
		wantErr bool
	}{
		{map[string]any{}, true, stack.DefaultOptions().WAFRateLimit, false},
		{map[string]any{stack.CtxLocal: "true"}, false, stack.DefaultOptions().WAFRateLimit, false},
		{map[string]any{stack.CtxLocal: "true", stack.CtxWAF: "true"}, true, stack.DefaultOptions().WAFRateLimit, false},
		{map[string]any{stack.CtxWAF: "false"}, false, stack.DefaultOptions().WAFRateLimit, false},
		{map[string]any{stack.CtxWAFRateLimit: "300"}, true, 300, false},
		{map[string]any{stack.CtxWAFRateLimit: "5"}, false, 0, true},
		{map[string]any{stack.CtxWAFRateLimit: "lots"}, false, 0, true},
		{map[string]any{stack.CtxWAF: "maybe"}, false, 0, true},
	}
	for _, tt := range tests {
		ctx := tt.ctx
		o, err := stack.OptionsFromContext(awscdk.NewApp(&awscdk.AppProps{Context: &ctx}).Node())
		if (err != nil) != tt.wantErr {
			t.Errorf("%v: err = %v, want error %v", tt.ctx, err, tt.wantErr)
			continue
		}
		if err == nil && (o.WAF != tt.waf || o.WAFRateLimit != tt.limit) {
			t.Errorf("%v: WAF %v limit %d, want %v %d", tt.ctx, o.WAF, o.WAFRateLimit, tt.waf, tt.limit)
		}
	}
}

func TestOptionsFromContext(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{stack.CtxAuthorizerCacheSeconds: "4000"}})
	if _, err := stack.OptionsFromContext(app.Node()); err == nil {
		t.Error("a cache TTL over 3600 s was accepted")
	}
	app = awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{stack.CtxLocal: "yes please"}})
	if _, err := stack.OptionsFromContext(app.Node()); err == nil {
		t.Error("local=\"yes please\" was accepted")
	}
	o := stack.DefaultOptions()
	o.AssetsDir = t.TempDir()
	if _, err := stack.New(awscdk.NewApp(nil), "Missing", nil, o); err == nil || !strings.Contains(err.Error(), "bootstrap") {
		t.Errorf("missing bootstraps: err = %v", err)
	}
}
