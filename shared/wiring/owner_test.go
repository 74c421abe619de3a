package wiring_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/keys"
)

// TestOnlyActiveOwnerKeysCount: a change that takes away the last
// *active* owner key is refused (409 last_owner_key) even when other
// allow-all keys exist but are revoked (their token reported as leaked)
// or expired: neither reaches the organization any more, so counting them
// would lock it out. Once the revoked key is rotated it counts again.
func TestOnlyActiveOwnerKeysCount(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		refusedOn := func(t *testing.T, e *env, ownerID string) {
			t.Helper()
			for _, tt := range []struct{ name, method, body string }{
				{"delete itself", "DELETE", ""},
				{"narrowed", "PATCH", `{"preset":"read-only"}`},
				{"allow_all removed", "PATCH", `{"allow_all":false,"permissions":[{"permission":"secrets:read"}]}`},
				{"given an expiry", "PATCH", `{"expiration":"30d"}`},
			} {
				r := e.do(tt.method, "/v1/api-keys/"+ownerID, e.owner, tt.body, nil)
				if r.status != http.StatusConflict || r.code() != "last_owner_key" || !strings.Contains(r.str("detail"), "edge recover") {
					t.Fatalf("%s: %d %s, want 409 last_owner_key", tt.name, r.status, r.raw)
				}
			}
			if r := e.do("GET", "/v1/api-keys/"+ownerID, e.owner, "", nil); r.status != http.StatusOK || r.body["allow_all"] != true || r.str("expires_at") != "" {
				t.Fatalf("owner key after the refusals: %d %s", r.status, r.raw)
			}
		}
		t.Run("other owner revoked as leaked", func(t *testing.T) {
			e := newEnv(t)
			e.t = t
			ownerID := e.ownerKeyID()
			otherID, other := e.newKey(`{"name":"second owner","allow_all":true,"expiration":"never"}`)
			out, _, err := e.deps.Keys.ReportLeak(context.Background(), keys.LeakReport{Token: other, Reporter: keys.ReporterSelf})
			if err != nil || out != keys.LeakRevoked {
				t.Fatalf("ReportLeak = %v, %v; want revoked", out, err)
			}
			refusedOn(t, e, ownerID)
			// Rotated, the second owner is active again: the first may go.
			r := e.do("POST", "/v1/api-keys/"+otherID+"/rotate", e.owner, "", nil)
			if r.status != http.StatusOK {
				t.Fatalf("rotate the revoked owner: %d %s", r.status, r.raw)
			}
			if r := e.do("DELETE", "/v1/api-keys/"+ownerID, e.owner, "", nil); r.status != http.StatusNoContent {
				t.Fatalf("delete with an active second owner: %d %s", r.status, r.raw)
			}
		})
		t.Run("other allow-all key expired", func(t *testing.T) {
			e := newEnv(t)
			e.t = t
			ownerID := e.ownerKeyID()
			e.newKey(`{"name":"temp admin","allow_all":true,"expiration":"30d"}`)
			e.clock.Advance(31 * 24 * time.Hour)
			refusedOn(t, e, ownerID)
		})
	})
}

// TestOwnerKeysDeletingEachOther: the last two owner keys of an
// organization delete each other at the same moment, over and over: the
// writes name each other's key as witness (checked in the same atomic
// write), so never both go and the organization always keeps an owner.
func TestOwnerKeysDeletingEachOther(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		e.t = t
		// The bootstrap owner steps aside for the pairs below.
		firstID, first := e.newKey(`{"name":"pair owner","allow_all":true,"expiration":"never"}`)
		if r := e.do("DELETE", "/v1/api-keys/"+e.ownerKeyID(), first, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("delete the bootstrap owner: %d %s", r.status, r.raw)
		}
		e.owner = first
		for round := range 6 {
			secondID, second := e.newKey(`{"name":"pair owner","allow_all":true,"expiration":"never"}`)
			var wg sync.WaitGroup
			status := make([]int, 2)
			for i, p := range []struct{ id, tok string }{{secondID, first}, {firstID, second}} {
				wg.Go(func() { status[i] = deleteStatus(t, e.srv.URL+"/v1/api-keys/"+p.id, p.tok) })
			}
			wg.Wait()
			gone := 0
			for _, s := range status {
				switch s {
				case http.StatusNoContent:
					gone++
				case http.StatusConflict:
				default:
					t.Fatalf("round %d: answers %v, want 204 or 409", round, status)
				}
			}
			active := 0
			for _, k := range e.do("GET", "/v1/api-keys?limit=100", e.liveToken(first, second), "", nil).body["items"].([]any) {
				if m := k.(map[string]any); m["allow_all"] == true && m["status"] == "active" {
					active++
				}
			}
			if gone > 1 || active != 2-gone || active < 1 {
				t.Fatalf("round %d: answers %v, %d active owner keys left; want at most one delete and an owner left", round, status, active)
			}
			if gone == 0 {
				// Both refused (a conflict each): end the round by hand.
				if r := e.do("DELETE", "/v1/api-keys/"+secondID, first, "", nil); r.status != http.StatusNoContent {
					t.Fatalf("round %d: delete the second owner: %d %s", round, r.status, r.raw)
				}
				continue
			}
			if status[1] == http.StatusNoContent {
				firstID, first = secondID, second // the second survived
			}
			e.owner = first
		}
	})
}

// liveToken returns whichever of two tokens still authenticates.
func (e *env) liveToken(a, b string) string {
	if e.do("GET", "/v1/api-keys?limit=1", a, "", nil).status == http.StatusOK {
		return a
	}
	return b
}

// deleteStatus sends DELETE url with tok from any goroutine and returns
// the status (0 when the request fails).
func deleteStatus(t *testing.T, url, tok string) int {
	req, err := http.NewRequest("DELETE", url, nil)
	if err != nil {
		t.Error(err)
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
