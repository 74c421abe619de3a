package stackrun_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/infra/stack"
	"github.com/dotenv/apikeys/infra/stackrun"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdatest"
	"github.com/dotenv/apikeys/shared/proctest"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/wiring"
)

// env is what TestMain prepared once: the synthesized assembly, the
// emulator and the DynamoDB server.
var env struct {
	asm   *stackrun.Assembly
	rie   string
	db    *dynamotest.Backend
	fnEnv []string
	setup time.Duration
	// programs maps the SHA-256 of each function's built bootstrap to the
	// function it was built from: which program a started function runs.
	programs map[string]authz.Function
}

func TestMain(m *testing.M) {
	stack.SilenceNodeBanner()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer jsii.Close()
	dir, err := os.MkdirTemp("", "stackrun-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	db, err := setUp(dir)
	if db != nil {
		defer db.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: infra/stackrun set-up:", err)
		return 1
	}
	env.setup = time.Since(start)
	return m.Run()
}

// setUp builds the host bootstraps and the emulator and starts moto at
// the same time, then synthesizes the stack with those bootstraps as its
// function assets and the committed dashboard.
func setUp(dir string) (*dynamotest.Env, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	root, err := lambdatest.ModuleRoot()
	if err != nil {
		return nil, err
	}
	var (
		wg                      sync.WaitGroup
		buildErr, rieErr, dbErr error
		db                      *dynamotest.Env
	)
	assets := filepath.Join(dir, "lambda")
	if err := os.MkdirAll(assets, 0o755); err != nil {
		return nil, err
	}
	wg.Add(3)
	go func() {
		defer wg.Done()
		// The event functions too: the stack needs their assets, though
		// only the functions the API reaches are started.
		_, buildErr = lambdatest.BuildFunctions(ctx, root, assets, "", "", append(authz.Functions(), authz.EventFunctions()...)...)
	}()
	go func() {
		defer wg.Done()
		env.rie, rieErr = lambdatest.BuildRIE(ctx, filepath.Join(dir, "tools"))
	}()
	go func() {
		defer wg.Done()
		db, dbErr = dynamotest.Start(ctx, dynamotest.Options{Moto: true})
	}()
	wg.Wait()
	if err := errors.Join(buildErr, rieErr, dbErr); err != nil {
		return db, err
	}
	env.db = db.Backends[0]
	env.programs = map[string]authz.Function{}
	for _, f := range append(authz.Functions(), authz.EventFunctions()...) {
		sum, err := fileSum(filepath.Join(assets, string(f), "bootstrap"))
		if err != nil {
			return db, err
		}
		if other, dup := env.programs[sum]; dup {
			return db, fmt.Errorf("the %s and %s bootstraps are the same program: answers could not be told apart", other, f)
		}
		env.programs[sum] = f
	}
	out, err := synthesize(root, filepath.Join(dir, "cdk.out"), assets, filepath.Join(root, "web", "dist"))
	if err != nil {
		return db, fmt.Errorf("synthesizing: %w", err)
	}
	if env.asm, err = stackrun.ReadAssembly(out, stackName); err != nil {
		return db, err
	}
	// What Lambda's runtime would provide (region, the role's
	// credentials), pointed at the local server.
	env.fnEnv = []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + env.db.Endpoint,
		"AWS_REGION=" + dynamotest.Region,
		"AWS_ACCESS_KEY_ID=" + dynamotest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + dynamotest.SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CA_BUNDLE=",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
	}
	return db, nil
}

// deploy runs template t (the synthesized one or a mutated copy).
func deploy(t *testing.T, tpl stackrun.Template) *stackrun.Deployment {
	t.Helper()
	asm := *env.asm
	asm.Template = tpl
	d, err := stackrun.Deploy(t.Context(), stackrun.DeployConfig{
		Assembly: &asm, RIE: env.rie, DynamoDB: env.db.Client, FunctionEnv: env.fnEnv, Region: dynamotest.Region,
	})
	if err != nil {
		t.Fatal(redact(err.Error()))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for id, em := range d.Functions {
				t.Logf("--- output of %s ---\n%s", id, redact(proctest.TailOf(em.Logs(), 1500)))
			}
		}
		d.Close()
	})
	return d
}

// tokenPattern matches a whole token; redact keeps tokens out of test output.
var tokenPattern = regexp.MustCompile(`dotenv_[0-9A-Za-z]{54}`)

