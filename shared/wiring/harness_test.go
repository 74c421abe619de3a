package wiring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	leakshandler "github.com/dotenv/apikeys/functions/leaks/handler"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/wiring"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one running API on the production router, with two organizations
// and a small hierarchy in the first.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	deps   wiring.Deps
	clock  *clock
	owner  string // allow-all token of org A
	orgA   string
	ownerB string // allow-all token of org B
	// team → project billing → target web → environments production, staging
	team, project, target, prod, staging string
	// github stands in for GitHub's secret scanning: the API trusts its key.
	github *githubSigner
}

// newEnv starts the API on a new embedded store; opts may change the
// wiring options (the clock is set after them).
func newEnv(t testing.TB, opts ...func(*wiring.Options)) *env {
	t.Helper()
	return newEnvOn(t, openBolt(t), opts...)
}

// openBolt opens a new embedded store for one test.
func openBolt(t testing.TB) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "apikeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// envMaker starts an API for one test; eachEngine hands one per engine.
type envMaker func(t testing.TB, opts ...func(*wiring.Options)) *env

// eachEngine runs f once per store engine (bbolt, and the DynamoDB store
// on moto and on dynalite, the servers TestMain started), as subtests
// named after the engine (skipped, naming the gap, on a server without
// TransactWriteItems: every change writes its audit event in one). Every
// env makes its own organizations, so the
// DynamoDB envs share one table per server.
func eachEngine(t *testing.T, f func(t *testing.T, newEnv envMaker)) {
	t.Helper()
	t.Run("bolt", func(t *testing.T) { f(t, newEnv) })
	if len(dynamoServers.Backends) < 2 {
		t.Fatalf("want moto and dynalite, have %d DynamoDB servers", len(dynamoServers.Backends))
	}
	for _, b := range dynamoServers.Backends {
		t.Run(b.Name, func(t *testing.T) {
			if b.NoTransactions != "" {
				// Every scenario writes (bootstrap at least).
				t.Skip(b.NoTransactions)
			}
			f(t, func(t testing.TB, opts ...func(*wiring.Options)) *env {
				t.Helper()
				st := dynamo.New(b.Client, b.Table)
				t.Cleanup(func() { st.Close() })
				return newEnvOn(t, st, opts...)
			})
		})
	}
}

// newEnvOn starts the API on st.
func newEnvOn(t testing.TB, st store.Store, opts ...func(*wiring.Options)) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	opt := wiring.Options{}
	for _, o := range opts {
		o(&opt)
	}
	opt.Now = c.Now
	d := wiring.NewDeps(st, opt)
	gh := newGitHubSigner(t)
	router, err := api.Router(d, explorehandler.Config{BaseURL: "http://127.0.0.1:1", Client: http.DefaultClient},
		api.WithLeaks(leakshandler.Config{GitHubKeys: gh.keySet(t, c.Now)}))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: httptest.NewServer(router), deps: d, clock: c, github: gh}
	t.Cleanup(e.srv.Close)
	ctx := context.Background()
	orgA, ownerA, err := d.Keys.Bootstrap(ctx, "Org A")
	if err != nil {
		t.Fatal(err)
	}
	_, ownerB, err := d.Keys.Bootstrap(ctx, "Org B")
	if err != nil {
		t.Fatal(err)
	}
	e.owner, e.orgA, e.ownerB = ownerA.Token, orgA.ID, ownerB.Token
	e.team = e.create("/v1/teams", `{"name":"platform"}`)
	e.project = e.create("/v1/projects", `{"name":"billing","team_id":"`+e.team+`"}`)
	e.target = e.create("/v1/projects/"+e.project+"/targets", `{"name":"web"}`)
	envs := "/v1/projects/" + e.project + "/targets/" + e.target + "/environments"
	e.prod = e.create(envs, `{"name":"production"}`)
	e.staging = e.create(envs, `{"name":"staging"}`)
	return e
}

func (e *env) create(path, body string) string {
	e.t.Helper()
	r := e.do("POST", path, e.owner, body, nil)
	if r.status != http.StatusCreated {
		e.t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
	}
	return r.str("id")
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r response) str(k string) string { s, _ := r.body[k].(string); return s }

// code is the problem code of an error answer.
func (r response) code() string { return r.str("code") }

func (e *env) do(method, path, token, body string, hdr map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(b)}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &out.body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, b)
		}
	}
	if res.StatusCode >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			e.t.Fatalf("%s %s: error with Content-Type %q", method, path, ct)
		}
		if out.code() == "" || out.body["status"] != float64(res.StatusCode) {
			e.t.Fatalf("%s %s: problem without code or status: %s", method, path, b)
		}
	}
	return out
}

// newKey creates a key with the owner token and returns its id and token.
func (e *env) newKey(body string) (id, token string) {
	e.t.Helper()
	r := e.do("POST", "/v1/api-keys", e.owner, body, nil)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create key: %d %s", r.status, r.raw)
	}
	return r.str("id"), r.str("token")
}
