package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dotenv/apikeys/shared/proctest"
)

// notice is one webhook the test receiver got.
type notice struct {
	id, typ, key, window string
	at                   time.Time
	verifyErr            error
}

// hookReceiver is a loopback webhook destination that checks every
// signature with the Standard Webhooks project's own library. It answers
// 204, or failWith while that is set.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	failWith int
	got      []notice
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p struct {
			Type string `json:"type"`
			Data struct {
				Key    struct{ ID string } `json:"key"`
				Window string              `json:"window"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &p)
		r.mu.Lock()
		defer r.mu.Unlock()
		// The binary's clock may be shifted ahead (the test switch), so
		// the library's 5-minute tolerance is checked by the test itself
		// against the shifted clock; the signature is the library's.
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err == nil {
			err = wh.VerifyIgnoringTimestamp(body, req.Header)
		}
		sec, _ := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
		r.got = append(r.got, notice{id: req.Header.Get("webhook-id"), typ: p.Type, key: p.Data.Key.ID,
			window: p.Data.Window, at: time.Unix(sec, 0), verifyErr: err})
		if r.failWith != 0 {
			w.WriteHeader(r.failWith)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

// set changes the secret signatures are checked with and the failure answered.
func (r *hookReceiver) set(secret string, failWith int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret, r.failWith = secret, failWith
}

func (r *hookReceiver) notices() []notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notice(nil), r.got...)
}

// waitFor polls until the receiver holds a notice matching want.
func (r *hookReceiver) waitFor(t *testing.T, what string, want func(notice) bool) notice {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range r.notices() {
			if want(n) {
				return n
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s within 20 s; got %+v", what, r.notices())
	return notice{}
}

// TestExpiryNoticesThroughTheBinary: a loopback receiver gets a signed
// key.expiring for a key created to expire inside the 7-day window; after a
// restart with the clock shifted 4 days ahead (APIKEYS_TEST_CLOCK_OFFSET)
// it gets key.expired for that key and key.expiring for a key that has now
// entered the window, and nothing it already got is sent again.
func TestExpiryNoticesThroughTheBinary(t *testing.T) {
	data := t.TempDir()
	bin := binary{t: t, flags: []string{"--data", data}}
	_, _, owner := bin.bootstrap("Hooks")
	recv := newHookReceiver(t)
	serve := func(t *testing.T, offset string) client {
		b := binary{t: t, flags: []string{"--data", data, "--webhooks-allow-loopback", "--webhooks-interval", "1s"}}
		if offset != "" {
			b.env = []string{EnvTestClockOffset + "=" + offset}
		}
		cmd := b.command(context.Background(), "serve", "--addr", "127.0.0.1:0")
		return client{t: t, base: proctest.StartServer(t, cmd, &proctest.Buffer{})}
	}
	var soon, later, hookID string
	t.Run("now", func(t *testing.T) {
		c := serve(t, "")
		hook := c.must(201, "POST", "/v1/webhooks", owner, `{"url":"`+recv.URL+`/hook","events":["key.expiring","key.expired"]}`)
		recv.mu.Lock()
		recv.secret = hook.s("secret")
		recv.mu.Unlock()
		hookID = hook.s("id")
		in3d := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
		in10d := time.Now().Add(240 * time.Hour).UTC().Format(time.RFC3339)
		soon = c.must(201, "POST", "/v1/api-keys", owner, `{"name":"soon","preset":"read-only","expires_at":"`+in3d+`"}`).s("id")
		later = c.must(201, "POST", "/v1/api-keys", owner, `{"name":"later","preset":"read-only","expires_at":"`+in10d+`"}`).s("id")
		n := recv.waitFor(t, "key.expiring (7d) for the key expiring in 3 days", func(n notice) bool {
			return n.typ == "key.expiring" && n.key == soon && n.window == "7d"
		})
		if n.verifyErr != nil {
			t.Fatalf("the Standard Webhooks library refused the notice: %v", n.verifyErr)
		}
		if d := time.Since(n.at); d < -time.Minute || d > time.Minute {
			t.Fatalf("webhook-timestamp %s is not now", n.at)
		}
		ds := c.must(200, "GET", "/v1/webhooks/"+hookID+"/deliveries", owner, "")
		items, _ := ds.body["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["id"] != n.id || items[0].(map[string]any)["state"] != "delivered" {
			t.Fatalf("deliveries %s, want the one delivered notice %s", ds.raw, n.id)
		}
		time.Sleep(2500 * time.Millisecond) // two more sweeps
	})
	t.Run("four days later", func(t *testing.T) {
		serve(t, "96h")
		for _, w := range []struct{ typ, key, window string }{{"key.expired", soon, ""}, {"key.expiring", later, "7d"}} {
			n := recv.waitFor(t, w.typ+" for "+w.key, func(n notice) bool { return n.typ == w.typ && n.key == w.key && n.window == w.window })
			if n.verifyErr != nil {
				t.Fatalf("the Standard Webhooks library refused %s: %v", w.typ, n.verifyErr)
			}
			if d := time.Until(n.at) - 96*time.Hour; d < -time.Minute || d > time.Minute {
				t.Fatalf("webhook-timestamp %s is not the shifted clock", n.at)
			}
		}
		time.Sleep(2500 * time.Millisecond)
	})
	seen := map[string]int{}
	for _, n := range recv.notices() {
		if n.verifyErr != nil {
			t.Errorf("notice %s refused: %v", n.id, n.verifyErr)
		}
		seen[n.typ+" "+n.key+" "+n.window]++
	}
	want := map[string]int{"key.expiring " + soon + " 7d": 1, "key.expired " + soon + " ": 1, "key.expiring " + later + " 7d": 1}
	if len(seen) != len(want) {
		t.Fatalf("notices %v, want exactly %v", seen, want)
	}
	for k, n := range want {
		if seen[k] != n {
			t.Fatalf("notice %q sent %d times, want %d (restarts must not re-send)", k, seen[k], n)
		}
	}
}
