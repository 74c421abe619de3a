package lambdatest_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/infra/iam"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
	"github.com/dotenv/apikeys/shared/lambdatest"
	"github.com/dotenv/apikeys/shared/proctest"
	"github.com/dotenv/apikeys/shared/secretscan/secretscantest"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/wiring"
)

// env is what TestMain set up once for every test: the functions under the
// emulator on one DynamoDB table, and an organization with an owner key.
var env *lambdaEnv

type lambdaEnv struct {
	root       string
	rie        string
	bootstraps map[authz.Function]string
	fn         map[authz.Function]*lambdatest.Emulator
	// fnEnv is the environment every function runs with.
	fnEnv []string
	// deps reach the same table directly, for setup and checks.
	deps wiring.Deps
	// store is the table's store, and queue the webhook deliveries queue
	// (on moto) at queueURL, for the event functions' tests.
	store      *dynamo.Store
	queue      *sqs.Client
	queueURL   string
	org        string
	ownerKey   string
	ownerToken string
	// calls records what each function asked of DynamoDB (iam_test.go).
	calls callLog
	// github signs secret scanning reports as GitHub would; the leaks
	// function reads its public key from a key document served on
	// loopback (GITHUB_KEYS_URL).
	github *secretscantest.Signer
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdatest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	e, cleanup, err := setUp(dir)
	defer cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: setting up the functions under aws-lambda-rie: %v\n", err)
		return 1
	}
	env = e
	code := m.Run()
	// After every test: each function called DynamoDB only as its IAM role
	// allows.
	for _, v := range e.calls.violations(iam.Permissions()) {
		fmt.Fprintln(os.Stderr, "FAIL:", v)
		code = 1
	}
	// After every test: no function logged a whole token, ever.
	for f, em := range e.fn {
		if tokenPattern.MatchString(em.Logs()) {
			fmt.Fprintf(os.Stderr, "FAIL: the %s function logged a token\n", f)
			code = 1
		}
	}
	if code != 0 {
		for f, em := range e.fn {
			fmt.Fprintf(os.Stderr, "--- emulator output of %s ---\n%s\n", f, proctest.TailOf(em.Logs(), 4000))
		}
	}
	return code
}

// tokenPattern matches a whole token (prefix, 16+32+6 base62 characters).
var tokenPattern = regexp.MustCompile(`dotenv_[0-9A-Za-z]{54}`)

