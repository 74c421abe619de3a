package wiring_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/wiring"
)

// countingStore counts key reads: the read every authentication attempt
// with a well-formed token costs.
type countingStore struct {
	store.Store
	keyReads atomic.Int64
}

func (s *countingStore) GetKey(ctx context.Context, id string) (*keys.Key, error) {
	s.keyReads.Add(1)
	return s.Store.GetKey(ctx, id)
}

// limitedAPI is the production router with a failed-authentication budget
// of 5, refilled at 1 per second on a test clock.
type limitedAPI struct {
	t      *testing.T
	router http.Handler
	store  *countingStore
	clock  *clock
	valid  string // an org-wide secrets:read token
}

const testBurst = 5

func newLimitedAPI(t *testing.T) *limitedAPI {
	t.Helper()
	bs, err := bolt.Open(filepath.Join(t.TempDir(), "apikeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	st := &countingStore{Store: bs}
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	d := wiring.NewDeps(st, wiring.Options{Now: c.Now, AuthFailures: ratelimit.Config{Rate: 1, Burst: testBurst}})
	router, err := api.Router(d, explorehandler.Config{BaseURL: "http://127.0.0.1:1", Client: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	_, owner, err := d.Keys.Bootstrap(context.Background(), "Org")
	if err != nil {
		t.Fatal(err)
	}
	return &limitedAPI{t: t, router: router, store: st, clock: c, valid: owner.Token}
}

// attempt is one authentication attempt by way of a guarded route or of
// POST /v1/verify, from a client address.
func (a *limitedAPI) attempt(via, from, tok string) *httptest.ResponseRecorder {
	a.t.Helper()
	var req *http.Request
	switch via {
	case "guard":
		req = httptest.NewRequest("GET", "/v1/permissions", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
	case "verify":
		b, _ := json.Marshal(map[string]string{"token": tok})
		req = httptest.NewRequest("POST", "/v1/verify", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
	default:
		a.t.Fatalf("unknown route %q", via)
	}
	req.RemoteAddr = from
	// A forwarding header must not move the client to another bucket.
	req.Header.Set("X-Forwarded-For", "203.0.113.99")
	w := httptest.NewRecorder()
	a.router.ServeHTTP(w, req)
	return w
}

// outcome classifies an answer: "ok", "failed" (401 or an invalid
// decision) or "limited" (a well-formed 429); anything else fails the test.
func (a *limitedAPI) outcome(w *httptest.ResponseRecorder) string {
	a.t.Helper()
	var body struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		a.t.Fatalf("answer %d is not JSON", w.Code)
	}
	switch {
	case w.Code == http.StatusOK && body.Valid, w.Code == http.StatusOK && body.Code == "":
		return "ok"
	case w.Code == http.StatusOK, w.Code == http.StatusUnauthorized:
		return "failed"
	case w.Code == http.StatusTooManyRequests:
		if body.Code != "rate_limited" || w.Header().Get("Content-Type") != "application/problem+json" {
			a.t.Fatalf("429 with code %q and Content-Type %q", body.Code, w.Header().Get("Content-Type"))
		}
		if w.Header().Get("Retry-After") == "" {
			a.t.Fatal("429 without Retry-After")
		}
		return "limited"
	}
	a.t.Fatalf("unexpected answer %d (code %q)", w.Code, body.Code)
	return ""
}

func TestFailedAuthenticationsAreLimited(t *testing.T) {
	const attacker, bystander = "198.51.100.7:41000", "192.0.2.20:52000"
	for _, via := range []string{"guard", "verify"} {
		t.Run(via, func(t *testing.T) {
			a := newLimitedAPI(t)
			unknown, err := token.NewGenerator().New() // well-formed, no such key
			if err != nil {
				t.Fatal(err)
			}
			bad := unknown.Token
			malformed := bad[:len(bad)-1] + "!"

			// Successful verifications never spend the budget.
			for range 3 * testBurst {
				if got := a.outcome(a.attempt(via, attacker, a.valid)); got != "ok" {
					t.Fatalf("valid token: %s", got)
				}
			}
			// The whole burst of failures is answered (one malformed, which
			// costs no read, and well-formed unknown tokens, one read each).
			before := a.store.keyReads.Load()
			if got := a.outcome(a.attempt(via, attacker, malformed)); got != "failed" {
				t.Fatalf("malformed token within the burst: %s", got)
			}
			for i := 1; i < testBurst; i++ {
				if got := a.outcome(a.attempt(via, attacker, bad)); got != "failed" {
					t.Fatalf("failure %d of a burst of %d: %s", i+1, testBurst, got)
				}
			}
			if got := a.store.keyReads.Load() - before; got != testBurst-1 {
				t.Fatalf("the burst read %d keys, want %d", got, testBurst-1)
			}

			// Past the burst: 429 before any store read, for any token,
			// whatever X-Forwarded-For says.
			before = a.store.keyReads.Load()
			for range 50 {
				w := a.attempt(via, "198.51.100.7:41001", bad) // another port, same client
				if got := a.outcome(w); got != "limited" {
					t.Fatalf("past the burst: %s", got)
				}
				if ra := w.Header().Get("Retry-After"); ra != "1" {
					t.Fatalf("Retry-After = %q, want 1", ra)
				}
			}
			if got := a.outcome(a.attempt(via, attacker, a.valid)); got != "limited" {
				t.Fatalf("valid token from a limited address: %s, want limited", got)
			}
			if got := a.store.keyReads.Load() - before; got != 0 {
				t.Fatalf("a limited address cost %d store reads", got)
			}

			// Another address is unaffected, for valid and bad tokens.
			if got := a.outcome(a.attempt(via, bystander, a.valid)); got != "ok" {
				t.Fatalf("bystander, valid token: %s", got)
			}
			if got := a.outcome(a.attempt(via, bystander, bad)); got != "failed" {
				t.Fatalf("bystander, unknown token: %s", got)
			}

			// The budget is one per address over both routes.
			other := map[string]string{"guard": "verify", "verify": "guard"}[via]
			if got := a.outcome(a.attempt(other, attacker, a.valid)); got != "limited" {
				t.Fatalf("the limited address on %s: %s", other, got)
			}

			// One second refills one attempt.
			a.clock.Advance(time.Second)
			if got := a.outcome(a.attempt(via, attacker, a.valid)); got != "ok" {
				t.Fatalf("after one refill, valid token: %s", got)
			}
			if got := a.outcome(a.attempt(via, attacker, bad)); got != "failed" {
				t.Fatalf("after one refill, unknown token: %s", got)
			}
			if got := a.outcome(a.attempt(via, attacker, bad)); got != "limited" {
				t.Fatalf("after the refilled attempt: %s", got)
			}
		})
	}
}

func TestForbiddenDecisionsAreNotFailures(t *testing.T) {
	a := newLimitedAPI(t)
	const from = "198.51.100.8:1000"
	// A valid token asked about a permission it lacks answers forbidden:
	// it authenticated, so it spends nothing.
	body := `{"token":"` + a.valid + `","permission":"secrets:read","resource":{"environment":"env_nosuchenvironment00"}}`
	for range 3 * testBurst {
		req := httptest.NewRequest("POST", "/v1/verify", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = from
		w := httptest.NewRecorder()
		a.router.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"code":"forbidden"`) {
			t.Fatalf("verify = %d, want 200 with code forbidden", w.Code)
		}
	}
	if got := a.outcome(a.attempt("guard", from, a.valid)); got != "ok" {
		t.Fatalf("after decisions on a valid token: %s", got)
	}
}
