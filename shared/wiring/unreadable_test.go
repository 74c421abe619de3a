package wiring_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/wiring"
)

// breakingStore answers one key as an engine answers a stored key it
// cannot decode (the engines' own behaviour is held by the conformance
// suite, storetest): GetKey returns a keys.UnreadableError, ListKeys skips
// it and reports it in Page.Unreadable. Deletes go to the real store.
type breakingStore struct {
	store.Store
	mu     sync.Mutex
	broken string
}

func (s *breakingStore) brokenID() string { s.mu.Lock(); defer s.mu.Unlock(); return s.broken }

func (s *breakingStore) GetKey(ctx context.Context, id string) (*keys.Key, error) {
	k, err := s.Store.GetKey(ctx, id)
	if err == nil && id == s.brokenID() {
		return nil, keys.Unreadable(k.ID, k.OrganizationID, k.Version, errors.New("expires_at: cannot parse \"10000-01-01T00:00:00Z\""))
	}
	return k, err
}

func (s *breakingStore) ListKeys(ctx context.Context, org string, opt directory.ListOptions) (directory.Page[*keys.Key], error) {
	p, err := s.Store.ListKeys(ctx, org, opt)
	kept := p.Items[:0]
	for _, k := range p.Items {
		if k.ID == s.brokenID() {
			p.Unreadable = append(p.Unreadable, directory.Unreadable{ID: k.ID})
			continue
		}
		kept = append(kept, k)
	}
	p.Items = kept
	return p, err
}

// The bug this guards against: a key with an expiry beyond year 9999 in UTC
// was stored, and from then on its organization's listing answered 500 and
// the key could not be deleted. Now such an expiry is refused with the field
// named, and a stored key that cannot be read is reported by the listing,
// answers show with 500 internal, fails verification as not found (200,
// never allowed) and can still be deleted by its organization.
func TestUnreadableKeyOverHTTP(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "apikeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bs := &breakingStore{Store: st}
	c := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	d := wiring.NewDeps(bs, wiring.Options{Now: c.Now})
	router, err := api.Router(d, explorehandler.Config{BaseURL: "http://127.0.0.1:1", Client: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: httptest.NewServer(router), deps: d, clock: c}
	t.Cleanup(e.srv.Close)
	_, owner, err := d.Keys.Bootstrap(t.Context(), "Org A")
	if err != nil {
		t.Fatal(err)
	}
	_, ownerB, err := d.Keys.Bootstrap(t.Context(), "Org B")
	if err != nil {
		t.Fatal(err)
	}
	e.owner, e.ownerB = owner.Token, ownerB.Token

	r := e.do("POST", "/v1/api-keys", e.owner, `{"name":"far","allow_all":true,"expires_at":"9999-12-31T23:59:59-23:59"}`, nil)
	if r.status != http.StatusBadRequest || r.code() != "validation_failed" || !hasField(r, "expires_at") {
		t.Fatalf("create with an expiry in year 10000 (UTC): %d %s; want 400 validation_failed naming expires_at", r.status, r.raw)
	}

	id, tok := e.newKey(`{"name":"soon broken","allow_all":true,"expiration":"never"}`)
	bs.mu.Lock()
	bs.broken = id
	bs.mu.Unlock()

	r = e.do("GET", "/v1/api-keys", e.owner, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("list with an unreadable key: %d %s", r.status, r.raw)
	}
	un, _ := r.body["unreadable"].([]any)
	if len(un) != 1 || un[0].(map[string]any)["id"] != id || un[0].(map[string]any)["message"] != keys.UnreadableMessage {
		t.Fatalf("list with an unreadable key: unreadable = %v, want [{id: %s, message: %q}]", r.body["unreadable"], id, keys.UnreadableMessage)
	}
	if items, _ := r.body["items"].([]any); len(items) != 1 {
		t.Fatalf("list with an unreadable key: want the owner key alone in items, got %s", r.raw)
	}
	r = e.do("GET", "/v1/api-keys", e.ownerB, "", nil)
	if _, ok := r.body["unreadable"]; r.status != http.StatusOK || ok {
		t.Fatalf("another organization's list: %d %s; want 200 without unreadable", r.status, r.raw)
	}

	if r = e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil); r.status != http.StatusInternalServerError || r.code() != "internal" {
		t.Fatalf("show an unreadable key: %d %s; want 500 internal", r.status, r.raw)
	}
	r = e.do("POST", "/v1/verify", "", `{"token":"`+tok+`","permission":"secrets:read"}`, nil)
	if r.status != http.StatusOK || r.body["valid"] != false || r.body["allowed"] != false || r.code() != "not_found" || r.body["key"] != nil {
		t.Fatalf("verify the token of an unreadable key: %d %s; want 200, invalid, not allowed, not_found", r.status, r.raw)
	}
	if r = e.do("GET", "/v1/permissions", tok, "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("the token of an unreadable key on a route: %d %s; want 401", r.status, r.raw)
	}
	if r = e.do("DELETE", "/v1/api-keys/"+id, e.ownerB, "", nil); r.status != http.StatusNotFound {
		t.Fatalf("another organization deletes an unreadable key: %d %s; want 404", r.status, r.raw)
	}
	if r = e.do("DELETE", "/v1/api-keys/"+id, e.owner, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete an unreadable key: %d %s; want 204", r.status, r.raw)
	}
	r = e.do("GET", "/v1/api-keys", e.owner, "", nil)
	if _, ok := r.body["unreadable"]; r.status != http.StatusOK || ok {
		t.Fatalf("list after deleting the unreadable key: %d %s; want 200 without unreadable", r.status, r.raw)
	}
}

// hasField reports whether a problem names field among its errors.
func hasField(r response, field string) bool {
	errs, _ := r.body["errors"].([]any)
	return slices.ContainsFunc(errs, func(e any) bool { m, _ := e.(map[string]any); return m["field"] == field })
}
