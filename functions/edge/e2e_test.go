package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/proctest"

	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
)

// edgeBin is the real binary, built once for the package.
var edgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "edge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	edgeBin = filepath.Join(dir, "edge")
	build := exec.Command("go", "build", "-o", edgeBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building edge:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary runs the built edge with store flags and environment.
type binary struct {
	t     *testing.T
	flags []string
	env   []string
}

func (b binary) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, edgeBin, append(args, b.flags...)...)
	cmd.Env = append(os.Environ(), b.env...)
	return cmd
}

// bootstrap runs `edge bootstrap` and decodes its one JSON object.
func (b binary) bootstrap(org string) (orgID, keyID, tok string) {
	b.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := b.command(context.Background(), "bootstrap", "--organization", org)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.t.Fatalf("edge bootstrap: %v\n%s", err, stderr.String())
	}
	var out map[string]string
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&out); err != nil {
		b.t.Fatalf("bootstrap stdout is not one JSON object: %v", err)
	}
	if dec.More() {
		b.t.Fatal("bootstrap printed more than one JSON object on stdout")
	}
	if strings.Contains(stderr.String(), out["token"]) {
		b.t.Fatal("bootstrap logged the token")
	}
	return out["organization_id"], out["key_id"], out["token"]
}

// serve starts `edge serve` on a free loopback port and returns its base
// URL; the process is stopped (SIGINT, graceful) when the test ends.
func (b binary) serve() (base string, logs *proctest.Buffer) {
	b.t.Helper()
	logs = &proctest.Buffer{}
	return proctest.StartServer(b.t, b.command(context.Background(), "serve", "--addr", "127.0.0.1:0", "--log-level", "debug"), logs), logs
}

// sampleTree builds the hierarchy most end-to-end tests use: team
// "platform" → project "billing" → target "web" → environments
// "production" and "staging". It returns their ids and the environments'
// collection path.
func (c client) sampleTree(owner string) (team, project, target, envs, prod, staging string) {
	c.t.Helper()
	team = c.must(201, "POST", "/v1/teams", owner, `{"name":"platform"}`).s("id")
	project = c.must(201, "POST", "/v1/projects", owner, `{"name":"billing","team_id":"`+team+`"}`).s("id")
	target = c.must(201, "POST", "/v1/projects/"+project+"/targets", owner, `{"name":"web"}`).s("id")
	envs = "/v1/projects/" + project + "/targets/" + target + "/environments"
	prod = c.must(201, "POST", envs, owner, `{"name":"production"}`).s("id")
	staging = c.must(201, "POST", envs, owner, `{"name":"staging"}`).s("id")
	return team, project, target, envs, prod, staging
}

// client talks to a running binary.
type client struct {
	t    *testing.T
	base string
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r reply) s(k string) string { v, _ := r.body[k].(string); return v }

