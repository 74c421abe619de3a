package wiring_test

import (
	"context"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/wiring"
)

// storeRef is a usage.Store set once the env's store exists.
type storeRef struct{ usage.Store }

// TestKeyUsage: verifications through the production router are counted
// per key and day (allowed, forbidden, expired; a token that names no key
// counts nothing), flushed, and answered by GET /v1/api-keys/{id}/usage
// and the key's last use, on every engine.
func TestKeyUsage(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		ref := &storeRef{}
		rec := usage.NewRecorder(ref, nil, time.Hour, nil)
		e := newEnv(t, func(o *wiring.Options) { o.Usage = rec })
		ref.Store = e.deps.Usage
		id, tok := e.newKey(`{"name":"ci","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"` + e.prod + `"}}],"expires_at":"2026-11-26T12:00:00Z"}`)
		ua := map[string]string{"User-Agent": "usage-test/1"}
		verify := func(body, code string) {
			t.Helper()
			if r := e.do("POST", "/v1/verify", "", body, ua); r.str("code") != code {
				t.Fatalf("verify %s = %s, want code %s", body, r.raw, code)
			}
		}
		for range 3 {
			verify(`{"token":"`+tok+`","permission":"secrets:read","resource":{"environment":"`+e.prod+`"}}`, "ok")
		}
		verify(`{"token":"`+tok+`","permission":"secrets:write","resource":{"environment":"`+e.prod+`"}}`, "forbidden")
		if r := e.do("GET", "/v1/teams", tok, "", ua); r.status != 403 { // the guard counts too
			t.Fatalf("GET /v1/teams with a key that may not = %d %s", r.status, r.raw)
		}
		verify(`{"token":"`+tok[:len(tok)-4]+`AAAA"}`, "malformed") // not attributable
		e.clock.Advance(2 * 24 * time.Hour)                         // 2026-11-27: expired
		verify(`{"token":"`+tok+`"}`, "expired")
		if err := rec.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}

		r := e.do("GET", "/v1/api-keys/"+id+"/usage", e.owner, "", nil)
		if r.status != 200 {
			t.Fatalf("GET usage = %d %s", r.status, r.raw)
		}
		if r.str("key_id") != id || r.str("from") != "2026-10-29" || r.str("to") != "2026-11-27" {
			t.Fatalf("usage window: %s", r.raw)
		}
		days, _ := r.body["days"].([]any)
		if len(days) != usage.Days {
			t.Fatalf("%d days, want %d (zero days included): %s", len(days), usage.Days, r.raw)
		}
		day := func(i int) map[string]any { d, _ := days[i].(map[string]any); return d }
		if d := day(27); d["date"] != "2026-11-25" || d["allowed"] != 3.0 || d["denied"] != 2.0 || d["denied_by"].(map[string]any)["forbidden"] != 2.0 {
			t.Fatalf("2026-11-25 = %v, want 3 allowed, 2 forbidden", d)
		}
		if d := day(29); d["date"] != "2026-11-27" || d["allowed"] != 0.0 || d["denied"] != 1.0 || d["denied_by"].(map[string]any)["expired"] != 1.0 {
			t.Fatalf("2026-11-27 = %v, want 1 expired", d)
		}
		if d := day(0); d["date"] != "2026-10-29" || d["allowed"] != 0.0 || d["denied"] != 0.0 || len(d["denied_by"].(map[string]any)) != 0 {
			t.Fatalf("first day = %v, want an empty 2026-10-29", d)
		}
		totals, _ := r.body["totals"].(map[string]any)
		by, _ := totals["denied_by"].(map[string]any)
		if totals["allowed"] != 3.0 || totals["denied"] != 3.0 || by["forbidden"] != 2.0 || by["expired"] != 1.0 {
			t.Fatalf("totals = %v, want 3 allowed, 2 forbidden, 1 expired", totals)
		}
		if r.str("last_used_at") != "2026-11-25T12:00:00.000Z" || r.str("last_used_ip") != "127.0.0.1" || r.str("last_used_user_agent") != "usage-test/1" {
			t.Fatalf("usage last use: %s", r.raw)
		}
		k := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil)
		if k.str("last_used_at") != "2026-11-25T12:00:00.000Z" || k.str("last_used_ip") != "127.0.0.1" || k.str("last_used_user_agent") != "usage-test/1" {
			t.Fatalf("key last use: %s", k.raw)
		}

		if r := e.do("GET", "/v1/api-keys/"+id+"/usage", e.ownerB, "", nil); r.status != 404 {
			t.Fatalf("another organization's key usage = %d %s, want 404", r.status, r.raw)
		}
		if r := e.do("DELETE", "/v1/api-keys/"+id, e.owner, "", nil); r.status != 204 {
			t.Fatalf("delete = %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/v1/api-keys/"+id+"/usage", e.owner, "", nil); r.status != 404 {
			t.Fatalf("a deleted key's usage = %d %s, want 404", r.status, r.raw)
		}
	})
}

// TestPreviousTokenLastUse: during a rotation's grace the previous token's
// uses are counted on the key and its last use is shown apart from the
// current token's, on every engine.
func TestPreviousTokenLastUse(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		ref := &storeRef{}
		rec := usage.NewRecorder(ref, nil, time.Hour, nil)
		e := newEnv(t, func(o *wiring.Options) { o.Usage = rec })
		ref.Store = e.deps.Usage
		id, old := e.newKey(`{"name":"ci","preset":"read-only","expiration":"never"}`)
		r := e.do("POST", "/v1/api-keys/"+id+"/rotate", e.owner, `{"grace_seconds":3600}`, nil)
		if r.status != 200 {
			t.Fatalf("rotate with grace = %d %s", r.status, r.raw)
		}
		cur := r.str("token")
		e.clock.Advance(time.Minute)
		if v := e.do("POST", "/v1/verify", "", `{"token":"`+old+`"}`, map[string]string{"User-Agent": "old-ci/1"}); v.body["previous_token"] != true {
			t.Fatalf("verify the previous token: %s", v.raw)
		}
		e.clock.Advance(time.Minute)
		if v := e.do("POST", "/v1/verify", "", `{"token":"`+cur+`"}`, map[string]string{"User-Agent": "new-ci/1"}); v.str("code") != "ok" {
			t.Fatalf("verify the new token: %s", v.raw)
		}
		if err := rec.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		k := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil)
		if k.str("previous_token_last_used_at") != "2026-11-25T12:01:00.000Z" || k.str("previous_token_last_used_user_agent") != "old-ci/1" || k.str("previous_token_last_used_ip") != "127.0.0.1" {
			t.Fatalf("previous token's last use: %s", k.raw)
		}
		if k.str("last_used_at") != "2026-11-25T12:02:00.000Z" || k.str("last_used_user_agent") != "new-ci/1" {
			t.Fatalf("current token's last use: %s", k.raw)
		}
		u := e.do("GET", "/v1/api-keys/"+id+"/usage", e.owner, "", nil)
		totals, _ := u.body["totals"].(map[string]any)
		if totals["allowed"] != 2.0 || u.str("previous_token_last_used_user_agent") != "old-ci/1" {
			t.Fatalf("usage during the grace: %s", u.raw)
		}
	})
}
