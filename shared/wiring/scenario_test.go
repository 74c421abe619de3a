package wiring_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/wiring"
)

// TestScenarios runs every route of the API through the production router
// with every status it can answer.
func TestScenarios(t *testing.T) {
	e := newEnv(t)
	scopedID, scopedTok := e.newKey(`{"name":"reader","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"` + e.prod + `"}},{"permission":"projects:read","scope":{"level":"project","id":"` + e.project + `"}},{"permission":"targets:read","scope":{"level":"target","id":"` + e.target + `"}}],"expiration":"30d"}`)
	keysAdminID, keysAdmin := e.newKey(`{"name":"keys admin","permissions":[{"permission":"api_tokens:*"},{"permission":"secrets:read","scope":{"level":"project","id":"` + e.project + `"}}],"expiration":"90d"}`)
	victimID, _ := e.newKey(`{"name":"victim","preset":"read-only","expiration":"never"}`)
	emptyTeam := e.create("/v1/teams", `{"name":"empty"}`)
	foreignID, _ := e.newKeyIn(e.ownerB)

	vars := strings.NewReplacer(
		"{team}", e.team, "{project}", e.project, "{target}", e.target, "{prod}", e.prod, "{staging}", e.staging,
		"{scoped}", scopedID, "{victim}", victimID, "{admin}", keysAdminID, "{emptyTeam}", emptyTeam, "{foreign}", foreignID,
	)
	big := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	tgt := "/v1/projects/{project}/targets/{target}"
	envs := tgt + "/environments"

	type sc struct {
		name         string
		method, path string
		token        string
		body         string
		hdr          map[string]string
		status       int
		code         string
	}
	tests := []sc{
		{"health", "GET", "/healthz", "", "", nil, 200, ""},
		{"health wrong method", "POST", "/healthz", "", `{}`, nil, 405, "method_not_allowed"},
		{"unknown route", "GET", "/v1/nope", e.owner, "", nil, 404, "not_found"},

		{"permissions any valid token", "GET", "/v1/permissions", scopedTok, "", nil, 200, ""},
		{"permissions without token", "GET", "/v1/permissions", "", "", nil, 401, "unauthenticated"},
		{"permissions malformed token", "GET", "/v1/permissions", "dotenv_nope", "", nil, 401, "unauthenticated"},

		{"create", "POST", "/v1/api-keys", e.owner, `{"name":"ci","permissions":[{"permission":"secrets:read"}],"expiration":"60d"}`, nil, 201, ""},
		{"create preset", "POST", "/v1/api-keys", e.owner, `{"name":"ro","preset":"read-only","expires_at":"2027-01-31T00:00:00Z"}`, nil, 201, ""},
		{"create malformed json", "POST", "/v1/api-keys", e.owner, `{"name":`, nil, 400, "malformed_json"},
		{"create not an object", "POST", "/v1/api-keys", e.owner, `[1]`, nil, 400, "malformed_json"},
		{"create two values", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only","expiration":"30d"} {}`, nil, 400, "malformed_json"},
		{"create unknown field", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only","expiration":"30d","admin":true}`, nil, 400, "validation_failed"},
		{"create wrong type", "POST", "/v1/api-keys", e.owner, `{"name":5,"preset":"read-only","expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create no name", "POST", "/v1/api-keys", e.owner, `{"preset":"read-only","expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create long name", "POST", "/v1/api-keys", e.owner, `{"name":"` + strings.Repeat("n", 101) + `","preset":"read-only","expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create control char name", "POST", "/v1/api-keys", e.owner, `{"name":"a\u0007b","preset":"read-only","expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create no permissions", "POST", "/v1/api-keys", e.owner, `{"name":"a","expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create empty permissions", "POST", "/v1/api-keys", e.owner, `{"name":"a","permissions":[],"expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create two access choices", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only","allow_all":true,"expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create unknown preset", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"god","expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create no expiration", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only"}`, nil, 400, "validation_failed"},
		{"create both expirations", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only","expiration":"30d","expires_at":"2030-01-01T00:00:00Z"}`, nil, 400, "validation_failed"},
		{"create past expiry", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only","expires_at":"2020-01-01T00:00:00Z"}`, nil, 400, "validation_failed"},
		{"create bad expiry format", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only","expires_at":"tomorrow"}`, nil, 400, "validation_failed"},
		{"create bad expiration", "POST", "/v1/api-keys", e.owner, `{"name":"a","preset":"read-only","expiration":"7d"}`, nil, 400, "validation_failed"},
		{"create unknown permission", "POST", "/v1/api-keys", e.owner, `{"name":"a","permissions":[{"permission":"secrets:steal"}],"expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create scoped create permission", "POST", "/v1/api-keys", e.owner, `{"name":"a","permissions":[{"permission":"projects:create","scope":{"level":"team","id":"{team}"}}],"expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create too deep scope", "POST", "/v1/api-keys", e.owner, `{"name":"a","permissions":[{"permission":"projects:read","scope":{"level":"environment","id":"{prod}"}}],"expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create scope id missing", "POST", "/v1/api-keys", e.owner, `{"name":"a","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"env_doesnotexist"}}],"expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create scope level mismatch", "POST", "/v1/api-keys", e.owner, `{"name":"a","permissions":[{"permission":"secrets:read","scope":{"level":"project","id":"{prod}"}}],"expiration":"30d"}`, nil, 400, "validation_failed"},
		{"create too large", "POST", "/v1/api-keys", e.owner, big, nil, 413, "payload_too_large"},
		{"create not json", "POST", "/v1/api-keys", e.owner, `name=a`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"create without token", "POST", "/v1/api-keys", "", `{}`, nil, 401, "unauthenticated"},
		{"create without permission", "POST", "/v1/api-keys", scopedTok, `{"name":"a","preset":"read-only","expiration":"30d"}`, nil, 403, "forbidden"},
		{"create escalation: allow-all", "POST", "/v1/api-keys", keysAdmin, `{"name":"a","allow_all":true,"expiration":"30d"}`, nil, 403, "forbidden"},
		{"create escalation: wider scope", "POST", "/v1/api-keys", keysAdmin, `{"name":"a","permissions":[{"permission":"secrets:read"}],"expiration":"30d"}`, nil, 403, "forbidden"},
		{"create escalation: never expires", "POST", "/v1/api-keys", keysAdmin, `{"name":"a","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"{prod}"}}],"expiration":"never"}`, nil, 403, "forbidden"},
		{"create within own grants", "POST", "/v1/api-keys", keysAdmin, `{"name":"a","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"{prod}"}}],"expiration":"30d"}`, nil, 201, ""},

		{"list", "GET", "/v1/api-keys?limit=2", e.owner, "", nil, 200, ""},
		{"list bad limit", "GET", "/v1/api-keys?limit=0", e.owner, "", nil, 400, "validation_failed"},
		{"list huge limit", "GET", "/v1/api-keys?limit=1000", e.owner, "", nil, 400, "validation_failed"},
		{"list bad cursor", "GET", "/v1/api-keys?cursor=garbage", e.owner, "", nil, 400, "validation_failed"},
		{"list forbidden", "GET", "/v1/api-keys", scopedTok, "", nil, 403, "forbidden"},
		{"list no token", "GET", "/v1/api-keys", "", "", nil, 401, "unauthenticated"},
		{"list wrong method", "PUT", "/v1/api-keys", e.owner, `{}`, nil, 405, "method_not_allowed"},

		{"show", "GET", "/v1/api-keys/{scoped}", e.owner, "", nil, 200, ""},
		{"show missing", "GET", "/v1/api-keys/key_doesnotexist00", e.owner, "", nil, 404, "not_found"},
		{"show other org", "GET", "/v1/api-keys/{scoped}", e.ownerB, "", nil, 404, "not_found"},
		{"show another org's key", "GET", "/v1/api-keys/{foreign}", e.owner, "", nil, 404, "not_found"},
		{"rotate another org's key", "POST", "/v1/api-keys/{foreign}/rotate", e.owner, "", nil, 404, "not_found"},
		{"show forbidden", "GET", "/v1/api-keys/{scoped}", scopedTok, "", nil, 403, "forbidden"},

		{"edit", "PATCH", "/v1/api-keys/{victim}", e.owner, `{"name":"renamed"}`, nil, 200, ""},
		{"edit stale if-match", "PATCH", "/v1/api-keys/{victim}", e.owner, `{"name":"again"}`, map[string]string{"If-Match": `"1"`}, 409, "conflict"},
		{"edit bad if-match", "PATCH", "/v1/api-keys/{victim}", e.owner, `{"name":"again"}`, map[string]string{"If-Match": `soon`}, 400, "validation_failed"},
		{"edit bad name", "PATCH", "/v1/api-keys/{victim}", e.owner, `{"name":""}`, nil, 400, "validation_failed"},
		{"edit unknown field", "PATCH", "/v1/api-keys/{victim}", e.owner, `{"token":"x"}`, nil, 400, "validation_failed"},
		{"edit other org", "PATCH", "/v1/api-keys/{victim}", e.ownerB, `{"name":"mine"}`, nil, 404, "not_found"},
		{"edit forbidden", "PATCH", "/v1/api-keys/{victim}", scopedTok, `{"name":"x"}`, nil, 403, "forbidden"},
		{"edit escalation", "PATCH", "/v1/api-keys/{admin}", keysAdmin, `{"allow_all":true}`, nil, 403, "forbidden"},
		{"edit too large", "PATCH", "/v1/api-keys/{victim}", e.owner, big, nil, 413, "payload_too_large"},
		{"edit not json", "PATCH", "/v1/api-keys/{victim}", e.owner, `x`, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},

		{"rotate stale", "POST", "/v1/api-keys/{victim}/rotate", e.owner, "", map[string]string{"If-Match": `"1"`}, 409, "conflict"},
		{"rotate missing", "POST", "/v1/api-keys/key_doesnotexist00/rotate", e.owner, "", nil, 404, "not_found"},
		{"rotate forbidden", "POST", "/v1/api-keys/{victim}/rotate", scopedTok, "", nil, 403, "forbidden"},
		{"rotate stronger key", "POST", "/v1/api-keys/{victim}/rotate", keysAdmin, "", nil, 403, "forbidden"},
		{"rotate", "POST", "/v1/api-keys/{victim}/rotate", e.owner, "", nil, 200, ""},

		{"delete forbidden", "DELETE", "/v1/api-keys/{victim}", scopedTok, "", nil, 403, "forbidden"},
		{"delete other org", "DELETE", "/v1/api-keys/{victim}", e.ownerB, "", nil, 404, "not_found"},
		{"delete", "DELETE", "/v1/api-keys/{victim}", e.owner, "", nil, 204, ""},
		{"delete twice", "DELETE", "/v1/api-keys/{victim}", e.owner, "", nil, 404, "not_found"},

		{"verify ok", "POST", "/v1/verify", "", `{"token":"` + scopedTok + `","permission":"secrets:read","resource":{"environment":"{prod}"}}`, nil, 200, ""},
		{"verify malformed json", "POST", "/v1/verify", "", `{`, nil, 400, "malformed_json"},
		{"verify unknown permission", "POST", "/v1/verify", "", `{"token":"x","permission":"nope:nope"}`, nil, 400, "validation_failed"},
		{"verify not json", "POST", "/v1/verify", "", `x`, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"verify too large", "POST", "/v1/verify", "", `{"token":"` + strings.Repeat("a", 70<<10) + `"}`, nil, 413, "payload_too_large"},

		{"org", "GET", "/v1/organization", scopedTok, "", nil, 403, "forbidden"},
		{"org owner", "GET", "/v1/organization", e.owner, "", nil, 200, ""},
		{"org rename", "PATCH", "/v1/organization", e.owner, `{"name":"Org A2"}`, nil, 200, ""},
		{"org rename bad", "PATCH", "/v1/organization", e.owner, `{"name":" "}`, nil, 400, "validation_failed"},

		{"teams list", "GET", "/v1/teams", e.owner, "", nil, 200, ""},
		{"teams list forbidden", "GET", "/v1/teams", scopedTok, "", nil, 403, "forbidden"},
		{"team create dup", "POST", "/v1/teams", e.owner, `{"name":"platform"}`, nil, 409, "conflict"},
		{"team create bad", "POST", "/v1/teams", e.owner, `{}`, nil, 400, "validation_failed"},
		{"team get", "GET", "/v1/teams/{team}", e.owner, "", nil, 200, ""},
		{"team get other org", "GET", "/v1/teams/{team}", e.ownerB, "", nil, 404, "not_found"},
		{"team rename", "PATCH", "/v1/teams/{emptyTeam}", e.owner, `{"name":"empty2"}`, nil, 200, ""},
		{"team rename clash", "PATCH", "/v1/teams/{emptyTeam}", e.owner, `{"name":"platform"}`, nil, 409, "conflict"},
		{"team delete with children", "DELETE", "/v1/teams/{team}", e.owner, "", nil, 409, "conflict"},
		{"team delete", "DELETE", "/v1/teams/{emptyTeam}", e.owner, "", nil, 204, ""},
		{"team delete again", "DELETE", "/v1/teams/{emptyTeam}", e.owner, "", nil, 404, "not_found"},

		{"projects list scoped", "GET", "/v1/projects", scopedTok, "", nil, 200, ""},
		{"project get scoped", "GET", "/v1/projects/{project}", scopedTok, "", nil, 200, ""},
		{"project create no team", "POST", "/v1/projects", e.owner, `{"name":"p"}`, nil, 400, "validation_failed"},
		{"project create unknown team", "POST", "/v1/projects", e.owner, `{"name":"p","team_id":"team_nope"}`, nil, 400, "validation_failed"},
		{"project create forbidden", "POST", "/v1/projects", scopedTok, `{"name":"p","team_id":"{team}"}`, nil, 403, "forbidden"},
		{"project update forbidden", "PATCH", "/v1/projects/{project}", scopedTok, `{"name":"p"}`, nil, 403, "forbidden"},
		{"project move refused", "PATCH", "/v1/projects/{project}", e.owner, `{"team_id":"{team}"}`, nil, 400, "validation_failed"},
		{"project missing", "GET", "/v1/projects/prj_nope", scopedTok, "", nil, 404, "not_found"},

		{"targets list", "GET", "/v1/projects/{project}/targets", scopedTok, "", nil, 200, ""},
		{"target get", "GET", tgt, scopedTok, "", nil, 200, ""},
		{"target under wrong project", "GET", "/v1/projects/prj_other/targets/{target}", e.owner, "", nil, 404, "not_found"},
		{"target delete with children", "DELETE", tgt, e.owner, "", nil, 409, "conflict"},

		{"environments list", "GET", envs, e.owner, "", nil, 200, ""},
		{"environment get allowed", "GET", envs + "/{prod}", e.owner, "", nil, 200, ""},
		{"environment get forbidden", "GET", envs + "/{prod}", scopedTok, "", nil, 403, "forbidden"},
		{"environment create dup", "POST", envs, e.owner, `{"name":"production"}`, nil, 409, "conflict"},
		{"environment rename", "PATCH", envs + "/{staging}", e.owner, `{"name":"stage"}`, nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do(tt.method, vars.Replace(tt.path), tt.token, vars.Replace(tt.body), tt.hdr)
			code := ""
			if r.status >= 400 {
				code = r.code()
			}
			if r.status != tt.status || code != tt.code {
				t.Fatalf("%s %s = %d %q, want %d %q: %s", tt.method, tt.path, r.status, r.code(), tt.status, tt.code, r.raw)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control = %q, want no-store", cc)
			}
			if strings.Contains(r.raw, "token") && tt.status < 300 && r.str("token") != "" && !strings.HasSuffix(tt.name, "rotate") && tt.method != "POST" {
				t.Fatal("a token in a response other than create or rotate")
			}
		})
	}
}

func (e *env) newKeyIn(owner string) (string, string) {
	r := e.do("POST", "/v1/api-keys", owner, `{"name":"b","preset":"read-only","expiration":"30d"}`, nil)
	if r.status != 201 {
		e.t.Fatalf("create in org B: %d %s", r.status, r.raw)
	}
	return r.str("id"), r.str("token")
}

func TestVerifyDecisions(t *testing.T) {
	e := newEnv(t)
	_, tok := e.newKey(`{"name":"prod reader","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"` + e.prod + `"}}],"expires_at":"2026-12-01T00:00:00Z"}`)
	_, tokB := e.newKeyIn(e.ownerB)
	bad := tok[:len(tok)-8] + "AAAAAAAA"     // checksum breaks: malformed
	fresh, err := token.NewGenerator().New() // well-formed, but no key has it
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body    string
		valid, allowd bool
		code          string
	}{
		{"allowed on its env", `{"token":"` + tok + `","permission":"secrets:read","resource":{"environment":"` + e.prod + `"}}`, true, true, "ok"},
		{"allowed with full path", `{"token":"` + tok + `","permission":"secrets:read","resource":{"project":"` + e.project + `","target":"` + e.target + `","environment":"` + e.prod + `"}}`, true, true, "ok"},
		{"forbidden on sibling env", `{"token":"` + tok + `","permission":"secrets:read","resource":{"environment":"` + e.staging + `"}}`, true, false, "forbidden"},
		{"forbidden on parent target", `{"token":"` + tok + `","permission":"secrets:read","resource":{"target":"` + e.target + `"}}`, true, false, "forbidden"},
		{"forbidden other permission", `{"token":"` + tok + `","permission":"secrets:write","resource":{"environment":"` + e.prod + `"}}`, true, false, "forbidden"},
		{"inconsistent path", `{"token":"` + tok + `","permission":"secrets:read","resource":{"project":"prj_other","environment":"` + e.prod + `"}}`, true, false, "forbidden"},
		{"org-wide key, other org's env", `{"token":"` + tokB + `","permission":"secrets:read","resource":{"environment":"` + e.prod + `"}}`, true, false, "forbidden"},
		{"valid without permission", `{"token":"` + tok + `"}`, true, true, "ok"},
		{"malformed", `{"token":"` + bad + `"}`, false, false, "malformed"},
		{"empty", `{"token":""}`, false, false, "malformed"},
		{"unknown selector", `{"token":"` + fresh.Token + `"}`, false, false, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do("POST", "/v1/verify", "", tt.body, nil)
			if r.status != 200 || r.body["valid"] != tt.valid || r.body["allowed"] != tt.allowd || r.str("code") != tt.code {
				t.Fatalf("verify = %d %s", r.status, r.raw)
			}
			if !tt.valid && r.body["key"] != nil {
				t.Fatal("an invalid token must reveal nothing about a key")
			}
			if tt.code == "forbidden" && r.body["missing"] == nil {
				t.Fatal("forbidden must name what is missing")
			}
		})
	}
	t.Run("expired while still stored", func(t *testing.T) {
		e.t = t
		e.clock.Advance(5 * 24 * time.Hour)
		r := e.do("POST", "/v1/verify", "", `{"token":"`+tok+`"}`, nil)
		if r.str("code") != "ok" {
			t.Fatalf("before expiry: %s", r.raw)
		}
		e.clock.Advance(2 * 24 * time.Hour)
		r = e.do("POST", "/v1/verify", "", `{"token":"`+tok+`"}`, nil)
		if r.body["valid"] != false || r.str("code") != "expired" || r.body["key"] != nil {
			t.Fatalf("after expiry: %s", r.raw)
		}
		if r := e.do("GET", "/v1/permissions", tok, "", nil); r.status != 401 {
			t.Fatalf("expired key on a route: %d", r.status)
		}
	})
}

func TestRotationAndDeletionTakeEffectAtOnce(t *testing.T) {
	e := newEnv(t)
	id, old := e.newKey(`{"name":"ci","preset":"read-only","expiration":"30d"}`)
	const n = 8
	var wg sync.WaitGroup
	tokens := make(chan string, n)
	statuses := make(chan int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("POST", "/v1/api-keys/"+id+"/rotate", e.owner, "", map[string]string{"If-Match": `"1"`})
			statuses <- r.status
			if r.status == 200 {
				tokens <- r.str("token")
			}
		}()
	}
	wg.Wait()
	close(tokens)
	close(statuses)
	wins := 0
	for s := range statuses {
		if s == 200 {
			wins++
		} else if s != 409 {
			t.Fatalf("concurrent rotate answered %d", s)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent rotations with the same If-Match won, want exactly 1", wins)
	}
	newTok := <-tokens
	if e.verifyCode(old) != "not_found" || e.verifyCode(newTok) != "ok" {
		t.Fatal("old token must die and the new one work at once")
	}
	if r := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil); strings.Contains(r.raw, newTok) || r.body["rotated_at"] == nil || r.header.Get("ETag") != `"2"` {
		t.Fatalf("show after rotate: %s %v", r.raw, r.header)
	}
	if r := e.do("DELETE", "/v1/api-keys/"+id, e.owner, "", nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if e.verifyCode(newTok) != "not_found" {
		t.Fatal("a deleted key's token must die at once")
	}
	if r := e.do("GET", "/v1/permissions", newTok, "", nil); r.status != 401 {
		t.Fatalf("deleted key on a route: %d", r.status)
	}
}

func TestConcurrentEditsLoseNothing(t *testing.T) {
	e := newEnv(t)
	id, _ := e.newKey(`{"name":"k","preset":"read-only","expiration":"30d"}`)
	const n = 6
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Without If-Match every edit applies to the current version.
			r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, fmt.Sprintf(`{"name":"k%d"}`, i), nil)
			if r.status != 200 {
				t.Errorf("edit %d: %d %s", i, r.status, r.raw)
			}
		}(i)
	}
	wg.Wait()
	r := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil)
	if r.body["version"] != float64(1+n) {
		t.Fatalf("after %d edits version = %v, want %d: an update was lost", n, r.body["version"], 1+n)
	}
}

func TestListPagesAndTenancy(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.clock.Advance(time.Second)
		e.newKey(fmt.Sprintf(`{"name":"k%d","preset":"read-only","expiration":"30d"}`, i))
	}
	seen := map[string]bool{}
	var names []string
	cursor := ""
	for page := 0; ; page++ {
		path := "/v1/api-keys?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.do("GET", path, e.owner, "", nil)
		if r.status != 200 {
			t.Fatalf("list: %s", r.raw)
		}
		for _, it := range r.body["items"].([]any) {
			k := it.(map[string]any)
			if seen[k["id"].(string)] || k["token"] != nil {
				t.Fatalf("key listed twice or with a token: %v", k)
			}
			seen[k["id"].(string)] = true
			names = append(names, k["name"].(string))
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 6 || names[0] != "k4" || names[len(names)-1] != "Owner key" {
		t.Fatalf("listing = %v, want 6 keys newest first", names)
	}
	r := e.do("GET", "/v1/api-keys", e.ownerB, "", nil)
	if items := r.body["items"].([]any); len(items) != 1 {
		t.Fatalf("org B sees %d keys, want only its owner key", len(items))
	}
	if r := e.do("GET", "/v1/api-keys?limit=2&cursor="+cursor, e.ownerB, "", nil); r.status != 400 {
		t.Fatalf("org A's cursor used by org B: %d %s", r.status, r.raw)
	}
}

func TestShowNamesScopes(t *testing.T) {
	e := newEnv(t)
	id, _ := e.newKey(`{"name":"scoped","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"` + e.prod + `"}},{"permission":"teams:read","scope":{"level":"team","id":"` + e.team + `"}}],"expiration":"1y"}`)
	r := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil)
	perms := r.body["permissions"].([]any)
	s0 := perms[0].(map[string]any)["scope"].(map[string]any)
	s1 := perms[1].(map[string]any)["scope"].(map[string]any)
	if s0["path"] != "billing / web / production" || s0["level"] != "environment" || s1["path"] != "platform" {
		t.Fatalf("scope paths: %v %v", s0, s1)
	}
	if r.str("status") != "active" || r.header.Get("ETag") != `"1"` || !strings.HasPrefix(r.str("token_hint"), "dotenv_") {
		t.Fatalf("show: %s", r.raw)
	}
}

func (e *env) verifyCode(tok string) string {
	return e.do("POST", "/v1/verify", "", `{"token":"`+tok+`"}`, nil).str("code")
}

// fieldErrors returns a problem's field errors as "field:code" and the
// messages by field.
func (r response) fieldErrors() ([]string, map[string]string) {
	var out []string
	msgs := map[string]string{}
	list, _ := r.body["errors"].([]any)
	for _, it := range list {
		fe, _ := it.(map[string]any)
		f, _ := fe["field"].(string)
		c, _ := fe["code"].(string)
		m, _ := fe["message"].(string)
		out = append(out, f+":"+c)
		msgs[f] = m
	}
	return out, msgs
}

// TestBoundedExpiry: an expiry is at most 5 years ahead, on create and edit;
// a far offset that lands in year 10000 in UTC is refused, not stored.
func TestBoundedExpiry(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		id, _ := e.newKey(`{"name":"k","preset":"read-only","expiration":"30d"}`)
		latest := e.clock.Now().AddDate(5, 0, 0)
		tests := []struct {
			name, method, path, body string
			status                   int
		}{
			{"create year 10000", "POST", "/v1/api-keys", `{"name":"a","preset":"read-only","expires_at":"9999-12-31T23:59:59-23:59"}`, 400},
			{"create year 9999", "POST", "/v1/api-keys", `{"name":"a","preset":"read-only","expires_at":"9999-12-31T23:59:59Z"}`, 400},
			{"create just past the bound", "POST", "/v1/api-keys", `{"name":"a","preset":"read-only","expires_at":"` + latest.Add(time.Millisecond).Format(time.RFC3339Nano) + `"}`, 400},
			{"create at the bound", "POST", "/v1/api-keys", `{"name":"a","preset":"read-only","expires_at":"` + latest.Format(time.RFC3339Nano) + `"}`, 201},
			{"edit year 10000", "PATCH", "/v1/api-keys/" + id, `{"expires_at":"9999-12-31T23:59:59-23:59"}`, 400},
			{"edit past the bound", "PATCH", "/v1/api-keys/" + id, `{"expires_at":"2040-01-01T00:00:00Z"}`, 400},
			{"edit at the bound", "PATCH", "/v1/api-keys/" + id, `{"expires_at":"` + latest.Format(time.RFC3339) + `"}`, 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				r := e.do(tt.method, tt.path, e.owner, tt.body, nil)
				if r.status != tt.status {
					t.Fatalf("%s = %d, want %d: %s", tt.name, r.status, tt.status, r.raw)
				}
				if tt.status != 400 {
					return
				}
				fields, msgs := r.fieldErrors()
				if r.code() != "validation_failed" || !slices.Equal(fields, []string{"expires_at:out_of_range"}) ||
					!strings.Contains(msgs["expires_at"], "5 years") || !strings.Contains(msgs["expires_at"], "2031-11-25T12:00:00.000Z") {
					t.Fatalf("refusal = %s", r.raw)
				}
			})
		}
		if r := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil); r.str("expires_at") != "2031-11-25T12:00:00.000Z" {
			t.Fatalf("after the edits: %s", r.raw)
		}
	})
}

