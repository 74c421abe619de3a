package keys_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
)

// wantGraceRefusal fails unless err is the refusal of a grace period:
// validation_failed naming grace_seconds with out_of_range and the bound.
func wantGraceRefusal(t *testing.T, what string, err error) {
	t.Helper()
	var f *fault.Error
	if !errors.As(err, &f) || f.Code != fault.CodeValidation || len(f.Fields) != 1 ||
		f.Fields[0].Field != "grace_seconds" || f.Fields[0].Code != fault.FieldOutOfRange {
		t.Fatalf("%s: got %v, want a validation error on grace_seconds (out_of_range)", what, err)
	}
	if want := "604800"; !strings.Contains(f.Fields[0].Message, want) {
		t.Fatalf("%s: message %q does not name the bound %s", what, f.Fields[0].Message, want)
	}
}

// TestGraceBounds: a grace period is 0 to 7 days in whole seconds.
func TestGraceBounds(t *testing.T) {
	seconds := []struct {
		n  int64
		ok bool
	}{
		{0, true}, {1, true}, {3600, true}, {604800, true},
		{604801, false}, {-1, false}, {math.MinInt64, false}, {math.MaxInt64, false},
	}
	for _, tc := range seconds {
		d, err := keys.GraceSeconds(tc.n)
		switch {
		case tc.ok && (err != nil || d != time.Duration(tc.n)*time.Second):
			t.Errorf("GraceSeconds(%d) = %s, %v; want %ds", tc.n, d, err, tc.n)
		case !tc.ok:
			wantGraceRefusal(t, "GraceSeconds", err)
		}
	}
	durations := []struct {
		d  time.Duration
		ok bool
	}{
		{0, true}, {time.Second, true}, {keys.MaxGrace, true},
		{keys.MaxGrace + time.Second, false}, {-time.Second, false}, {1500 * time.Millisecond, false},
	}
	for _, tc := range durations {
		err := keys.ValidateGrace(tc.d)
		if tc.ok && err != nil {
			t.Errorf("ValidateGrace(%s): %v", tc.d, err)
		} else if !tc.ok {
			wantGraceRefusal(t, "ValidateGrace("+tc.d.String()+")", err)
		}
	}
}

// graceFixture is a service over bbolt with a settable clock, an owner and
// one read-only key to rotate.
type graceFixture struct {
	mu     sync.Mutex
	now    time.Time
	writes *countingStore
	svc    *keys.Service
	owner  authz.Principal
	key    keys.Created
}

func (f *graceFixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *graceFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newGraceFixture(t *testing.T) *graceFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &graceFixture{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), writes: &countingStore{Store: st}}
	f.svc = keys.NewService(f.writes, st, authz.NewCatalog(), token.NewGenerator(), f.clock, keys.Limits{})
	ctx := context.Background()
	_, owner, err := f.svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	f.owner = authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	name, never, ro := "ci", "never", authz.PresetReadOnly
	if f.key, err = f.svc.Create(ctx, f.owner, keys.Spec{Name: &name, Preset: &ro, Expiration: &never}); err != nil {
		t.Fatal(err)
	}
	return f
}

// digestOf returns the digest of a token's verifier.
func digestOf(t *testing.T, tok string) token.Digest {
	t.Helper()
	p, err := token.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	return p.Digest()
}

