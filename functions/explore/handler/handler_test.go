package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/wiring"
)

type fixture struct {
	t            testing.TB
	url          string
	router       http.Handler
	owner        string
	keyID, token string
	otherToken   string
	ownerKeyID   string
	team, prj    string
	tgt, prod    string
}

func setup(t testing.TB) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := wiring.NewDeps(st, wiring.Options{})
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	router, err := api.Router(d, explorehandler.Config{BaseURL: base, Client: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = router
	srv.Start()
	t.Cleanup(srv.Close)
	_, owner, err := d.Keys.Bootstrap(context.Background(), "Org")
	if err != nil {
		t.Fatal(err)
	}
	p, err := token.Parse(owner.Token)
	if err != nil {
		t.Fatal("the owner token does not parse")
	}
	f := &fixture{t: t, url: base, router: router, owner: owner.Token, ownerKeyID: p.KeyID()}
	f.team = f.post("/v1/teams", f.owner, `{"name":"platform"}`)["id"].(string)
	f.prj = f.post("/v1/projects", f.owner, `{"name":"billing","team_id":"`+f.team+`"}`)["id"].(string)
	f.tgt = f.post("/v1/projects/"+f.prj+"/targets", f.owner, `{"name":"web"}`)["id"].(string)
	f.prod = f.post("/v1/projects/"+f.prj+"/targets/"+f.tgt+"/environments", f.owner, `{"name":"production"}`)["id"].(string)
	k := f.post("/v1/api-keys", f.owner, `{"name":"reader","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"`+f.prod+`"}},{"permission":"projects:read"}],"expiration":"30d"}`)
	f.keyID, f.token = k["id"].(string), k["token"].(string)
	f.otherToken = f.post("/v1/api-keys", f.owner, `{"name":"other","preset":"read-only","expiration":"30d"}`)["token"].(string)
	return f
}

func (f *fixture) do(path, tok, body string) (int, map[string]any, string) {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m, string(raw)
}

func (f *fixture) post(path, tok, body string) map[string]any {
	f.t.Helper()
	st, m, raw := f.do(path, tok, body)
	if st != 201 {
		f.t.Fatalf("POST %s: %d %s", path, st, raw)
	}
	return m
}

func (f *fixture) explore(tok, method, path, extra string) (int, map[string]any, string) {
	body := `{"token":"` + tok + `","method":"` + method + `","path":` + mustJSON(path) + extra + `}`
	return f.do("/v1/api-keys/"+f.keyID+"/explore", f.owner, body)
}

func mustJSON(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestExploreMakesARealCall(t *testing.T) {
	f := setup(t)
	st, res, raw := f.explore(f.token, "GET", "/v1/projects", "")
	if st != 200 {
		t.Fatalf("explore: %d %s", st, raw)
	}
	resp := res["response"].(map[string]any)
	if resp["status"] != float64(200) || len(resp["body"].(map[string]any)["items"].([]any)) != 1 {
		t.Fatalf("explored GET /v1/projects: %v", resp)
	}
	if strings.Contains(raw, f.token) || strings.Contains(raw, f.token[7:30]) {
		t.Fatal("the explore answer contains the token")
	}
	sn := res["snippets"].(map[string]any)
	for _, lang := range []string{"curl", "go", "javascript", "python"} {
		s := sn[lang].(string)
		if !strings.Contains(s, "DOTENV_API_KEY") || !strings.Contains(s, "/v1/projects") {
			t.Errorf("%s snippet: %s", lang, s)
		}
	}
	if res["request"].(map[string]any)["headers"].(map[string]any)["Authorization"] != "Bearer $DOTENV_API_KEY" {
		t.Fatal("the echoed request must show a placeholder, not the token")
	}
	// Forbidden call: the key has no api_tokens:read.
	_, res, _ = f.explore(f.token, "GET", "/v1/api-keys", "")
	if res["response"].(map[string]any)["status"] != float64(403) {
		t.Fatalf("explored forbidden call: %v", res["response"])
	}
	// The access map comes from the same Allows as verification, on the
	// nodes the key may list: it lists projects (projects:read), not
	// teams, targets or environments.
	cells := map[string]bool{}
	for _, c := range res["access"].([]any) {
		m := c.(map[string]any)
		n := m["node"].(map[string]any)
		cells[m["permission"].(string)+"@"+n["level"].(string)+":"+n["path"].(string)] = m["allowed"].(bool)
		if l := n["level"]; l != "organization" && l != "project" {
			t.Errorf("the map names a %s the key may not list: %v", l, m)
		}
	}
	want := map[string]bool{
		"secrets:read@project:billing":  false,
		"secrets:read@organization:":    false,
		"projects:read@project:billing": true,
		"projects:read@organization:":   true,
		"billing:read@organization:":    false,
	}
	for k, v := range want {
		got, ok := cells[k]
		if !ok || got != v {
			t.Errorf("access %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	hidden := hiddenOf(t, res)
	for _, w := range []struct {
		level, list, perm string
		count, allowed    int
	}{
		{"team", "teams:read", "secrets:read", 1, 0},
		{"target", "targets:read", "secrets:read", 1, 0},
		{"environment", "environments:read", "secrets:read", 1, 1},
	} {
		h, ok := hidden[w.level]
		if !ok || h.Count != w.count || h.ListPermission != w.list || h.perms[w.perm] != [2]int{w.allowed, w.count - w.allowed} {
			t.Errorf("access_hidden %s = %+v, want %d hidden, list permission %s, %s allowed on %d", w.level, h, w.count, w.list, w.perm, w.allowed)
		}
	}
	if _, ok := hidden["project"]; ok {
		t.Error("projects are listed, so none is hidden")
	}
}

// hidden is one level of access_hidden, decoded.
type hidden struct {
	Count          int
	ListPermission string
	perms          map[string][2]int // allowed, denied
}

func hiddenOf(t *testing.T, res map[string]any) map[string]hidden {
	t.Helper()
	list, ok := res["access_hidden"].([]any)
	if !ok {
		t.Fatalf("access_hidden is missing or not a list: %v", res["access_hidden"])
	}
	out := map[string]hidden{}
	for _, x := range list {
		m := x.(map[string]any)
		h := hidden{Count: int(m["count"].(float64)), ListPermission: m["list_permission"].(string), perms: map[string][2]int{}}
		for _, p := range m["permissions"].([]any) {
			pm := p.(map[string]any)
			h.perms[pm["permission"].(string)] = [2]int{int(pm["allowed"].(float64)), int(pm["denied"].(float64))}
		}
		out[m["level"].(string)] = h
	}
	return out
}

func TestExploreWithBody(t *testing.T) {
	f := setup(t)
	st, res, raw := f.explore(f.owner, "POST", "/v1/verify", `,"body":{"token":"x"}`)
	// The owner token does not belong to the explored key.
	if st != 403 || res["code"] != "forbidden" {
		t.Fatalf("foreign token: %d %s", st, raw)
	}
	st, res, raw = f.explore(f.token, "POST", "/v1/verify", `,"body":{"token":"x"}`)
	if st != 200 || res["response"].(map[string]any)["body"].(map[string]any)["code"] != "malformed" {
		t.Fatalf("explored POST with body: %d %s", st, raw)
	}
	if !strings.Contains(res["snippets"].(map[string]any)["curl"].(string), `--data '{"token":"x"}'`) {
		t.Fatalf("curl snippet: %v", res["snippets"])
	}
}

func TestExploreRefusesOpenProxyTricks(t *testing.T) {
	f := setup(t)
	tests := []struct {
		name, method, path, extra, field string
	}{
		{"absolute URL", "GET", "http://169.254.169.254/latest/meta-data", "", "path"},
		{"scheme-relative host", "GET", "//evil.example/v1/projects", "", "path"},
		{"scheme inside", "GET", "/v1/projects?next=http://evil", "", "path"},
		{"dot dot", "GET", "/v1/projects/../../admin", "", "path"},
		{"dot segment", "GET", "/v1/./projects", "", "path"},
		{"encoded dots", "GET", "/v1/%2e%2e/projects", "", "path"},
		{"encoded slash", "GET", "/v1/projects%2Fx", "", "path"},
		{"backslash", "GET", "/v1\\projects", "", "path"},
		{"CRLF header injection", "GET", "/v1/projects\r\nX-Evil: 1", "", "path"},
		{"userinfo", "GET", "/@evil.example/v1", "", "path"},
		{"no leading slash", "GET", "v1/projects", "", "path"},
		{"not a route", "GET", "/admin", "", "path"},
		{"wrong method for route", "DELETE", "/v1/projects", "", "path"},
		{"the explorer itself", "POST", "/v1/api-keys/key_x/explore", "", "path"},
		{"bad method", "TRACE", "/v1/projects", "", "method"},
		{"authorization header", "GET", "/v1/projects", `,"headers":{"Authorization":"Bearer x"}`, "headers.Authorization"},
		{"host header", "GET", "/v1/projects", `,"headers":{"Host":"evil"}`, "headers.Host"},
		{"header value injection", "GET", "/v1/projects/prj_x", `,"headers":{"If-Match":"\"1\"\r\nX-Evil: 1"}`, "headers.If-Match"},
		{"body on GET", "GET", "/v1/projects", `,"body":{"a":1}`, "body"},
		// RFC 9110 field values: visible ASCII, SP and HTAB only; a
		// client mistake is a 400 naming the header, never a failed call.
		{"If-Match with a control character", "PATCH", "/v1/projects/prj_x", `,"headers":{"If-Match":"\"1\"\u0001"}`, "headers.If-Match"},
		{"If-Match with escape", "PATCH", "/v1/projects/prj_x", `,"headers":{"If-Match":"\u001b[31m"}`, "headers.If-Match"},
		{"If-Match with DEL", "PATCH", "/v1/projects/prj_x", `,"headers":{"If-Match":"\"1\"\u007f"}`, "headers.If-Match"},
		{"If-Match with NUL", "PATCH", "/v1/projects/prj_x", `,"headers":{"If-Match":"\"1\u0000\""}`, "headers.If-Match"},
		{"If-Match with obs-text", "PATCH", "/v1/projects/prj_x", `,"headers":{"If-Match":"\"é\""}`, "headers.If-Match"},
		{"If-Match too long", "PATCH", "/v1/projects/prj_x", `,"headers":{"If-Match":"` + strings.Repeat("a", 1025) + `"}`, "headers.If-Match"},
		{"Content-Type with a control character", "POST", "/v1/teams", `,"headers":{"content-type":"application/json\u0002"}`, "headers.content-type"},
		{"path with non-ASCII", "GET", "/v1/projects/prj_é", "", "path"},
		{"path with a brace", "GET", "/v1/projects/{project}", "", "path"},
		{"path with a quote", "GET", "/v1/projects/\"x", "", "path"},
		{"query with a control character", "GET", "/v1/projects?limit=1\u0001", "", "path"},
		{"query with non-ASCII", "GET", "/v1/projects?cursor=é", "", "path"},
		{"query with a pipe", "GET", "/v1/projects?cursor=a|b", "", "path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			st, res, raw := f.explore(f.token, tt.method, tt.path, tt.extra)
			if st != 400 || res["code"] != "validation_failed" {
				t.Fatalf("%d %s", st, raw)
			}
			errs := res["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != tt.field {
				t.Fatalf("errors %v, want one on %s", errs, tt.field)
			}
		})
	}
}

func TestExploreOtherTokenAndKey(t *testing.T) {
	f := setup(t)
	if st, _, raw := f.explore(f.otherToken, "GET", "/v1/projects", ""); st != 403 {
		t.Fatalf("another key's token: %d %s", st, raw)
	}
	st, _, raw := f.do("/v1/api-keys/key_doesnotexist00/explore", f.owner, `{"token":"`+f.token+`","method":"GET","path":"/v1/projects"}`)
	if st != 404 {
		t.Fatalf("unknown key: %d %s", st, raw)
	}
	st, _, _ = f.do("/v1/api-keys/"+f.keyID+"/explore", f.token, `{"token":"`+f.token+`","method":"GET","path":"/v1/projects"}`)
	if st != 403 {
		t.Fatalf("explore without api_tokens:read: %d", st)
	}
}

// TestExploreNetwork: the answer says whether the explored key may be used
// from the address the explorer is called from (here loopback), and the
// explored call itself is held to the key's allowlist (it comes from the
// deployment's own address, loopback in this test).
func TestExploreNetwork(t *testing.T) {
	f := setup(t)
	for _, tc := range []struct {
		name, cidrs string
		allowed     bool
		status      float64 // of the explored call
	}{
		{"anywhere", "", true, 200},
		{"loopback", `,"allowed_cidrs":["127.0.0.0/8","::1/128"]`, true, 200},
		{"elsewhere", `,"allowed_cidrs":["203.0.113.0/24"]`, false, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := f.post("/v1/api-keys", f.owner, `{"name":"`+tc.name+`","preset":"read-only","expiration":"30d"`+tc.cidrs+`}`)
			body := `{"token":"` + k["token"].(string) + `","method":"GET","path":"/v1/projects"}`
			st, res, raw := f.do("/v1/api-keys/"+k["id"].(string)+"/explore", f.owner, body)
			if st != 200 {
				t.Fatalf("explore: %d %s", st, raw)
			}
			n, ok := res["network"].(map[string]any)
			if !ok || n["allowed"] != tc.allowed || (n["client_ip"] != "127.0.0.1" && n["client_ip"] != "::1") {
				t.Fatalf("network = %v, want allowed %v from loopback", res["network"], tc.allowed)
			}
			resp := res["response"].(map[string]any)
			if resp["status"] != tc.status {
				t.Fatalf("explored call: %v", resp)
			}
			if tc.status == 403 && resp["body"].(map[string]any)["code"] != "ip_not_allowed" {
				t.Errorf("explored call refused with %v", resp["body"])
			}
		})
	}
}