func redact(s string) string { return tokenPattern.ReplaceAllString(s, "dotenv_<redacted>") }

// fileSum is the hex SHA-256 of a file.
func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// answerers tells who answered a request: for each Lambda function of a
// deployment (logical id), the function its tag names and the program it
// runs (the function whose bootstrap its asset holds), and which functions
// answered so far.
type answerers struct {
	tagged   map[string]authz.Function
	runs     map[string]authz.Function
	mu       sync.Mutex
	answered map[authz.Function]bool
}

// newAnswerers reads the deployment's functions: their tags from the
// template, their programs from the bootstraps they were started with.
func newAnswerers(d *stackrun.Deployment, tpl stackrun.Template) (*answerers, error) {
	a := &answerers{tagged: map[string]authz.Function{}, runs: map[string]authz.Function{}, answered: map[authz.Function]bool{}}
	for f, id := range functionIDs(tpl) {
		a.tagged[id] = f
	}
	for id, boot := range d.Bootstraps {
		sum, err := fileSum(boot)
		if err != nil {
			return nil, err
		}
		f, ok := env.programs[sum]
		if !ok {
			return nil, fmt.Errorf("function %s runs a bootstrap built from no function", id)
		}
		a.runs[id] = f
	}
	return a, nil
}

// check holds one answer to the route table: the function the gateway
// integrated is the route's, and it runs the route's program.
func (a *answerers) check(name string, r authz.Route, fn string) error {
	if got := a.tagged[fn]; got != r.Function {
		return step(name, "%s %s: answered by %s (the %q function), want the %s function", r.Method, r.Pattern, fn, got, r.Function)
	}
	if got := a.runs[fn]; got != r.Function {
		return step(name, "%s %s: the %s function runs the %s program (its asset), want its own", r.Method, r.Pattern, r.Function, got)
	}
	a.mu.Lock()
	a.answered[r.Function] = true
	a.mu.Unlock()
	return nil
}

// client is one caller of a deployment.
type client struct {
	d     *stackrun.Deployment
	token string
	who   *answerers
}

// answer is one HTTP answer and what the gateway did with it.
type answer struct {
	status int
	header http.Header
	body   []byte
	ex     stackrun.Exchange
}

func (a answer) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(a.body, &m)
	return m
}

func (a answer) str(k string) string { s, _ := a.json()[k].(string); return s }

// step is the lifecycle's failure: which step, and what was seen.
func step(name string, format string, args ...any) error {
	return fmt.Errorf("%s: %s", name, redact(fmt.Sprintf(format, args...)))
}

// do sends one request through the deployment's gateway. A route the
// route table protects must have been decided by the template's
// authorizer (invoked or, with a cache, cached) before any function ran.
func (c client) do(ctx context.Context, name, method, path string, body any, headers ...string) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.d.APIURL+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, step(name, "%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, step(name, "reading the answer: %v", err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	ex, ok := c.d.Gateway.Exchange(resp.Header.Get("x-amzn-RequestId"))
	if !ok {
		return a, step(name, "the gateway recorded no exchange for %s %s", method, path)
	}
	a.ex = ex
	if method != http.MethodOptions && ex.Resource != "" {
		r, ok := authz.NewRoutes().Find(method, ex.Resource)
		if ok && !r.Public() && c.token != "" &&
			ex.Auth != stackrun.AuthInvoked && ex.Auth != stackrun.AuthCached {
			return a, step(name, "%s %s: the gateway ran no authorizer (auth %q) before the %s function", method, ex.Resource, ex.Auth, ex.Function)
		}
		if ok && ex.Function != "" && c.who != nil {
			if err := c.who.check(name, r, ex.Function); err != nil {
				return a, err
			}
		}
	}
	return a, nil
}

// expect sends a request and wants a status.
func (c client) expect(ctx context.Context, name string, status int, method, path string, body any, headers ...string) (answer, error) {
	a, err := c.do(ctx, name, method, path, body, headers...)
	if err != nil {
		return a, err
	}
	if a.status != status {
		return a, step(name, "%s %s answered %d (gateway response %q, function %q), want %d: %s", method, path, a.status, a.ex.GatewayResponse, a.ex.Function, status, proctest.TailOf(string(a.body), 600))
	}
	return a, nil
}