// TestLastOwnerKey: the organization's last owner key (allow-all, never
// expiring) cannot be deleted, narrowed or given an expiry, by itself or by
// another allow-all key; once another owner key exists it can.
func TestLastOwnerKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		ownerID := e.do("GET", "/v1/api-keys?limit=1", e.owner, "", nil).body["items"].([]any)[0].(map[string]any)["id"].(string)
		// An allow-all key that expires is no owner key: it does not count.
		e.newKey(`{"name":"temp admin","allow_all":true,"expiration":"30d"}`)
		refused := []struct {
			name, method, body, token string
		}{
			{"delete itself", "DELETE", "", e.owner},
			{"narrowed to a preset", "PATCH", `{"preset":"read-only"}`, e.owner},
			{"narrowed to permissions", "PATCH", `{"permissions":[{"permission":"secrets:read"}]}`, e.owner},
			{"given an expiry", "PATCH", `{"expiration":"30d"}`, e.owner},
			{"given an expiry at", "PATCH", `{"expires_at":"2027-01-01T00:00:00Z"}`, e.owner},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				r := e.do(tt.method, "/v1/api-keys/"+ownerID, tt.token, tt.body, nil)
				if r.status != 409 || r.code() != "last_owner_key" || !strings.Contains(r.str("detail"), "create another allow-all key") || !strings.Contains(r.str("detail"), "edge recover") {
					t.Fatalf("%s = %d %s, want 409 last_owner_key", tt.name, r.status, r.raw)
				}
			})
		}
		t.Run("renaming is fine", func(t *testing.T) {
			e.t = t
			if r := e.do("PATCH", "/v1/api-keys/"+ownerID, e.owner, `{"name":"Owner"}`, nil); r.status != 200 {
				t.Fatalf("rename: %d %s", r.status, r.raw)
			}
		})
		t.Run("with a second owner", func(t *testing.T) {
			e.t = t
			secondID, second := e.newKey(`{"name":"second owner","allow_all":true,"expiration":"never"}`)
			if r := e.do("PATCH", "/v1/api-keys/"+ownerID, e.owner, `{"expiration":"30d"}`, nil); r.status != 200 {
				t.Fatalf("expiry with a second owner: %d %s", r.status, r.raw)
			}
			// The first is no owner any more: the second is the last one.
			if r := e.do("DELETE", "/v1/api-keys/"+secondID, second, "", nil); r.status != 409 || r.code() != "last_owner_key" {
				t.Fatalf("deleting the last owner: %d %s", r.status, r.raw)
			}
			if r := e.do("DELETE", "/v1/api-keys/"+ownerID, second, "", nil); r.status != 204 {
				t.Fatalf("deleting an expiring allow-all key with an owner left: %d %s", r.status, r.raw)
			}
		})
	})
}

