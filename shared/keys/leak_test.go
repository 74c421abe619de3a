package keys_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
)

// leakFixture is an organization with its owner and a 30-day read-only key,
// on a clock the test moves.
type leakFixture struct {
	svc   *keys.Service
	store *countingStore
	owner authz.Principal
	key   keys.Created
	now   *time.Time
}

func newLeakFixture(t *testing.T) *leakFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	cs := &countingStore{Store: st}
	svc := keys.NewService(cs, st, authz.NewCatalog(), token.NewGenerator(), func() time.Time { return now }, keys.Limits{})
	_, owner, err := svc.Bootstrap(t.Context(), "Org")
	if err != nil {
		t.Fatal(err)
	}
	caller := authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	name, exp, ro := "CI", "30d", authz.PresetReadOnly
	c, err := svc.Create(t.Context(), caller, keys.Spec{Name: &name, Preset: &ro, Expiration: &exp})
	if err != nil {
		t.Fatal(err)
	}
	return &leakFixture{svc: svc, store: cs, owner: caller, key: c, now: &now}
}

func TestReportLeak(t *testing.T) {
	f := newLeakFixture(t)
	ctx := t.Context()
	other := token.NewGenerator()
	foreign, err := other.New()
	if err != nil {
		t.Fatal(err)
	}
	sameSelector, err := other.WithSelector(strings.TrimPrefix(f.key.Key.ID, token.KeyIDPrefix))
	if err != nil {
		t.Fatal(err)
	}
	// Not ours: nothing is written, whatever the token is.
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"malformed", "dotenv_nope"},
		{"bad checksum", f.key.Token[:len(f.key.Token)-1] + "x"},
		{"unknown key", foreign.Token},
		{"the key's id with another verifier", sameSelector.Token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.store.updates.Load()
			out, k, err := f.svc.ReportLeak(ctx, keys.LeakReport{Token: tc.token, Reporter: keys.ReporterSelf})
			if err != nil || out != keys.LeakNotOurs || k != nil || out.Ours() {
				t.Fatalf("got %v %v %v, want not ours", out, k, err)
			}
			if f.store.updates.Load() != before {
				t.Fatal("a report of a token that is not live wrote to the store")
			}
		})
	}

	// A live token is revoked at once, with what the report said, cleaned.
	url := "https://github.com/o/r/blob/main/.env\x00\u202e?t=" + f.key.Token + strings.Repeat("a", 3000)
	out, k, err := f.svc.ReportLeak(ctx, keys.LeakReport{Token: f.key.Token, Reporter: keys.ReporterGitHub, URL: url, Source: "commit\n" + f.key.Token})
	if err != nil || out != keys.LeakRevoked {
		t.Fatalf("live token: %v %v", out, err)
	}
	r := k.Revoked
	if r == nil || r.Reason != keys.ReasonLeaked || r.Reporter != keys.ReporterGitHub || r.Source != "commit"+token.Redacted || !r.At.Equal(*f.now) {
		t.Fatalf("revocation = %+v", r)
	}
	if len(r.URL) > 2048 || strings.ContainsAny(r.URL, "\x00\u202e") || !strings.HasPrefix(r.URL, "https://github.com/o/r/blob/main/.env") {
		t.Fatalf("the reported url was stored as given (%d bytes): %.60q", len(r.URL), r.URL)
	}
	if strings.Contains(r.URL, f.key.Token) || !strings.Contains(r.URL, "?t="+token.Redacted) {
		t.Fatalf("the reported url keeps the token it quotes: %.80q", r.URL)
	}
	if k.Status(*f.now) != "revoked" || k.Version != 2 {
		t.Fatalf("status %s version %d", k.Status(*f.now), k.Version)
	}
	// A second report changes nothing.
	before := f.store.updates.Load()
	out, _, err = f.svc.ReportLeak(ctx, keys.LeakReport{Token: f.key.Token, Reporter: keys.ReporterSelf})
	if err != nil || out != keys.LeakAlreadyRevoked || !out.Ours() || f.store.updates.Load() != before {
		t.Fatalf("second report: %v %v", out, err)
	}

	// Rotating makes it active again with a new token; the leaked one
	// stays dead (its digest is gone).
	// A grace period is not given: the leaked token must not live on as
	// the previous token.
	c, err := f.svc.Rotate(ctx, f.owner, f.key.Key.ID, keys.AnyVersion, time.Hour)
	if err != nil {
		t.Fatalf("rotating a revoked key: %v", err)
	}
	if c.Key.Revoked != nil || c.Key.Status(*f.now) != "active" || c.Key.Previous != nil {
		t.Fatalf("after rotation: revoked %+v, previous %+v", c.Key.Revoked, c.Key.Previous)
	}
	if out, _, _ := f.svc.ReportLeak(ctx, keys.LeakReport{Token: f.key.Token}); out != keys.LeakNotOurs {
		t.Fatalf("the leaked token after rotation: %v", out)
	}

	// A previous token in its grace period is live too: reporting it
	// revokes the key, which ends both tokens.
	graced, err := f.svc.Rotate(ctx, f.owner, f.key.Key.ID, keys.AnyVersion, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if out, k, err := f.svc.ReportLeak(ctx, keys.LeakReport{Token: c.Token, Reporter: keys.ReporterSelf}); err != nil || out != keys.LeakRevoked || k.Revoked == nil {
		t.Fatalf("reporting the previous token in its grace period: %v %v", out, err)
	}
	// Past the grace period the previous token is not live: not ours.
	c, err = f.svc.Rotate(ctx, f.owner, f.key.Key.ID, keys.AnyVersion, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	*f.now = f.now.Add(time.Hour)
	if out, _, _ := f.svc.ReportLeak(ctx, keys.LeakReport{Token: graced.Token}); out != keys.LeakNotOurs {
		t.Fatalf("a previous token past its grace period: %v", out)
	}

	// An expired key's token is ours but not live: no write.
	*f.now = f.now.Add(31 * 24 * time.Hour)
	before = f.store.updates.Load()
	out, _, err = f.svc.ReportLeak(ctx, keys.LeakReport{Token: c.Token})
	if err != nil || out != keys.LeakDead || f.store.updates.Load() != before {
		t.Fatalf("expired key: %v %v", out, err)
	}
}

// TestReportLeakRacesEdits: a revocation racing edits of the same key is
// applied to whichever version wins; it is never lost.
func TestReportLeakRacesEdits(t *testing.T) {
	f := newLeakFixture(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "edited " + string(rune('a'+i))
			_, _, _ = f.svc.Update(ctx, f.owner, f.key.Key.ID, keys.Spec{Name: &name}, keys.AnyVersion)
		}()
	}
	out, _, err := f.svc.ReportLeak(ctx, keys.LeakReport{Token: f.key.Token, Reporter: keys.ReporterSelf})
	wg.Wait()
	if err != nil || out != keys.LeakRevoked {
		t.Fatalf("report racing edits: %v %v", out, err)
	}
	k, err := f.svc.Get(ctx, f.owner, f.key.Key.ID)
	if err != nil || k.Revoked == nil {
		t.Fatalf("after the race the key is not revoked: %v", err)
	}
}