// setUp builds the bootstraps and the emulator and starts the DynamoDB
// server at the same time, bootstraps an organization, and starts every
// function under its own emulator.
func setUp(dir string) (_ *lambdaEnv, cleanup func(), err error) {
	var closers []func()
	cleanup = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	e := &lambdaEnv{fn: map[authz.Function]*lambdatest.Emulator{}}
	if e.root, err = lambdatest.ModuleRoot(); err != nil {
		return nil, cleanup, err
	}

	var (
		wg                       sync.WaitGroup
		buildErr, rieErr, dynErr error
		db                       *dynamotest.Env
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		e.bootstraps, buildErr = lambdatest.BuildFunctions(ctx, e.root, dir, "", "", append(authz.Functions(), authz.EventFunctions()...)...)
	}()
	go func() {
		defer wg.Done()
		e.rie, rieErr = lambdatest.BuildRIE(ctx, filepath.Join(dir, "tools"))
	}()
	go func() {
		defer wg.Done()
		db, dynErr = dynamotest.Start(ctx, dynamotest.Options{Moto: true})
	}()
	wg.Wait()
	if db != nil {
		closers = append(closers, func() { _ = db.Close() })
	}
	if err := errors.Join(buildErr, rieErr, dynErr); err != nil {
		return nil, cleanup, err
	}
	b := db.Backends[0]
	if b.Name != "moto" {
		return nil, cleanup, fmt.Errorf("want the moto backend first, have %s", b.Name)
	}

	st := dynamo.New(b.Client, b.Table)
	e.store = st
	e.deps = wiring.NewDeps(st, wiring.Options{})
	// The webhook deliveries queue, on moto as well.
	e.queue = sqs.New(sqs.Options{
		Region: dynamotest.Region, BaseEndpoint: aws.String(b.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(dynamotest.AccessKeyID, dynamotest.SecretAccessKey, ""),
	})
	q, err := e.queue.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("webhook-deliveries")})
	if err != nil {
		return nil, cleanup, fmt.Errorf("creating the deliveries queue: %w", err)
	}
	e.queueURL = aws.ToString(q.QueueUrl)
	org, owner, err := e.deps.Keys.Bootstrap(ctx, "Lambda Test Org")
	if err != nil {
		return nil, cleanup, fmt.Errorf("bootstrapping an organization: %w", err)
	}
	e.org, e.ownerKey, e.ownerToken = org.ID, owner.Key.ID, owner.Token

	// The explorer calls "this API": every route on the same table, as API
	// Gateway would route them.
	apiRouter, err := api.Router(e.deps, explorehandler.Config{})
	if err != nil {
		return nil, cleanup, err
	}
	apiServer := httptest.NewServer(apiRouter)
	closers = append(closers, apiServer.Close)

	// GitHub's secret-scanning key document, as api.github.com publishes
	// it, with a key of the test's own.
	keysURL, err := e.serveGitHubKeys(&closers)
	if err != nil {
		return nil, cleanup, err
	}

	e.fnEnv = []string{
		"TABLE_NAME=" + b.Table,
		// Usage is written after every invocation, so a test reads it at
		// once.
		"USAGE_FLUSH_INTERVAL=0s",
		"AWS_ENDPOINT_URL_DYNAMODB=" + b.Endpoint,
		"AWS_REGION=" + dynamotest.Region,
		"AWS_ACCESS_KEY_ID=" + dynamotest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + dynamotest.SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CA_BUNDLE=",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
		"API_BASE_URL=" + apiServer.URL,
		"LOG_LEVEL=info",
	}
	// The event functions reach the queue on moto and may deliver to the
	// test's loopback receiver (the development switch).
	eventEnv := append(slices.Clone(e.fnEnv), "QUEUE_URL="+e.queueURL, "AWS_ENDPOINT_URL_SQS="+b.Endpoint, "WEBHOOKS_ALLOW_LOOPBACK=true")
	var mu sync.Mutex
	var errs []error
	for _, f := range append(authz.Functions(), authz.EventFunctions()...) {
		fenv := e.fnEnv
		if slices.Contains(authz.EventFunctions(), f) {
			fenv = eventEnv
		}
		// Its DynamoDB and SQS calls go through a recording proxy of its own.
		px, err := e.calls.proxy(f, b.Endpoint)
		if err != nil {
			return nil, cleanup, err
		}
		closers = append(closers, px.Close)
		fenv = append(slices.Clone(fenv), "AWS_ENDPOINT_URL_DYNAMODB="+px.URL, "AWS_ENDPOINT_URL_SQS="+px.URL)
		if f == authz.FunctionLeaks {
			fenv = append(fenv, lambdamain.EnvGitHubKeys+"="+keysURL)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			em, err := lambdatest.StartEmulator(ctx, lambdatest.EmulatorConfig{RIE: e.rie, Bootstrap: e.bootstraps[f], Env: fenv})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f, err))
				return
			}
			e.fn[f] = em
			closers = append(closers, func() { _ = em.Close() })
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, cleanup, err
	}
	return e, cleanup, nil
}