// TestManagingIsHeldToNoEscalation: a key edits, rotates or deletes only
// keys its own access and expiry cover; it may always delete itself.
func TestManagingIsHeldToNoEscalation(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		adminID, admin := e.newKey(`{"name":"keys admin","permissions":[{"permission":"api_tokens:*"},{"permission":"secrets:read","scope":{"level":"project","id":"` + e.project + `"}}],"expiration":"90d"}`)
		wideID, _ := e.newKey(`{"name":"wide","permissions":[{"permission":"secrets:read"}],"expiration":"30d"}`)
		longID, _ := e.newKey(`{"name":"long","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"` + e.prod + `"}}],"expiration":"1y"}`)
		tests := []struct {
			name, method, path, body string
			status                   int
			detail                   string
		}{
			{"edit a wider key", "PATCH", "/v1/api-keys/" + wideID, `{"name":"mine now"}`, 403, "your secrets:read is scoped to project " + e.project + ", narrower than the asked scope (the whole organization)"},
			{"rotate a wider key", "POST", "/v1/api-keys/" + wideID + "/rotate", "", 403, "narrower than the asked scope"},
			{"delete a wider key", "DELETE", "/v1/api-keys/" + wideID, "", 403, "narrower than the asked scope"},
			{"delete a longer-lived key", "DELETE", "/v1/api-keys/" + longID, "", 403, "your key expires at"},
			{"edit a longer-lived key", "PATCH", "/v1/api-keys/" + longID, `{"expiration":"30d"}`, 403, "your key expires at"},
			{"delete itself", "DELETE", "/v1/api-keys/" + adminID, "", 204, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				r := e.do(tt.method, tt.path, admin, tt.body, nil)
				if r.status != tt.status || !strings.Contains(r.str("detail"), tt.detail) {
					t.Fatalf("%s = %d %s, want %d %q", tt.name, r.status, r.raw, tt.status, tt.detail)
				}
				if tt.status == 403 && r.code() != "forbidden" {
					t.Fatalf("code %s", r.code())
				}
			})
		}
		t.Run("within its cover", func(t *testing.T) {
			e.t = t
			_, admin2 := e.newKey(`{"name":"keys admin 2","permissions":[{"permission":"api_tokens:*"},{"permission":"secrets:read","scope":{"level":"project","id":"` + e.project + `"}}],"expiration":"90d"}`)
			id := e.do("POST", "/v1/api-keys", admin2, `{"name":"mine","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"`+e.prod+`"}}],"expiration":"30d"}`, nil).str("id")
			for _, c := range []struct{ method, path, body string }{
				{"PATCH", "/v1/api-keys/" + id, `{"name":"renamed"}`},
				{"POST", "/v1/api-keys/" + id + "/rotate", ""},
				{"DELETE", "/v1/api-keys/" + id, ""},
			} {
				if r := e.do(c.method, c.path, admin2, c.body, nil); r.status >= 300 {
					t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.raw)
				}
			}
		})
	})
}