// TestRotateGraceRules: what each rotation, revocation and edit leaves as
// the key's previous token, and its version.
func TestRotateGraceRules(t *testing.T) {
	f := newGraceFixture(t)
	ctx := context.Background()
	id := f.key.Key.ID
	tokens := []string{f.key.Token} // every token the key had, oldest first
	type want struct {
		previous int // index in tokens of the previous token; -1 for none
		ends     time.Duration
		version  int64
	}
	check := func(t *testing.T, k *keys.Key, w want) {
		t.Helper()
		if k.Version != w.version {
			t.Fatalf("version %d, want %d", k.Version, w.version)
		}
		if k.SecretDigest != digestOf(t, tokens[len(tokens)-1]) {
			t.Fatal("the current digest is not the last token's")
		}
		if w.previous < 0 {
			if k.Previous != nil {
				t.Fatalf("previous token ending %s kept, want none", k.Previous.ExpiresAt)
			}
			return
		}
		p := k.Previous
		if p == nil {
			t.Fatal("no previous token kept")
		}
		if p.Digest != digestOf(t, tokens[w.previous]) {
			t.Fatalf("the previous token is not token %d", w.previous)
		}
		if want := tokens[w.previous]; p.Hint[:11] != want[:11] || p.Hint[len(p.Hint)-4:] != want[len(want)-4:] {
			t.Fatalf("previous hint %q is not token %d's", p.Hint, w.previous)
		}
		if !p.ExpiresAt.Equal(f.clock().Add(w.ends)) {
			t.Fatalf("previous token ends %s, want %s", p.ExpiresAt, f.clock().Add(w.ends))
		}
	}
	rotate := func(grace time.Duration) func(t *testing.T) (*keys.Key, error) {
		return func(t *testing.T) (*keys.Key, error) {
			c, err := f.svc.Rotate(ctx, f.owner, id, keys.AnyVersion, grace)
			if err == nil {
				tokens = append(tokens, c.Token)
			}
			return c.Key, err
		}
	}
	revoke := func(t *testing.T) (*keys.Key, error) {
		return f.svc.RevokePrevious(ctx, f.owner, id, keys.AnyVersion)
	}
	rename := func(name string) func(t *testing.T) (*keys.Key, error) {
		return func(t *testing.T) (*keys.Key, error) {
			k, _, err := f.svc.Update(ctx, f.owner, id, keys.Spec{Name: &name}, keys.AnyVersion)
			return k, err
		}
	}
	steps := []struct {
		name    string
		advance time.Duration
		do      func(t *testing.T) (*keys.Key, error)
		code    fault.Code // "" for success
		writes  int64
		want    want
	}{
		{"revoke without a previous token: not found", 0, revoke, fault.CodeNotFound, 0, want{}},
		{"rotate without grace: no previous token", 0, rotate(0), "", 1, want{-1, 0, 2}},
		{"rotate with 1h: token 1 kept for 1h", 0, rotate(time.Hour), "", 1, want{1, time.Hour, 3}},
		{"a no-op edit writes nothing and keeps it", 0, rename("ci"), "", 0, want{1, time.Hour, 3}},
		{"an edit keeps it", 0, rename("ci 2"), "", 1, want{1, time.Hour, 4}},
		{"rotate again with 2h: token 2 replaces token 1", 10 * time.Minute, rotate(2 * time.Hour), "", 1, want{2, 2 * time.Hour, 5}},
		{"revoke: gone, version grows", 0, revoke, "", 1, want{-1, 0, 6}},
		{"revoke again: not found", 0, revoke, fault.CodeNotFound, 0, want{}},
		{"rotate with the maximum", 0, rotate(keys.MaxGrace), "", 1, want{3, keys.MaxGrace, 7}},
		{"grace above the maximum: refused, nothing written", 0, rotate(keys.MaxGrace + time.Second), fault.CodeValidation, 0, want{}},
		{"negative grace: refused", 0, rotate(-time.Second), fault.CodeValidation, 0, want{}},
		{"rotate without grace drops the previous token", 0, rotate(0), "", 1, want{-1, 0, 8}},
		{"rotate with 1s", 0, rotate(time.Second), "", 1, want{5, time.Second, 9}},
		{"revoke once the grace ended: not found, nothing written", time.Second, revoke, fault.CodeNotFound, 0, want{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.advance(st.advance)
			before := f.writes.updates.Load()
			k, err := st.do(t)
			if got := f.writes.updates.Load() - before; got != st.writes {
				t.Fatalf("%d writes, want %d", got, st.writes)
			}
			if st.code != "" {
				if fault.CodeOf(err) != st.code {
					t.Fatalf("got %v, want %s", err, st.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check(t, k, st.want)
		})
	}
}

// TestRevokePreviousConflicts: revoking the previous token is conditional
// on the version; of concurrent rotations and revocations one wins.
func TestRevokePreviousConflicts(t *testing.T) {
	f := newGraceFixture(t)
	ctx := context.Background()
	id := f.key.Key.ID
	c, err := f.svc.Rotate(ctx, f.owner, id, keys.AnyVersion, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokePrevious(ctx, f.owner, id, c.Key.Version-1); fault.CodeOf(err) != fault.CodeConflict {
		t.Fatalf("revoke with a stale If-Match: %v, want a conflict", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = f.svc.RevokePrevious(ctx, f.owner, id, c.Key.Version)
			} else {
				_, errs[i] = f.svc.Rotate(ctx, f.owner, id, c.Key.Version, time.Hour)
			}
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case fault.CodeOf(err) != fault.CodeConflict:
			t.Fatalf("writer %d: %v, want nil or a conflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won version %d, want exactly 1", won, c.Key.Version)
	}
	k, err := f.svc.Get(ctx, f.owner, id)
	if err != nil || k.Version != c.Key.Version+1 {
		t.Fatalf("after the race: version %v, %v; want %d", k.Version, err, c.Key.Version+1)
	}
}
