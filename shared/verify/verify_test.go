package verify_test

import (
	"context"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/verify"
)

// usageCounter counts Record calls.
type usageCounter struct {
	n atomic.Int64
}

func (c *usageCounter) Record(string, usage.Use) { c.n.Add(1) }

type verifyFixture struct {
	st    *bolt.Store
	now   time.Time
	mu    sync.Mutex
	v     *verify.Verifier
	usage *usageCounter
	svc   *keys.Service
}

func (f *verifyFixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *verifyFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newVerifyFixture(t *testing.T) *verifyFixture {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &verifyFixture{st: st, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	c := authz.NewCatalog()
	f.usage = &usageCounter{}
	f.v = verify.New(st, st, c, f.clock, f.usage)
	f.svc = keys.NewService(st, st, c, token.NewGenerator(), f.clock, keys.Limits{})
	return f
}

func TestAuthenticateOutcomes(t *testing.T) {
	f := newVerifyFixture(t)
	ctx := context.Background()
	org, owner, err := f.svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	exp := f.now.Add(time.Hour)
	short, err := f.svc.Create(ctx, authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}, keys.Spec{Name: strPtr("short"), Preset: strPtr(authz.PresetReadOnly), ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := token.NewGenerator().New()
	wrongSecret, _ := token.NewGenerator().WithSelector(owner.Key.ID[len("key_"):])
	tests := []struct {
		name, tok string
		want      verify.Code
	}{
		{"owner", owner.Token, verify.CodeOK},
		{"malformed", "dotenv_x", verify.CodeMalformed},
		{"unknown key", other.Token, verify.CodeNotFound},
		{"known key, wrong secret", wrongSecret.Token, verify.CodeNotFound},
		{"expiring, still valid", short.Token, verify.CodeOK},
	}
	for _, tt := range tests {
		res, err := f.v.Authenticate(ctx, tt.tok)
		if err != nil || res.Code != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.name, res.Code, err, tt.want)
		}
		if res.Code == verify.CodeOK && res.Principal().OrganizationID != org.ID {
			t.Errorf("%s: principal of the wrong organization", tt.name)
		}
		if res.Code != verify.CodeOK && res.Key != nil {
			t.Errorf("%s: an invalid token returned its key", tt.name)
		}
	}
	f.advance(time.Hour)
	if res, _ := f.v.Authenticate(ctx, short.Token); res.Code != verify.CodeExpired {
		t.Fatalf("at its expiry instant the key is %s, want expired", res.Code)
	}
}

// TestAuthenticateRecordsNothing: counting is the gate's (it knows the
// decision); Authenticate only reads.
func TestAuthenticateRecordsNothing(t *testing.T) {
	f := newVerifyFixture(t)
	ctx := context.Background()
	_, owner, err := f.svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if res, _ := f.v.Authenticate(ctx, owner.Token); res.Code != verify.CodeOK {
			t.Fatal(res.Code)
		}
	}
	if n := f.usage.n.Load(); n != 0 {
		t.Fatalf("Authenticate recorded %d uses, want 0", n)
	}
	res, _ := f.v.Authenticate(ctx, owner.Token)
	f.v.RecordUse(res, "", verify.Client{IP: "192.0.2.1"})
	f.v.RecordUse(verify.Result{Code: verify.CodeNotFound}, usage.ReasonForbidden, verify.Client{})
	if n := f.usage.n.Load(); n != 1 {
		t.Fatalf("RecordUse of a key's result and of an unknown token recorded %d uses, want 1", n)
	}
}

func TestAuthorizeResolvesThePath(t *testing.T) {
	f := newVerifyFixture(t)
	ctx := context.Background()
	org, _, err := f.svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id string, path authz.Node) {
		if err := f.st.CreateNode(ctx, &directory.Node{ID: id, OrganizationID: org.ID, Path: path, Name: id, CreatedAt: f.now, UpdatedAt: f.now}, storetest.Event()); err != nil {
			t.Fatal(err)
		}
	}
	mk("team_a", authz.Node{Team: "team_a"})
	mk("prj_a", authz.Node{Team: "team_a", Project: "prj_a"})
	mk("prj_b", authz.Node{Team: "team_a", Project: "prj_b"})
	p := authz.Principal{OrganizationID: org.ID, Access: authz.Access{Grants: []authz.Grant{{Permission: "projects:read", Scope: authz.Node{Team: "team_a", Project: "prj_a"}}}}}
	if d, err := f.v.Authorize(ctx, p, "projects:read", authz.CheckNode, authz.Node{Project: "prj_a"}); err != nil || !d.Allowed {
		t.Fatalf("own project: %v %v", d, err)
	}
	if d, err := f.v.Authorize(ctx, p, "projects:read", authz.CheckNode, authz.Node{Project: "prj_b"}); err != nil || d.Allowed || d.Missing.Permission != "projects:read" {
		t.Fatalf("sibling project: %v %v", d, err)
	}
	if _, err := f.v.Authorize(ctx, p, "projects:read", authz.CheckNode, authz.Node{Project: "prj_zzz"}); err == nil {
		t.Fatal("a missing node must be an error (404)")
	}
	if _, err := f.v.Authorize(ctx, p, "projects:read", authz.CheckNode, authz.Node{Team: "team_other", Project: "prj_a"}); err == nil {
		t.Fatal("a path that disagrees with the directory must be an error (404)")
	}
	if d, _ := f.v.Authorize(ctx, p, "projects:read", authz.CheckReach, authz.Node{}); !d.Allowed {
		t.Fatal("a scoped grant reaches the organization's list")
	}
}

func strPtr[T any](v T) *T { return &v }

