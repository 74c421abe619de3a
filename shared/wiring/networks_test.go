package wiring_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/wiring"
)

// doFrom sends one request through the production router as if its
// connection came from remote (RemoteAddr: "ip:port"), and decodes the
// answer like do.
func (e *env) doFrom(remote, method, path, token, body string) response {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(w, req)
	out := response{status: w.Code, header: w.Header(), raw: w.Body.String()}
	if len(bytes.TrimSpace(w.Body.Bytes())) > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out.body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, w.Body)
		}
	}
	if w.Code >= 400 && (w.Header().Get("Content-Type") != "application/problem+json" || out.code() == "") {
		e.t.Fatalf("%s %s: %d without a problem: %s", method, path, w.Code, w.Body)
	}
	return out
}

// cidrs returns an answer's allowed_cidrs; absent is an error.
func (r response) cidrs(t *testing.T) []string {
	t.Helper()
	list, ok := r.body["allowed_cidrs"].([]any)
	if !ok {
		t.Fatalf("allowed_cidrs is missing or not a list: %s", r.raw)
	}
	out := make([]string, len(list))
	for i, v := range list {
		out[i], _ = v.(string)
	}
	return out
}

// TestNetworkAllowlistScenarios: allowed_cidrs through the production
// router on every engine: validated and normalized on create and edit,
// shown on every key answer, enforced on every use from the connection's
// address (403 ip_not_allowed) and on POST /v1/verify from client_ip, and
// held to no escalation.
func TestNetworkAllowlistScenarios(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		const inside, inside6, outside = "203.0.113.5:41000", "[2001:db8::5]:41000", "192.0.2.1:41000"

		// Validation: every bad entry named at once, the bound, host bits.
		r := e.do("POST", "/v1/api-keys", e.owner, `{"name":"x","allow_all":true,"expiration":"never","allowed_cidrs":["10.0.0.0/8","10.0.0.1/8","office","10.0.0.0/33"]}`, nil)
		fields, msgs := r.fieldErrors()
		if r.status != http.StatusBadRequest || !slices.Equal(fields, []string{"allowed_cidrs[1]:invalid", "allowed_cidrs[2]:invalid", "allowed_cidrs[3]:invalid"}) {
			t.Fatalf("bad entries: %d %v", r.status, fields)
		}
		if !strings.Contains(msgs["allowed_cidrs[1]"], "10.0.0.0/8") {
			t.Errorf("host bits message %q does not name the network", msgs["allowed_cidrs[1]"])
		}
		many := make([]string, 33)
		for i := range many {
			many[i] = fmt.Sprintf(`"10.%d.0.0/16"`, i)
		}
		r = e.do("POST", "/v1/api-keys", e.owner, `{"name":"x","allow_all":true,"expiration":"never","allowed_cidrs":[`+strings.Join(many, ",")+`]}`, nil)
		if fields, _ := r.fieldErrors(); r.status != http.StatusBadRequest || !slices.Equal(fields, []string{"allowed_cidrs:out_of_range"}) {
			t.Fatalf("33 networks: %d %v", r.status, fields)
		}
		r = e.do("POST", "/v1/api-keys", e.owner, `{"name":"x","allow_all":true,"expiration":"never","allowed_cidrs":[`+strings.Join(many[:32], ",")+`]}`, nil)
		if r.status != http.StatusCreated || len(r.cidrs(t)) != 32 {
			t.Fatalf("32 networks: %d %s", r.status, r.raw)
		}

		// Normalized: mapped unmapped, contained dropped, sorted; shown
		// by create, show and list; [] for anywhere.
		r = e.do("POST", "/v1/api-keys", e.owner, `{"name":"office","allow_all":true,"expiration":"never","allowed_cidrs":["2001:db8:1::/48","203.0.113.0/24","2001:db8::/32","::ffff:198.51.100.0/120","203.0.113.9"]}`, nil)
		want := []string{"198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"}
		if r.status != http.StatusCreated || !slices.Equal(r.cidrs(t), want) {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		officeID, office := r.str("id"), r.str("token")
		if got := e.do("GET", "/v1/api-keys/"+officeID, e.owner, "", nil); !slices.Equal(got.cidrs(t), want) {
			t.Errorf("show: %v", got.cidrs(t))
		}
		if got := e.do("GET", "/v1/api-keys/"+e.ownerKeyID(), e.owner, "", nil); len(got.cidrs(t)) != 0 {
			t.Errorf("an unrestricted key shows %v", got.cidrs(t))
		}
		list := e.do("GET", "/v1/api-keys?limit=100", e.owner, "", nil)
		for _, it := range list.body["items"].([]any) {
			if _, ok := it.(map[string]any)["allowed_cidrs"].([]any); !ok {
				t.Fatalf("a listed key lacks allowed_cidrs: %v", it)
			}
		}

		// Enforced on every use, from the connection's address.
		for _, tc := range []struct {
			remote string
			status int
		}{{inside, 200}, {inside6, 200}, {"198.51.100.200:1", 200}, {outside, 403}, {"[2001:db9::1]:1", 403}, {"127.0.0.1:1", 403}} {
			r := e.doFrom(tc.remote, "GET", "/v1/api-keys/"+officeID, office, "")
			if r.status != tc.status {
				t.Errorf("from %s: %d %s, want %d", tc.remote, r.status, r.raw, tc.status)
			}
			if tc.status == 403 && (r.code() != "ip_not_allowed" || !strings.Contains(r.str("detail"), strings.Split(strings.Trim(tc.remote, "["), "]")[0][:5])) {
				t.Errorf("from %s: %s", tc.remote, r.raw)
			}
		}

		// POST /v1/verify: from client_ip; without it the address is
		// unknown and a restricted key is refused.
		for _, tc := range []struct{ clientIP, code string }{
			{`,"client_ip":"203.0.113.77"`, "ok"},
			{`,"client_ip":"2001:db8::77"`, "ok"},
			{`,"client_ip":"192.0.2.1"`, "ip_not_allowed"},
			{"", "ip_not_allowed"},
		} {
			r := e.doFrom(inside, "POST", "/v1/verify", "", `{"token":"`+office+`","permission":"secrets:read"`+tc.clientIP+`}`)
			if r.status != 200 || r.str("code") != tc.code || (r.body["valid"] == true) != (tc.code == "ok") || (tc.code != "ok" && r.body["key"] != nil) {
				t.Errorf("verify%s: %d %s, want %s", tc.clientIP, r.status, r.raw, tc.code)
			}
		}
		r = e.do("POST", "/v1/verify", "", `{"token":"`+office+`","client_ip":"203.0.113.0/24"}`, nil)
		if fields, _ := r.fieldErrors(); r.status != 400 || !slices.Equal(fields, []string{"client_ip:invalid"}) {
			t.Errorf("verify with a bad client_ip: %d %s", r.status, r.raw)
		}
		if r := e.do("POST", "/v1/verify", "", `{"token":"`+e.owner+`","client_ip":"192.0.2.1"}`, nil); r.str("code") != "ok" {
			t.Errorf("an unrestricted key with client_ip: %s", r.raw)
		}

		// No escalation: the restricted key makes only keys inside its
		// networks, and manages only those.
		create := func(body string) response {
			return e.doFrom(inside, "POST", "/v1/api-keys", office, `{"name":"child","allow_all":true,"expiration":"never"`+body+`}`)
		}
		if r := create(""); r.status != 403 || r.code() != "forbidden" {
			t.Errorf("an unrestricted child: %d %s", r.status, r.raw)
		} else if fields, _ := r.fieldErrors(); !slices.Equal(fields, []string{"allowed_cidrs:forbidden"}) {
			t.Errorf("an unrestricted child: %v", fields)
		}
		if r := create(`,"allowed_cidrs":["203.0.113.128/25","10.0.0.0/8"]`); r.status != 403 {
			t.Errorf("a child outside: %d %s", r.status, r.raw)
		} else if fields, _ := r.fieldErrors(); !slices.Equal(fields, []string{"allowed_cidrs[1]:forbidden"}) {
			t.Errorf("a child outside: %v", fields)
		}
		r = create(`,"allowed_cidrs":["203.0.113.128/25","2001:db8:7::/48"]`)
		if r.status != http.StatusCreated {
			t.Fatalf("a child inside: %d %s", r.status, r.raw)
		}
		childID := r.str("id")
		if r := e.doFrom(inside, "PATCH", "/v1/api-keys/"+childID, office, `{"allowed_cidrs":[]}`); r.status != 403 {
			t.Errorf("widening the child to anywhere: %d %s", r.status, r.raw)
		}
		if r := e.doFrom(inside, "PATCH", "/v1/api-keys/"+childID, office, `{"name":"child 2"}`); r.status != 200 {
			t.Errorf("renaming the child: %d %s", r.status, r.raw)
		}
		if r := e.doFrom(inside, "PATCH", "/v1/api-keys/"+officeID, office, `{"allowed_cidrs":[]}`); r.status != 403 {
			t.Errorf("the restricted key widening itself: %d %s", r.status, r.raw)
		}
		victimID, _ := e.newKey(`{"name":"victim","preset":"read-only","expiration":"never"}`)
		if r := e.doFrom(inside, "DELETE", "/v1/api-keys/"+victimID, office, ""); r.status != 403 || !strings.Contains(r.str("detail"), "networks") {
			t.Errorf("deleting an unrestricted key: %d %s", r.status, r.raw)
		}

		// Edit: replaced, unchanged when absent, [] clears; the same list
		// is no change (same version).
		r = e.do("PATCH", "/v1/api-keys/"+childID, e.owner, `{"allowed_cidrs":["203.0.113.128/25","2001:db8:7::/48"]}`, nil)
		if r.status != 200 || r.body["version"] != float64(2) {
			t.Errorf("the same list: %d version %v", r.status, r.body["version"])
		}
		r = e.do("PATCH", "/v1/api-keys/"+childID, e.owner, `{"preset":"read-only"}`, nil)
		if r.status != 200 || !slices.Equal(r.cidrs(t), []string{"203.0.113.128/25", "2001:db8:7::/48"}) {
			t.Errorf("an access change keeps the networks: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/v1/api-keys/"+childID, e.owner, `{"allowed_cidrs":["198.51.100.0/24"]}`, nil)
		if r.status != 200 || !slices.Equal(r.cidrs(t), []string{"198.51.100.0/24"}) {
			t.Errorf("replaced: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/v1/api-keys/"+childID, e.owner, `{"allowed_cidrs":[]}`, nil)
		if r.status != 200 || len(r.cidrs(t)) != 0 {
			t.Errorf("cleared: %d %s", r.status, r.raw)
		}
	})
}

// ownerKeyID returns the id of org A's owner key.
func (e *env) ownerKeyID() string {
	e.t.Helper()
	r := e.do("POST", "/v1/verify", "", `{"token":"`+e.owner+`"}`, nil)
	k, _ := r.body["key"].(map[string]any)
	id, _ := k["id"].(string)
	return id
}

// TestTrustedProxies: X-Forwarded-For names the client only when the
// connection comes from a trusted proxy (through a real connection from
// 127.0.0.1 here); otherwise the connection's address decides.
func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		xff     string
		status  int
	}{
		{"no proxy trusted: the header is ignored", nil, "203.0.113.5", 403},
		{"loopback trusted: the header names the client", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "203.0.113.5", 200},
		{"loopback trusted: a forged left part does not count", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "203.0.113.5, 192.0.2.1", 403},
		{"loopback trusted, no header: the proxy itself", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *wiring.Options) { o.TrustedProxies = tc.trusted })
			_, tok := e.newKey(`{"name":"office","allow_all":true,"expiration":"never","allowed_cidrs":["203.0.113.0/24"]}`)
			hdr := map[string]string{}
			if tc.xff != "" {
				hdr["X-Forwarded-For"] = tc.xff
			}
			if r := e.do("GET", "/v1/permissions", tok, "", hdr); r.status != tc.status {
				t.Fatalf("%d %s, want %d", r.status, r.raw, tc.status)
			}
		})
	}
}