// TestExpiredKeyIsFinal: an expired key can be shown and deleted, never
// edited (not even revived) or rotated.
func TestExpiredKeyIsFinal(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		id, _ := e.newKey(`{"name":"short","preset":"read-only","expires_at":"2026-11-26T12:00:00Z"}`)
		e.clock.Advance(2 * 24 * time.Hour)
		tests := []struct {
			name, method, path, body string
			status                   int
			code                     string
		}{
			{"revive", "PATCH", "/v1/api-keys/" + id, `{"expiration":"30d"}`, 409, "key_expired"},
			{"rename", "PATCH", "/v1/api-keys/" + id, `{"name":"x"}`, 409, "key_expired"},
			{"rotate", "POST", "/v1/api-keys/" + id + "/rotate", "", 409, "key_expired"},
			{"show", "GET", "/v1/api-keys/" + id, "", 200, ""},
			{"delete", "DELETE", "/v1/api-keys/" + id, "", 204, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				r := e.do(tt.method, tt.path, e.owner, tt.body, nil)
				if r.status != tt.status || (tt.code != "" && (r.code() != tt.code || !strings.Contains(r.str("detail"), "can only be shown or deleted"))) {
					t.Fatalf("%s = %d %s, want %d %s", tt.name, r.status, r.raw, tt.status, tt.code)
				}
				if tt.name == "show" && r.str("status") != "expired" {
					t.Fatalf("show: %s", r.raw)
				}
			})
		}
	})
}