// serveGitHubKeys generates the test's GitHub signing key and serves its
// public half on loopback in the shape of GitHub's key document (beside an
// older key that is no longer current, as GitHub lists them), returning
// the URL.
func (e *lambdaEnv) serveGitHubKeys(closers *[]func()) (string, error) {
	var err error
	if e.github, err = secretscantest.NewSigner("lambdatest-" + rand.Text()[:16]); err != nil {
		return "", err
	}
	old, err := secretscantest.NewSigner("lambdatest-previous")
	if err != nil {
		return "", err
	}
	old.Current = false
	body, err := secretscantest.Document(old, e.github)
	if err != nil {
		return "", err
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	*closers = append(*closers, srv.Close)
	return srv.URL + "/meta/public_keys/secret_scanning", nil
}

// signGitHub signs body as GitHub signs a secret scanning report.
func signGitHub(t *testing.T, key *secretscantest.Signer, body []byte) string {
	t.Helper()
	sig, err := key.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// ---- events ----

// route is one request as API Gateway sees it.
type route struct {
	method, resource string
	params           map[string]string
	query            map[string]string
	body             any // marshalled to JSON when not a string
	headers          map[string]string
}

// path fills the resource's {params}.
func (r route) path() string {
	p := r.resource
	for k, v := range r.params {
		p = strings.ReplaceAll(p, "{"+k+"}", v)
	}
	return p
}

func (r route) vars(tok string) map[string]any {
	var params any
	if len(r.params) > 0 {
		params = r.params
	}
	var query, multi any
	if len(r.query) > 0 {
		query = r.query
		m := map[string][]string{}
		for k, v := range r.query {
			m[k] = []string{v}
		}
		multi = m
	}
	var body any
	switch b := r.body.(type) {
	case nil:
	case string:
		body = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		body = string(raw)
	}
	return map[string]any{
		"method": r.method, "resource": r.resource, "path": r.path(),
		"path_parameters": params, "query": query, "multi_query": multi,
		"body": body, "token": tok,
	}
}

// render fills a testdata event template.
func render(t *testing.T, name string, vars map[string]any) []byte {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := lambdatest.Render(tmpl, vars)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// authorize sends a REQUEST authorizer event for r with the token to the
// verify function. A *lambdatest.FunctionError is its error answer.
func authorize(t *testing.T, tok string, r route) (events.APIGatewayCustomAuthorizerResponse, error) {
	t.Helper()
	out, err := env.fn[authz.FunctionVerify].Invoke(t.Context(), render(t, "authorizer.json", r.vars(tok)))
	var fe *lambdatest.FunctionError
	if errors.As(err, &fe) {
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("authorizer answer %s: %v", out, err)
	}
	return resp, nil
}

// effect is the policy's single effect, after checking its shape.
func effect(t *testing.T, resp events.APIGatewayCustomAuthorizerResponse, r route) string {
	t.Helper()
	st := resp.PolicyDocument.Statement
	arn := "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/" + r.method + r.path()
	if len(st) != 1 || len(st[0].Resource) != 1 || st[0].Resource[0] != arn || st[0].Action[0] != "execute-api:Invoke" {
		t.Fatalf("policy %+v is not for %s", resp.PolicyDocument, arn)
	}
	return st[0].Effect
}

// answer is a function's HTTP answer.
type answer struct {
	status  int
	headers map[string][]string
	body    string
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return m
}

// proxy sends a REST proxy event rendered from template to function f.
func proxy(t *testing.T, f authz.Function, template string, vars map[string]any) answer {
	t.Helper()
	return send(t, f, render(t, template, vars))
}

// send invokes f with a proxy event and decodes its proxy answer.
func send(t *testing.T, f authz.Function, event []byte) answer {
	t.Helper()
	out, err := env.fn[f].Invoke(t.Context(), event)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s answer %s: %v", f, out, err)
	}
	return answer{status: resp.StatusCode, headers: resp.MultiValueHeaders, body: resp.Body}
}

// addHeaders sets extra headers on a rendered proxy event, in both of its
// header maps, as API Gateway delivers them.
func addHeaders(t *testing.T, event []byte, h map[string]string) []byte {
	t.Helper()
	if len(h) == 0 {
		return event
	}
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	single, _ := ev["headers"].(map[string]any)
	multi, _ := ev["multiValueHeaders"].(map[string]any)
	for k, v := range h {
		single[k] = v
		multi[k] = []string{v}
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withContext sends r to f as API Gateway does after the authorizer allowed
// it: the authorizer's context (values as strings) in requestContext.
func withContext(t *testing.T, f authz.Function, ctx map[string]any, tok string, r route) answer {
	t.Helper()
	vars := r.vars(tok)
	for _, k := range []string{"organization_id", "key_id", "allow_all", "grants", "expires_at", "allowed_cidrs", "key_name"} {
		v, ok := ctx[k]
		if !ok {
			t.Fatalf("authorizer context lacks %s: %v", k, ctx)
		}
		vars[k] = fmt.Sprint(v)
	}
	return send(t, f, addHeaders(t, render(t, "proxy.json", vars), r.headers))
}

// gateway plays API Gateway: the authorizer decides, and an allowed request
// goes to the route's function with the authorizer's context.
func gateway(t *testing.T, tok string, r route) answer {
	t.Helper()
	rt, ok := env.deps.Routes.Find(r.method, r.resource)
	if !ok {
		t.Fatalf("no route %s %s", r.method, r.resource)
	}
	resp, err := authorize(t, tok, r)
	if err != nil {
		if !unauthorized(err) {
			t.Fatalf("authorizer: %v", err)
		}
		return answer{status: http.StatusUnauthorized}
	}
	if effect(t, resp, r) != "Allow" {
		return answer{status: http.StatusForbidden}
	}
	return withContext(t, rt.Function, resp.Context, tok, r)
}

func want(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
}

// unauthorized reports whether the authorizer answered the error API
// Gateway turns into 401.
func unauthorized(err error) bool {
	var fe *lambdatest.FunctionError
	return errors.As(err, &fe) && fe.Message == "Unauthorized"
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// ---- tests ----

// TestScenario goes through the functions the way API Gateway would: the
// owner builds a hierarchy and creates a key scoped to one environment, the
// authorizer decides for that key, the key is rotated (the old token stops
// at once) and deleted (the new one stops at once).
func TestScenario(t *testing.T) {
	owner := env.ownerToken
	create := func(r route) map[string]any {
		t.Helper()
		a := gateway(t, owner, r)
		want(t, a, http.StatusCreated)
		return a.json(t)
	}
	team := str(create(route{method: "POST", resource: "/v1/teams", body: map[string]any{"name": "scenario"}}), "id")
	project := str(create(route{method: "POST", resource: "/v1/projects", body: map[string]any{"name": "billing", "team_id": team}}), "id")
	target := str(create(route{method: "POST", resource: "/v1/projects/{project}/targets", params: map[string]string{"project": project}, body: map[string]any{"name": "web"}}), "id")
	envs := route{method: "POST", resource: "/v1/projects/{project}/targets/{target}/environments", params: map[string]string{"project": project, "target": target}}
	envs.body = map[string]any{"name": "production"}
	production := str(create(envs), "id")
	envs.body = map[string]any{"name": "staging"}
	staging := str(create(envs), "id")
	if !strings.HasPrefix(team, "team_") || !strings.HasPrefix(production, "env_") || !strings.HasPrefix(staging, "env_") {
		t.Fatalf("ids %s %s %s", team, production, staging)
	}
	envRoute := func(id string) route {
		return route{method: "GET", resource: "/v1/projects/{project}/targets/{target}/environments/{environment}",
			params: map[string]string{"project": project, "target": target, "environment": id}}
	}

	// The owner's token through the authorizer, then the create function
	// with the authorizer's context.
	createKey := route{method: "POST", resource: "/v1/api-keys", body: map[string]any{
		"name": "CI deploy production",
		"permissions": []map[string]any{
			{"permission": "environments:read", "scope": map[string]any{"level": "environment", "id": production}},
			{"permission": "secrets:read", "scope": map[string]any{"level": "environment", "id": production}},
		},
		"expiration": "30d",
	}}
	resp, err := authorize(t, owner, createKey)
	if err != nil || effect(t, resp, createKey) != "Allow" || resp.PrincipalID != env.ownerKey {
		t.Fatalf("owner on create: %+v, %v", resp, err)
	}
	a := withContext(t, authz.FunctionCreate, resp.Context, owner, createKey)
	want(t, a, http.StatusCreated)
	created := a.json(t)
	keyID, tok1 := str(created, "id"), str(created, "token")
	if !strings.HasPrefix(keyID, "key_") || !strings.HasPrefix(tok1, "dotenv_") || str(created, "created_by") != env.ownerKey {
		t.Fatalf("created %v", created)
	}
	perms, _ := created["permissions"].([]any)
	if len(perms) != 2 || !strings.Contains(a.body, `"path":"billing / web / production"`) {
		t.Errorf("created key's permissions: %s", a.body)
	}

	// The new token: allowed on its environment, denied elsewhere.
	resp, err = authorize(t, tok1, envRoute(production))
	if err != nil || effect(t, resp, envRoute(production)) != "Allow" || resp.PrincipalID != keyID {
		t.Fatalf("scoped key on its environment: %+v, %v", resp, err)
	}
	a = withContext(t, authz.FunctionDirectory, resp.Context, tok1, envRoute(production))
	want(t, a, http.StatusOK)
	if str(a.json(t), "name") != "production" {
		t.Errorf("environment %s", a.body)
	}
	for _, r := range []route{envRoute(staging), {method: "GET", resource: "/v1/api-keys"}, {method: "POST", resource: "/v1/teams"}} {
		resp, err := authorize(t, tok1, r)
		if err != nil || effect(t, resp, r) != "Deny" || resp.PrincipalID != keyID {
			t.Errorf("scoped key on %s %s: %+v, %v; want Deny", r.method, r.path(), resp, err)
		}
	}

	// The authorizer counted the uses and wrote them after the invocation
	// (USAGE_FLUSH_INTERVAL=0s), with the event's source IP and
	// User-Agent: 1 allowed, 3 forbidden. The show function reads them.
	show := route{method: "GET", resource: "/v1/api-keys/{id}", params: map[string]string{"id": keyID}}
	a = gateway(t, owner, show)
	want(t, a, http.StatusOK)
	if k := a.json(t); k["last_used_at"] == nil || k["last_used_ip"] != "203.0.113.7" || k["last_used_user_agent"] != "dotenv-cli/1.4.0" {
		t.Errorf("last use not recorded by the authorizer: %s", a.body)
	}
	a = gateway(t, owner, route{method: "GET", resource: "/v1/api-keys/{id}/usage", params: map[string]string{"id": keyID}})
	want(t, a, http.StatusOK)
	totals, _ := a.json(t)["totals"].(map[string]any)
	if totals["allowed"] != 1.0 || totals["denied"] != 3.0 {
		t.Errorf("usage through the show function: %s, want 1 allowed and 3 denied", a.body)
	}

	// Rotate: the old token stops at once, the new one works.
	a = gateway(t, owner, route{method: "POST", resource: "/v1/api-keys/{id}/rotate", params: map[string]string{"id": keyID}})
	want(t, a, http.StatusOK)
	tok2 := str(a.json(t), "token")
	if tok2 == "" || tok2 == tok1 || str(a.json(t), "id") != keyID {
		t.Fatalf("rotated %s", a.body)
	}
	if _, err := authorize(t, tok1, envRoute(production)); !unauthorized(err) {
		t.Errorf("old token after rotation: %v, want Unauthorized", err)
	}
	if resp, err := authorize(t, tok2, envRoute(production)); err != nil || effect(t, resp, envRoute(production)) != "Allow" {
		t.Errorf("new token after rotation: %+v, %v", resp, err)
	}

	// Delete: the new token stops at once.
	a = gateway(t, owner, route{method: "DELETE", resource: "/v1/api-keys/{id}", params: map[string]string{"id": keyID}})
	want(t, a, http.StatusNoContent)
	if _, err := authorize(t, tok2, envRoute(production)); !unauthorized(err) {
		t.Errorf("token of the deleted key: %v, want Unauthorized", err)
	}
	want(t, gateway(t, owner, show), http.StatusNotFound)

	// No function ever logged a token.
	for f, em := range env.fn {
		for _, tok := range []string{owner, tok1, tok2} {
			if strings.Contains(em.Logs(), tok) {
				t.Errorf("the %s function logged a token", f)
			}
		}
	}
}