func (c client) call(method, path, tok, body string, hdr ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (c client) must(status int, method, path, tok, body string, hdr ...string) reply {
	c.t.Helper()
	r := c.call(method, path, tok, body, hdr...)
	if r.status != status {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

func (c client) verify(tok, perm, envID string) reply {
	c.t.Helper()
	body := `{"token":"` + tok + `"}`
	if perm != "" {
		body = `{"token":"` + tok + `","permission":"` + perm + `","resource":{"environment":"` + envID + `"}}`
	}
	return c.must(200, "POST", "/v1/verify", "", body)
}

func TestLifecycleEmbedded(t *testing.T) {
	lifecycle(t, binary{t: t, flags: []string{"--data", t.TempDir()}})
}

func TestLifecycleDynamoDB(t *testing.T) {
	ctx := context.Background()
	env, err := dynamotest.Start(ctx, dynamotest.Options{Moto: true})
	if err != nil {
		t.Fatalf("starting a DynamoDB-compatible server: %v", err)
	}
	t.Cleanup(func() { env.Close() })
	for _, b := range env.Backends {
		bin := func(t *testing.T) binary {
			return binary{t: t, flags: []string{"--store", "dynamodb", "--table", b.Table},
				env: []string{"AWS_ENDPOINT_URL_DYNAMODB=" + b.Endpoint, "AWS_REGION=" + dynamotest.Region,
					"AWS_ACCESS_KEY_ID=" + dynamotest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + dynamotest.SecretAccessKey}}
		}
		t.Run(b.Name, func(t *testing.T) { lifecycle(t, bin(t)) })
		t.Run(b.Name+"_recover", func(t *testing.T) { recoverDynamoDB(t, bin(t)) })
	}
}

// lifecycle bootstraps two organizations with the real binary, serves, and
// walks a key through its whole life.
func lifecycle(t *testing.T, bin binary) {
	orgA, _, owner := bin.bootstrap("Org A")
	orgB, _, ownerB := bin.bootstrap("Org B")
	if orgA == orgB || owner == ownerB {
		t.Fatal("every bootstrap must create a new organization")
	}
	base, logs := bin.serve()
	walk(t, client{t: t, base: base}, orgA, owner, ownerB, logs.String)
}

// walk is the lifecycle against a running API: owner is an allow-all token
// of organization orgA, ownerB one of another organization; logs returns
// the server's logs when they can be read (nil for a remote deployment).
func walk(t *testing.T, c client, orgA, owner, ownerB string, logs func() string) {

	team, _, _, _, prod, staging := c.sampleTree(owner)

	// Create a key scoped to one environment.
	created := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"CI deploy","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"`+prod+`"}}],"expiration":"30d"}`)
	id, tok := created.s("id"), created.s("token")
	if !strings.HasPrefix(tok, "dotenv_") || created.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %s", created.raw)
	}
	if v := c.verify(tok, "secrets:read", prod); v.body["allowed"] != true {
		t.Fatalf("verify on its environment: %s", v.raw)
	}
	if v := c.verify(tok, "secrets:read", staging); v.body["allowed"] != false || v.s("code") != "forbidden" {
		t.Fatalf("verify on the sibling environment: %s", v.raw)
	}

	// Show: no token anywhere.
	shown := c.must(200, "GET", "/v1/api-keys/"+id, owner, "")
	if strings.Contains(shown.raw, tok) || shown.body["token"] != nil || shown.header.Get("ETag") != `"1"` {
		t.Fatalf("show: %s", shown.raw)
	}
	if p := shown.body["permissions"].([]any)[0].(map[string]any)["scope"].(map[string]any); p["path"] != "billing / web / production" {
		t.Fatalf("scope path: %v", p)
	}

	// Edit: a stale ETag is refused, the current one works.
	c.must(200, "PATCH", "/v1/api-keys/"+id, owner, `{"name":"CI deploy (web)"}`, "If-Match", `"1"`)
	c.must(409, "PATCH", "/v1/api-keys/"+id, owner, `{"name":"lost update"}`, "If-Match", `"1"`)
	if r := c.must(200, "GET", "/v1/api-keys/"+id, owner, ""); r.s("name") != "CI deploy (web)" {
		t.Fatalf("after a refused stale edit the name is %q", r.s("name"))
	}

	// Rotate: the old token dies, the new one works.
	rot := c.must(200, "POST", "/v1/api-keys/"+id+"/rotate", owner, "")
	tok2 := rot.s("token")
	if rot.s("id") != id || tok2 == tok {
		t.Fatalf("rotate: %s", rot.raw)
	}
	if c.verify(tok, "", "").s("code") != "not_found" || c.verify(tok2, "secrets:read", prod).body["allowed"] != true {
		t.Fatal("after rotation the old token must fail and the new one work")
	}

	// Concurrent rotations: exactly one returned token stays valid.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var returned []string
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.call("POST", "/v1/api-keys/"+id+"/rotate", owner, "")
			if r.status == 200 {
				mu.Lock()
				returned = append(returned, r.s("token"))
				mu.Unlock()
			} else if r.status != 409 {
				t.Errorf("concurrent rotate: %d %s", r.status, r.raw)
			}
		}()
	}
	wg.Wait()
	valid := 0
	var live string
	for _, rt := range append(returned, tok2) {
		if c.verify(rt, "", "").s("code") == "ok" {
			valid++
			live = rt
		}
	}
	if len(returned) == 0 || valid != 1 {
		t.Fatalf("%d rotations answered 200, %d tokens valid, want exactly 1", len(returned), valid)
	}

	// A leak report: the live token is refused on the next request, the
	// key shows why, and a rotation brings it back with a new token.
	if r := c.must(202, "POST", "/v1/leaks", "", `{"token":"`+live+`","url":"https://pastebin.example/x"}`); strings.Contains(r.raw, live) {
		t.Fatal("the self-report answer echoes the token")
	}
	if r := c.call("GET", "/v1/permissions", live, ""); r.status != 401 || !strings.Contains(r.raw, "leaked") {
		t.Fatalf("the reported token on the next request: %d %s", r.status, r.raw)
	}
	if r := c.must(200, "GET", "/v1/api-keys/"+id, owner, ""); r.s("status") != "revoked" {
		t.Fatalf("the reported key: %s", r.raw)
	}
	live = c.must(200, "POST", "/v1/api-keys/"+id+"/rotate", owner, "").s("token")
	if c.verify(live, "", "").s("code") != "ok" {
		t.Fatal("the token of the rotated revoked key does not verify")
	}

	// Rotate with a grace period: the replaced token keeps working, flagged
	// as the previous token, until it is revoked; a second revocation is
	// 404. Then once more, so that the delete below must end both tokens.
	graced := c.must(200, "POST", "/v1/api-keys/"+id+"/rotate", owner, `{"grace_seconds":600}`)
	if graced.s("previous_token_expires_at") == "" {
		t.Fatalf("rotate with grace: %s", graced.raw)
	}
	if v := c.verify(live, "secrets:read", prod); v.body["allowed"] != true || v.body["previous_token"] != true {
		t.Fatalf("previous token in its grace period: %s", v.raw)
	}
	c.must(204, "DELETE", "/v1/api-keys/"+id+"/previous-token", owner, "")
	if c.verify(live, "", "").s("code") != "not_found" {
		t.Fatal("a revoked previous token still verifies")
	}
	c.must(404, "DELETE", "/v1/api-keys/"+id+"/previous-token", owner, "")
	previous := graced.s("token")
	live = c.must(200, "POST", "/v1/api-keys/"+id+"/rotate", owner, `{"grace_seconds":600}`).s("token")
	if c.verify(previous, "", "").body["previous_token"] != true {
		t.Fatal("the replaced token must verify as the previous token")
	}

	// Delete: both tokens die at once; a second delete is 404.
	c.must(204, "DELETE", "/v1/api-keys/"+id, owner, "")
	if c.verify(live, "", "").s("code") != "not_found" || c.verify(previous, "", "").s("code") != "not_found" {
		t.Fatal("deleted key still verifies")
	}
	c.must(401, "GET", "/v1/permissions", live, "")
	c.must(404, "DELETE", "/v1/api-keys/"+id, owner, "")

	// The audit trail holds exactly the key's changes (not the refused
	// stale edit, the second revocation or the second delete).
	trail := []string{"key.created", "key.updated", "key.rotated"}
	for range returned {
		trail = append(trail, "key.rotated")
	}
	trail = append(trail, "key.revoked", "key.rotated", "key.rotated", "key.previous_token_revoked", "key.rotated", "key.deleted")
	c.walkAudit(owner, id, trail)

	// Expiry: a key whose expiry has passed is expired while still stored.
	soonAt := time.Now().Add(1500 * time.Millisecond).UTC()
	soon := soonAt.Format(time.RFC3339Nano)
	exp := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"short","preset":"read-only","expires_at":"`+soon+`"}`)
	if c.verify(exp.s("token"), "", "").s("code") != "ok" {
		t.Fatal("a key must verify before its expiry")
	}
	time.Sleep(time.Until(soonAt) + 100*time.Millisecond)
	if v := c.verify(exp.s("token"), "", ""); v.s("code") != "expired" || v.body["valid"] != false {
		t.Fatalf("after expiry: %s", v.raw)
	}
	if r := c.must(200, "GET", "/v1/api-keys/"+exp.s("id"), owner, ""); r.s("status") != "expired" {
		t.Fatalf("stored expired key shows status %q", r.s("status"))
	}
	// Its usage: the verification before the expiry, the one after.
	c.walkUsage(owner, exp.s("id"), 1, 1)

	// Tenancy: the second organization sees none of the first one's keys.
	list := c.must(200, "GET", "/v1/api-keys", ownerB, "")
	if items := list.body["items"].([]any); len(items) != 1 || strings.Contains(list.raw, orgA) {
		t.Fatalf("org B's listing: %s", list.raw)
	}
	c.must(404, "GET", "/v1/api-keys/"+exp.s("id"), ownerB, "")
	c.must(404, "GET", "/v1/teams/"+team, ownerB, "")

	// Secrets stay secret: no token in the server's logs.
	if logs == nil {
		return
	}
	out := logs()
	for _, secret := range append(returned, owner, ownerB, tok, tok2, exp.s("token")) {
		if strings.Contains(out, secret[7:]) {
			t.Fatal("a token appeared in the server's logs")
		}
	}
}