// TestCanonicalKeys: grants are normalized, a write that changes nothing
// keeps the version and ETag, and every time has one format.
func TestCanonicalKeys(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		e.clock.Advance(1234567 * time.Microsecond) // a time with sub-millisecond digits
		prodRead := `{"permission":"secrets:read","scope":{"level":"environment","id":"` + e.prod + `"}}`
		r := e.do("POST", "/v1/api-keys", e.owner, `{"name":"k","permissions":[`+prodRead+`,{"permission":"teams:read"},{"permission":"secrets:read","scope":{"level":"project","id":"`+e.project+`"}},{"permission":"teams:read"}],"expires_at":"2027-01-31T00:00:00.123456Z"}`, nil)
		if r.status != 201 {
			t.Fatalf("create: %s", r.raw)
		}
		id := r.str("id")
		perms, _ := json.Marshal(r.body["permissions"])
		want := `[{"permission":"secrets:read","scope":{"id":"` + e.project + `","level":"project","path":"billing"}},{"permission":"teams:read","scope":null}]`
		if string(perms) != want {
			t.Fatalf("permissions = %s\nwant %s", perms, want)
		}
		timeRE := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
		for _, f := range []string{"created_at", "updated_at", "expires_at"} {
			if !timeRE.MatchString(r.str(f)) {
				t.Fatalf("%s = %q, want RFC 3339 UTC with three fraction digits", f, r.str(f))
			}
		}
		if r.str("expires_at") != "2027-01-31T00:00:00.123Z" || r.str("created_at") != "2026-11-25T12:00:01.234Z" {
			t.Fatalf("times: %s", r.raw)
		}
		etag := r.header.Get("ETag")
		e.clock.Advance(time.Minute)
		noops := []struct{ name, body string }{
			{"empty body", `{}`},
			{"same name", `{"name":"k"}`},
			{"same grants in another order, with duplicates", `{"permissions":[{"permission":"teams:read"},` + prodRead + `,{"permission":"secrets:read","scope":{"level":"project","id":"` + e.project + `"}}]}`},
			{"same expiry", `{"expires_at":"2027-01-31T01:00:00.123+01:00"}`},
			{"everything the same", `{"name":"k","permissions":[{"permission":"teams:read"},{"permission":"secrets:read","scope":{"level":"project","id":"` + e.project + `"}}],"expires_at":"2027-01-31T00:00:00.123Z"}`},
		}
		for _, tt := range noops {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, tt.body, map[string]string{"If-Match": etag})
				if r.status != 200 || r.header.Get("ETag") != etag || r.body["version"] != float64(1) || r.str("updated_at") != "2026-11-25T12:00:01.234Z" {
					t.Fatalf("no-op edit = %d ETag %s: %s", r.status, r.header.Get("ETag"), r.raw)
				}
			})
		}
		e.t = t
		if got := actionsOf(e.events("&key_id="+id, e.owner)); !slices.Equal(got, []string{"key.created"}) {
			t.Fatalf("the no-op edits wrote audit events: %v, want only key.created", got)
		}
		if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, `{"name":"k2"}`, nil); r.header.Get("ETag") != `"2"` || r.str("updated_at") != "2026-11-25T12:01:01.234Z" {
			t.Fatalf("a real edit: %s %v", r.raw, r.header)
		}
	})
}

