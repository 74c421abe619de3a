package wiring_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/wire"
)

// verifyAs posts a verification of tok (for perm when not empty).
func (e *env) verifyAs(tok, perm string) response {
	e.t.Helper()
	body := `{"token":"` + tok + `"}`
	if perm != "" {
		body = `{"token":"` + tok + `","permission":"` + perm + `"}`
	}
	r := e.do("POST", "/v1/verify", "", body, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("verify: %d %s", r.status, r.raw)
	}
	return r
}

// hintOf is the hint of a token (docs/design.md, "Tokens").
func hintOf(tok string) string { return tok[:11] + "…" + tok[len(tok)-4:] }

// TestRotationWithGrace: through the production router on every engine, a
// rotation with a grace period keeps the replaced token working, flagged
// as the previous token, with the key's access as edited, until its
// instant; revoking it, rotating again and deleting the key end it at once.
func TestRotationWithGrace(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		id, first := e.newKey(`{"name":"ci","permissions":[{"permission":"secrets:read"},{"permission":"projects:read"}],"expiration":"30d"}`)
		rotate := func(body string) response {
			t.Helper()
			r := e.do("POST", "/v1/api-keys/"+id+"/rotate", e.owner, body, nil)
			if r.status != http.StatusOK {
				t.Fatalf("rotate %s: %d %s", body, r.status, r.raw)
			}
			return r
		}
		wantPrevious := func(what string, r response, tok string, ends time.Time) {
			t.Helper()
			if r.str("previous_token_expires_at") != wire.Time(ends) || r.str("previous_token_hint") != hintOf(tok) {
				t.Fatalf("%s: previous token %q ending %q, want %q ending %s", what, r.str("previous_token_hint"), r.str("previous_token_expires_at"), hintOf(tok), wire.Time(ends))
			}
		}
		wantNoPrevious := func(what string, r response) {
			t.Helper()
			if _, ok := r.body["previous_token_expires_at"]; ok {
				t.Fatalf("%s: shows a previous token: %s", what, r.raw)
			}
			if _, ok := r.body["previous_token_hint"]; ok {
				t.Fatalf("%s: shows a previous token hint: %s", what, r.raw)
			}
		}
		wantVerify := func(what, tok, perm, code string, previous bool, ends time.Time) {
			t.Helper()
			r := e.verifyAs(tok, perm)
			got, flagged := r.body["previous_token"].(bool)
			if r.str("code") != code || got != previous || flagged != previous {
				t.Fatalf("%s: verify %s", what, r.raw)
			}
			if previous && r.str("previous_token_expires_at") != wire.Time(ends) {
				t.Fatalf("%s: previous_token_expires_at %q, want %s", what, r.str("previous_token_expires_at"), wire.Time(ends))
			}
			if !previous {
				if _, ok := r.body["previous_token_expires_at"]; ok {
					t.Fatalf("%s: previous_token_expires_at on a current token: %s", what, r.raw)
				}
			}
		}

		// Without a body a rotation keeps no previous token (as before).
		r := rotate("")
		wantNoPrevious("rotate without a body", r)
		second := r.str("token")
		wantVerify("rotate without a body: the replaced token", first, "", "not_found", false, time.Time{})

		// With a grace period the answer says until when.
		start := e.clock.Now()
		ends := start.Add(time.Hour)
		r = rotate(`{"grace_seconds":3600}`)
		third := r.str("token")
		wantPrevious("rotate with grace", r, second, ends)
		if r.header.Get("ETag") != `"3"` {
			t.Fatalf("rotate with grace: ETag %q, want \"3\"", r.header.Get("ETag"))
		}
		wantVerify("in the grace: previous", second, "", "ok", true, ends)
		wantVerify("in the grace: current", third, "", "ok", false, time.Time{})
		wantPrevious("show", e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil), second, ends)
		list := e.do("GET", "/v1/api-keys", e.owner, "", nil)
		if !strings.Contains(list.raw, `"previous_token_expires_at":"`+wire.Time(ends)+`"`) {
			t.Fatalf("list does not show the previous token: %s", list.raw)
		}
		if strings.Contains(list.raw, second) || strings.Contains(list.raw, third) {
			t.Fatal("the list shows a token")
		}
		// The gate accepts the previous token on a route.
		if r := e.do("GET", "/v1/permissions", second, "", nil); r.status != http.StatusOK {
			t.Fatalf("previous token on a route: %d %s", r.status, r.raw)
		}

		// An edit narrows both tokens.
		if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, `{"permissions":[{"permission":"secrets:read"}]}`, nil); r.status != http.StatusOK {
			t.Fatalf("narrowing edit: %d %s", r.status, r.raw)
		} else {
			wantPrevious("edit answer", r, second, ends)
		}
		wantVerify("narrowed: previous, kept permission", second, "secrets:read", "ok", true, ends)
		wantVerify("narrowed: previous, dropped permission", second, "projects:read", "forbidden", true, ends)
		wantVerify("narrowed: current, dropped permission", third, "projects:read", "forbidden", false, time.Time{})

		// At its instant the previous token fails at once.
		e.clock.Advance(time.Hour)
		wantVerify("grace over: previous", second, "", "not_found", false, time.Time{})
		wantVerify("grace over: current", third, "", "ok", false, time.Time{})
		wantNoPrevious("show after the grace", e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil))
		if r := e.do("DELETE", "/v1/api-keys/"+id+"/previous-token", e.owner, "", nil); r.status != http.StatusNotFound || r.code() != "not_found" {
			t.Fatalf("revoke after the grace: %d %s", r.status, r.raw)
		}

		// Revoking ends the grace at once; a second revocation finds none.
		r = rotate(`{"grace_seconds":600}`)
		fourth := r.str("token")
		wantVerify("second grace: previous", third, "", "ok", true, e.clock.Now().Add(10*time.Minute))
		r = e.do("DELETE", "/v1/api-keys/"+id+"/previous-token", e.owner, "", nil)
		if r.status != http.StatusNoContent || r.raw != "" || r.header.Get("ETag") != `"6"` {
			t.Fatalf("revoke previous token: %d %q ETag %q, want 204, no body, ETag \"6\"", r.status, r.raw, r.header.Get("ETag"))
		}
		wantVerify("revoked: previous", third, "", "not_found", false, time.Time{})
		wantVerify("revoked: current", fourth, "", "ok", false, time.Time{})
		wantNoPrevious("show after the revocation", e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil))
		if r := e.do("DELETE", "/v1/api-keys/"+id+"/previous-token", e.owner, "", nil); r.status != http.StatusNotFound || r.code() != "not_found" {
			t.Fatalf("second revocation: %d %s", r.status, r.raw)
		}

		// Rotating again replaces the previous token: only one exists.
		fifth := rotate(`{"grace_seconds":600}`).str("token")
		r = rotate(`{"grace_seconds":604800}`)
		sixth := r.str("token")
		week := e.clock.Now().Add(7 * 24 * time.Hour)
		wantPrevious("rotate with the maximum", r, fifth, week)
		wantVerify("replaced previous token", fourth, "", "not_found", false, time.Time{})
		wantVerify("previous token", fifth, "", "ok", true, week)

		// Out-of-range or mistyped grace periods are refused, naming the
		// field, and change nothing.
		for _, body := range []string{`{"grace_seconds":604801}`, `{"grace_seconds":-1}`, `{"grace_seconds":"x"}`, `{"grace_seconds":1.5}`} {
			r := e.do("POST", "/v1/api-keys/"+id+"/rotate", e.owner, body, nil)
			fields, _ := r.fieldErrors()
			if r.status != http.StatusBadRequest || r.code() != "validation_failed" || len(fields) != 1 || !strings.HasPrefix(fields[0], "grace_seconds:") {
				t.Fatalf("rotate %s: %d %s, want 400 naming grace_seconds", body, r.status, r.raw)
			}
		}
		if r := e.do("POST", "/v1/api-keys/"+id+"/rotate", e.owner, `{"grace_seconds":604801}`, nil); !strings.Contains(r.raw, "604800") {
			t.Fatalf("the refusal does not say the bound: %s", r.raw)
		}
		if r := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil); r.header.Get("ETag") != `"8"` {
			t.Fatalf("refused rotations changed the key: ETag %q, want \"8\"", r.header.Get("ETag"))
		}
		wantVerify("after the refusals: previous", fifth, "", "ok", true, week)

		// Deleting the key kills both tokens.
		if r := e.do("DELETE", "/v1/api-keys/"+id, e.owner, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		wantVerify("deleted: previous", fifth, "", "not_found", false, time.Time{})
		wantVerify("deleted: current", sixth, "", "not_found", false, time.Time{})
		if r := e.do("DELETE", "/v1/api-keys/"+id+"/previous-token", e.owner, "", nil); r.status != http.StatusNotFound {
			t.Fatalf("revoke on a deleted key: %d %s", r.status, r.raw)
		}
	})
}