// lifecycle goes through the deployment the way a user would: the owner
// builds a hierarchy and creates a key scoped to one environment, which the
// authorizer allows there and denies elsewhere (before any function runs);
// the explorer calls the API with it; it is rotated (the old token stops
// at once) and deleted (the new one stops at once); the dashboard's
// config.json names the API, and CORS answers name the dashboard.
// It returns the first step that went wrong. The dashboard is checked
// when the template deploys one (a Custom::CDKBucketDeployment).
func lifecycle(ctx context.Context, d *stackrun.Deployment, tpl stackrun.Template, ownerToken string) error {
	who, err := newAnswerers(d, tpl)
	if err != nil {
		return step("functions", "%v", err)
	}
	anon := client{d: d, who: who}
	owner := client{d: d, token: ownerToken, who: who}
	origin := d.DashboardURL
	// The authorizer runs verify's program.
	for id, az := range tpl.OfType("AWS::ApiGateway::Authorizer") {
		b, _ := json.Marshal(az["AuthorizerUri"])
		for fn, runs := range who.runs {
			if strings.Contains(string(b), `"`+fn+`"`) && runs != authz.FunctionVerify {
				return step("authorizer", "authorizer %s invokes %s, which runs the %s program, want verify's", id, fn, runs)
			}
		}
	}

	if _, err := anon.expect(ctx, "health", 200, "GET", "/healthz", nil); err != nil {
		return err
	}
	var a answer
	a, err = anon.expect(ctx, "no token", 401, "GET", "/v1/api-keys", nil)
	if err != nil {
		return err
	}
	if a.ex.Auth != stackrun.AuthIdentityMissing || a.ex.Function != "" || a.str("code") != "unauthenticated" || a.header.Get("WWW-Authenticate") == "" {
		return step("no token", "want the gateway's 401 unauthenticated problem without invoking anything, got %+v %s", a.ex, a.body)
	}

	create := func(name, path string, body any) (string, error) {
		a, err := owner.expect(ctx, name, 201, "POST", path, body)
		return a.str("id"), err
	}
	team, err := create("create team", "/v1/teams", map[string]any{"name": "stackrun"})
	if err != nil {
		return err
	}
	project, err := create("create project", "/v1/projects", map[string]any{"name": "billing", "team_id": team})
	if err != nil {
		return err
	}
	target, err := create("create target", "/v1/projects/"+project+"/targets", map[string]any{"name": "web"})
	if err != nil {
		return err
	}
	envs := "/v1/projects/" + project + "/targets/" + target + "/environments"
	production, err := create("create environment", envs, map[string]any{"name": "production"})
	if err != nil {
		return err
	}
	staging, err := create("create environment", envs, map[string]any{"name": "staging"})
	if err != nil {
		return err
	}

	a, err = owner.expect(ctx, "create scoped key", 201, "POST", "/v1/api-keys", map[string]any{
		"name": "CI deploy production",
		"permissions": []map[string]any{
			{"permission": "environments:read", "scope": map[string]any{"level": "environment", "id": production}},
		},
		"expiration": "30d",
	}, "Origin", origin)
	if err != nil {
		return err
	}
	keyID, tok1 := a.str("id"), a.str("token")
	if !strings.HasPrefix(keyID, "key_") || !strings.HasPrefix(tok1, "dotenv_") {
		return step("create scoped key", "answer %s", a.body)
	}
	if got := a.header.Get("Access-Control-Allow-Origin"); got != origin {
		return step("create scoped key", "Access-Control-Allow-Origin %q, want the dashboard's origin %q (CORS_ORIGIN)", got, origin)
	}
	scoped := client{d: d, token: tok1, who: who}

	a, err = scoped.expect(ctx, "scoped key allowed", 200, "GET", envs+"/"+production, nil)
	if err != nil {
		return err
	}
	if a.str("name") != "production" {
		return step("scoped key allowed", "environment %s", a.body)
	}
	for _, p := range []string{envs + "/" + staging, "/v1/api-keys"} {
		a, err := scoped.expect(ctx, "scoped key denied", 403, "GET", p, nil)
		if err != nil {
			return err
		}
		if a.ex.GatewayResponse != "ACCESS_DENIED" || a.ex.Function != "" || a.str("code") != "forbidden" {
			return step("scoped key denied", "GET %s: want the authorizer's Deny answered by the gateway (no function), got %+v %s", p, a.ex, a.body)
		}
	}

	a, err = owner.expect(ctx, "explore", 200, "POST", "/v1/api-keys/"+keyID+"/explore", map[string]any{
		"token": tok1, "method": "GET", "path": envs + "/" + production,
	})
	if err != nil {
		return err
	}
	if resp, _ := a.json()["response"].(map[string]any); resp["status"] != float64(200) {
		return step("explore", "the explored call answered %v (API_BASE_URL), want 200: %s", resp["status"], proctest.TailOf(string(a.body), 600))
	}

	a, err = owner.expect(ctx, "rotate", 200, "POST", "/v1/api-keys/"+keyID+"/rotate", nil)
	if err != nil {
		return err
	}
	tok2 := a.str("token")
	if tok2 == "" || tok2 == tok1 {
		return step("rotate", "no new token")
	}
	if _, err := scoped.expect(ctx, "old token after rotate", 401, "GET", envs+"/"+production, nil); err != nil {
		return err
	}
	rotated := client{d: d, token: tok2, who: who}
	if _, err := rotated.expect(ctx, "new token after rotate", 200, "GET", envs+"/"+production, nil); err != nil {
		return err
	}

	// edit: renamed under the ETag show answers.
	a, err = owner.expect(ctx, "show key", 200, "GET", "/v1/api-keys/"+keyID, nil)
	if err != nil {
		return err
	}
	a, err = owner.expect(ctx, "rename key", 200, "PATCH", "/v1/api-keys/"+keyID,
		map[string]any{"name": "CI deploy production (renamed)"}, "If-Match", a.header.Get("ETag"))
	if err != nil {
		return err
	}
	if a.str("name") != "CI deploy production (renamed)" {
		return step("rename key", "answer %s", a.body)
	}

	if _, err := owner.expect(ctx, "delete", 204, "DELETE", "/v1/api-keys/"+keyID, nil); err != nil {
		return err
	}
	if _, err := rotated.expect(ctx, "token after delete", 401, "GET", envs+"/"+production, nil); err != nil {
		return err
	}
	if _, err := owner.expect(ctx, "show deleted", 404, "GET", "/v1/api-keys/"+keyID, nil); err != nil {
		return err
	}

	// The rest of the functions: the permission catalog (show), the audit
	// trail of the key's life, the webhooks (none yet), a leak report
	// that revokes a live key.
	a, err = owner.expect(ctx, "permissions", 200, "GET", "/v1/permissions", nil)
	if err != nil {
		return err
	}
	if len(a.body) < 100 {
		return step("permissions", "answer %s", a.body)
	}
	a, err = owner.expect(ctx, "audit trail", 200, "GET", "/v1/audit-events?key_id="+keyID, nil)
	if err != nil {
		return err
	}
	var trail struct {
		Items []struct {
			Action string `json:"action"`
		} `json:"items"`
	}
	_ = json.Unmarshal(a.body, &trail)
	var actions []string
	for _, e := range trail.Items {
		actions = append(actions, e.Action)
	}
	if want := []string{"key.deleted", "key.updated", "key.rotated", "key.created"}; !slices.Equal(actions, want) {
		return step("audit trail", "actions %v, want %v (newest first)", actions, want)
	}
	if _, err := owner.expect(ctx, "webhooks", 200, "GET", "/v1/webhooks", nil); err != nil {
		return err
	}
	a, err = owner.expect(ctx, "create leaky key", 201, "POST", "/v1/api-keys", map[string]any{
		"name":        "leaky",
		"expiration":  "30d",
		"permissions": []map[string]any{{"permission": "environments:read", "scope": map[string]any{"level": "environment", "id": staging}}},
	})
	if err != nil {
		return err
	}
	leaky := client{d: d, token: a.str("token"), who: who}
	if _, err := leaky.expect(ctx, "leaky key before its report", 200, "GET", envs+"/"+staging, nil); err != nil {
		return err
	}
	if _, err := anon.expect(ctx, "report leak", 202, "POST", "/v1/leaks", map[string]any{"token": leaky.token}); err != nil {
		return err
	}
	if _, err := leaky.expect(ctx, "leaky key after its report", 401, "GET", envs+"/"+staging, nil); err != nil {
		return err
	}

	a, err = anon.expect(ctx, "preflight", 204, "OPTIONS", "/v1/api-keys", nil, "Origin", origin, "Access-Control-Request-Method", "POST")
	if err != nil {
		return err
	}
	if got := a.header.Get("Access-Control-Allow-Origin"); got != origin {
		return step("preflight", "Access-Control-Allow-Origin %q, want %q", got, origin)
	}
	if _, err := anon.expect(ctx, "unknown route", 404, "GET", "/v1/nothing", nil); err != nil {
		return err
	}

	// Every function the API integrates answered at least once.
	for _, f := range authz.Functions() {
		if !who.answered[f] {
			return step("every function", "the %s function answered no request of the lifecycle", f)
		}
	}

	if len(tpl.OfType("Custom::CDKBucketDeployment")) == 0 {
		return nil
	}
	// The dashboard's config.json, as the BucketDeployment would write it.
	resp, err := http.Get(d.DashboardURL + "/config.json")
	if err != nil {
		return step("dashboard config", "%v", err)
	}
	defer resp.Body.Close()
	var cfg struct {
		APIBaseURL string `json:"apiBaseUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil || resp.StatusCode != 200 {
		return step("dashboard config", "status %d: %v", resp.StatusCode, err)
	}
	if strings.TrimSuffix(cfg.APIBaseURL, "/") != d.APIURL {
		return step("dashboard config", "apiBaseUrl %q, want the API %q", cfg.APIBaseURL, d.APIURL)
	}
	a2, err := http.Get(d.DashboardURL + "/")
	if err != nil {
		return step("dashboard", "%v", err)
	}
	a2.Body.Close()
	if a2.StatusCode != 200 || !strings.HasPrefix(a2.Header.Get("Content-Type"), "text/html") {
		return step("dashboard", "GET / answered %d %s", a2.StatusCode, a2.Header.Get("Content-Type"))
	}
	// Through the distribution's viewer-request function: a deep link
	// (a reload of a key's edit page) is index.html, an old address is
	// redirected, a missing asset stays missing.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		path, location string
		status         int
		html           bool
	}{
		{"/dashboard/organizations/api-keys/" + keyID + "/edit", "", 200, true},
		{"/api-keys/" + keyID + "?tab=grants", "/dashboard/organizations/api-keys/" + keyID + "?tab=grants", 308, false},
		{"/assets/missing-0000.js", "", 403, false},
	} {
		resp, err := noFollow.Get(d.DashboardURL + c.path)
		if err != nil {
			return step("dashboard deep link", "%v", err)
		}
		resp.Body.Close()
		html := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
		if resp.StatusCode != c.status || html != c.html || resp.Header.Get("Location") != c.location {
			return step("dashboard deep link", "GET %s answered %d %q Location %q, want %d (index.html %v) Location %q",
				c.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), c.status, c.html, c.location)
		}
	}
	return nil
}

// bootstrap creates an organization and its owner key on a deployment's
// table, as `edge bootstrap --store dynamodb --table <TableName>` does
// after a deploy, and returns the owner's token.
func bootstrap(t *testing.T, d *stackrun.Deployment) string {
	t.Helper()
	if len(d.Tables) != 1 {
		t.Fatalf("%d tables, want 1", len(d.Tables))
	}
	var table string
	for _, name := range d.Tables {
		table = name
	}
	deps := wiring.NewDeps(dynamo.New(env.db.Client, table), wiring.Options{})
	_, owner, err := deps.Keys.Bootstrap(t.Context(), "Stackrun Org")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return owner.Token
}

// TestStackRuns deploys the synthesized template as it is and goes through
// the lifecycle.
func TestStackRuns(t *testing.T) {
	t.Logf("set-up (build, emulator, moto, synth) took %v", env.setup.Round(time.Millisecond))
	start := time.Now()
	d := deploy(t, env.asm.Template)
	if len(env.asm.Template.OfType("Custom::CDKBucketDeployment")) != 1 {
		t.Fatal("the template deploys no dashboard (Custom::CDKBucketDeployment)")
	}
	if err := lifecycle(t.Context(), d, env.asm.Template, bootstrap(t, d)); err != nil {
		t.Fatal(err)
	}
	if len(d.Functions) != len(authz.Functions()) {
		t.Errorf("%d functions ran, want the %d the API integrates", len(d.Functions), len(authz.Functions()))
	}
	for id, em := range d.Functions {
		if tokenPattern.MatchString(em.Logs()) {
			t.Errorf("the %s function logged a token", id)
		}
	}
	t.Logf("deploy and lifecycle took %v", time.Since(start).Round(time.Millisecond))
}