// TestAllFieldErrorsAtOnce: create and edit answer every field error of the
// request, each with its field code.
func TestAllFieldErrorsAtOnce(t *testing.T) {
	e := newEnv(t)
	id, _ := e.newKey(`{"name":"k","preset":"read-only","expiration":"30d"}`)
	tests := []struct {
		name, method, path, body string
		want                     []string
	}{
		{"create", "POST", "/v1/api-keys", `{"name":" x","permissions":[{"permission":"secrets:steal"},{"permission":"secrets:read","scope":{"level":"galaxy","id":"x"}},{"permission":"secrets:read","scope":{"level":"environment","id":"env_nope"}},{"permission":"secrets:read"}],"expiration":"7d"}`,
			[]string{"name:invalid", "permissions[0].permission:invalid", "permissions[1].scope.level:invalid", "permissions[2].scope.id:invalid", "expiration:invalid"}},
		{"create missing everything", "POST", "/v1/api-keys", `{}`,
			[]string{"name:required", "permissions:required", "expiration:required"}},
		{"create with a malformed expires_at", "POST", "/v1/api-keys", `{"name":"","preset":"read-only","expires_at":"tomorrow"}`,
			[]string{"expires_at:invalid", "name:invalid"}},
		{"edit with a malformed expires_at", "PATCH", "/v1/api-keys/" + id, `{"name":" x","expires_at":"2027-02-30T00:00:00Z"}`,
			[]string{"expires_at:invalid", "name:invalid"}},
		{"create preset and expiry", "POST", "/v1/api-keys", `{"name":"ok","preset":"god","expires_at":"2099-01-01T00:00:00Z"}`,
			[]string{"preset:invalid", "expires_at:out_of_range"}},
		{"edit", "PATCH", "/v1/api-keys/" + id, `{"name":"","permissions":[{"permission":"projects:create","scope":{"level":"team","id":"` + e.team + `"}}],"expires_at":"2020-01-01T00:00:00Z"}`,
			[]string{"name:invalid", "permissions[0].scope.level:invalid", "expires_at:out_of_range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do(tt.method, tt.path, e.owner, tt.body, nil)
			if got, _ := r.fieldErrors(); r.status != 400 || r.code() != "validation_failed" || !slices.Equal(got, tt.want) {
				t.Fatalf("%s = %d %v, want 400 %v: %s", tt.name, r.status, got, tt.want, r.raw)
			}
		})
	}
}

// TestKeyQuota: an organization holds at most its quota of keys; deleting
// one makes room, and other organizations are not affected.
func TestKeyQuota(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t, func(o *wiring.Options) { o.MaxKeysPerOrganization = 3 })
		body := `{"name":"k","preset":"read-only","expiration":"30d"}`
		id, _ := e.newKey(body) // the owner key is the first
		e.newKey(body)
		r := e.do("POST", "/v1/api-keys", e.owner, body, nil)
		if r.status != 409 || r.code() != "key_quota_exceeded" || !strings.Contains(r.str("detail"), "quota of 3 API keys") {
			t.Fatalf("over the quota: %d %s", r.status, r.raw)
		}
		if r := e.do("POST", "/v1/api-keys", e.ownerB, body, nil); r.status != 201 {
			t.Fatalf("another organization: %d %s", r.status, r.raw)
		}
		if r := e.do("DELETE", "/v1/api-keys/"+id, e.owner, "", nil); r.status != 204 {
			t.Fatalf("delete: %d", r.status)
		}
		if r := e.do("POST", "/v1/api-keys", e.owner, body, nil); r.status != 201 {
			t.Fatalf("after a delete: %d %s", r.status, r.raw)
		}
	})
}