// TestPreviousTokenVerifies: after a rotation with a grace period the
// replaced token verifies, flagged as the previous token, until the
// instant its grace ends (exclusive), then fails as not_found; the current
// token is never flagged; a key that expires first ends both; revoking the
// previous token or rotating again ends it at once.
func TestPreviousTokenVerifies(t *testing.T) {
	f := newVerifyFixture(t)
	ctx := context.Background()
	_, owner, err := f.svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	caller := authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	exp := f.now.Add(3 * time.Hour)
	k, err := f.svc.Create(ctx, caller, keys.Spec{Name: strPtr("ci"), Preset: strPtr(authz.PresetReadOnly), ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	rotate := func(grace time.Duration) string {
		t.Helper()
		c, err := f.svc.Rotate(ctx, caller, k.Key.ID, keys.AnyVersion, grace)
		if err != nil {
			t.Fatal(err)
		}
		return c.Token
	}
	type check struct {
		name, tok string
		code      verify.Code
		previous  bool
	}
	run := func(step string, checks []check) {
		t.Helper()
		for _, c := range checks {
			res, err := f.v.Authenticate(ctx, c.tok)
			if err != nil || res.Code != c.code || res.Previous != c.previous {
				t.Errorf("%s, %s: code %s previous %v (%v); want %s previous %v", step, c.name, res.Code, res.Previous, err, c.code, c.previous)
			}
			if res.Previous && (res.Key == nil || res.Key.PreviousAt(f.clock()) == nil) {
				t.Errorf("%s, %s: flagged previous without a live previous token on the key", step, c.name)
			}
		}
	}
	first := k.Token
	second := rotate(time.Hour)
	run("in the grace period", []check{{"previous", first, verify.CodeOK, true}, {"current", second, verify.CodeOK, false}})
	f.advance(time.Hour - time.Millisecond)
	run("a millisecond before its end", []check{{"previous", first, verify.CodeOK, true}})
	f.advance(time.Millisecond)
	run("at its end", []check{{"previous", first, verify.CodeNotFound, false}, {"current", second, verify.CodeOK, false}})

	// Rotating again replaces the previous token: the first dies at once.
	third := rotate(time.Hour)
	run("rotated again", []check{{"older", first, verify.CodeNotFound, false}, {"previous", second, verify.CodeOK, true}, {"current", third, verify.CodeOK, false}})
	if _, err := f.svc.RevokePrevious(ctx, caller, k.Key.ID, keys.AnyVersion); err != nil {
		t.Fatal(err)
	}
	run("previous revoked", []check{{"previous", second, verify.CodeNotFound, false}, {"current", third, verify.CodeOK, false}})

	// The key's own expiry ends both tokens, the previous one included.
	fourth := rotate(3 * time.Hour) // ends an hour after the key
	f.advance(2 * time.Hour)
	run("the key expired during the grace period", []check{{"previous", third, verify.CodeExpired, false}, {"current", fourth, verify.CodeExpired, false}})
}

// TestAuthenticateFrom: a key with a network allowlist answers ok only
// from an address inside it; outside, or from an unknown address, it
// answers ip_not_allowed with the key (to count the denial on it).
// Expiry is decided first; a previous token in its grace period is held
// to the same list. Authenticate (the explorer's ownership check) does
// not look at networks.
func TestAuthenticateFrom(t *testing.T) {
	f := newVerifyFixture(t)
	ctx := context.Background()
	_, owner, err := f.svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	caller := authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	exp := f.now.Add(time.Hour)
	office, err := f.svc.Create(ctx, caller, keys.Spec{Name: strPtr("office"), Preset: strPtr(authz.PresetReadOnly), ExpiresAt: &exp,
		AllowedCIDRs: []string{"203.0.113.0/24"}, AllowedCIDRsSet: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from string
		want verify.Code
	}{
		{"198.51.100.1", verify.CodeIPNotAllowed},
		{"", verify.CodeIPNotAllowed},
		{"203.0.113.77", verify.CodeOK},
	} {
		var a netip.Addr
		if tc.from != "" {
			a = netip.MustParseAddr(tc.from)
		}
		res, err := f.v.AuthenticateFrom(ctx, office.Token, a)
		if err != nil || res.Code != tc.want || res.Key == nil || res.Key.ID != office.Key.ID {
			t.Fatalf("from %q: %+v, %v; want %s with the key", tc.from, res, err, tc.want)
		}
		if res.Valid() != (tc.want == verify.CodeOK) {
			t.Errorf("from %q: Valid() = %v", tc.from, res.Valid())
		}
	}
	if res, _ := f.v.Authenticate(ctx, office.Token); res.Code != verify.CodeOK {
		t.Errorf("Authenticate (no address) = %s, want ok", res.Code)
	}
	// The previous token of a rotation's grace period obeys the same list.
	rotated, err := f.svc.Rotate(ctx, caller, office.Key.ID, keys.AnyVersion, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for from, want := range map[string]verify.Code{"198.51.100.1": verify.CodeIPNotAllowed, "203.0.113.77": verify.CodeOK} {
		res, err := f.v.AuthenticateFrom(ctx, office.Token, netip.MustParseAddr(from))
		if err != nil || res.Code != want || !res.Previous {
			t.Errorf("previous token from %s: %s previous %v (%v), want %s", from, res.Code, res.Previous, err, want)
		}
	}
	f.advance(2 * time.Hour)
	if res, _ := f.v.AuthenticateFrom(ctx, rotated.Token, netip.MustParseAddr("198.51.100.1")); res.Code != verify.CodeExpired {
		t.Errorf("expired key from outside: %s, want expired", res.Code)
	}
}
