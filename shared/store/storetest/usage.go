package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/usage"
)

// counts returns Counts with allowed and the denied counts in the order of
// usage.Reasons (missing ones are zero).
func counts(allowed int64, denied ...int64) usage.Counts {
	c := usage.Counts{Allowed: allowed}
	copy(c.Denied[:], denied)
	return c
}

func mustAddUsage(t *testing.T, s store.Store, b usage.Batch) {
	t.Helper()
	if err := s.AddUsage(t.Context(), b); err != nil {
		t.Fatalf("AddUsage: %v", err)
	}
}

func mustKeyUsage(t *testing.T, s store.Store, id, from, to string) []usage.Day {
	t.Helper()
	days, err := s.KeyUsage(t.Context(), id, from, to)
	if err != nil {
		t.Fatalf("KeyUsage(%s, %s, %s): %v", id, from, to, err)
	}
	return days
}

func testUsageAddAndRead(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k, other := newKey(org, now()), newKey(org, now())
	mustCreateKey(t, s, k)
	mustCreateKey(t, s, other)
	if days := mustKeyUsage(t, s, k.ID, "2026-01-01", "2026-01-30"); len(days) != 0 {
		t.Fatalf("KeyUsage of an unused key = %v, want no days", days)
	}
	mustAddUsage(t, s, usage.Batch{Days: []usage.DayDelta{
		{KeyID: k.ID, Date: "2025-12-31", Counts: counts(100)}, // before the window
		{KeyID: k.ID, Date: "2026-01-01", Counts: counts(3, 2)},
		{KeyID: k.ID, Date: "2026-01-05", Counts: counts(0, 0, 1)},
		{KeyID: k.ID, Date: "2026-01-31", Counts: counts(7)}, // after it
		{KeyID: other.ID, Date: "2026-01-01", Counts: counts(9, 9, 9)},
	}})
	mustAddUsage(t, s, usage.Batch{Days: []usage.DayDelta{
		{KeyID: k.ID, Date: "2026-01-01", Counts: counts(1, 0, 1)},
	}})
	got := mustKeyUsage(t, s, k.ID, "2026-01-01", "2026-01-30")
	want := []usage.Day{{Date: "2026-01-01", Counts: counts(4, 2, 1)}, {Date: "2026-01-05", Counts: counts(0, 0, 1)}}
	if !slices.Equal(got, want) {
		t.Fatalf("KeyUsage = %+v, want %+v (the days of the window only, oldest first, added up)", got, want)
	}
	_, err := s.KeyUsage(t.Context(), newID("key_"), "2026-01-01", "2026-01-30")
	wantErr(t, "KeyUsage of a missing key", err, fault.ErrNotFound)
}

func testUsageConcurrent(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k := newKey(org, now())
	mustCreateKey(t, s, k)
	const writers, flushes = 2, 5
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for range flushes {
				err := s.AddUsage(t.Context(), usage.Batch{Days: []usage.DayDelta{{KeyID: k.ID, Date: "2026-02-01", Counts: counts(1, 2, 3)}}})
				errs[w] = errors.Join(errs[w], err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("AddUsage: %v", err)
	}
	got := mustKeyUsage(t, s, k.ID, "2026-02-01", "2026-02-01")
	want := []usage.Day{{Date: "2026-02-01", Counts: counts(writers*flushes, 2*writers*flushes, 3*writers*flushes)}}
	if !slices.Equal(got, want) {
		t.Fatalf("KeyUsage after %d concurrent flushes = %+v, want %+v (no count lost)", writers*flushes, got, want)
	}
}

func testUsageLastUse(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at.Add(-time.Hour))
	mustCreateKey(t, s, k)
	want := k.Clone()
	use := func(when time.Time, ip, ua string) {
		t.Helper()
		mustAddUsage(t, s, usage.Batch{LastUses: []usage.LastUseDelta{{KeyID: k.ID, LastUse: usage.LastUse{At: when, IP: ip, UserAgent: ua}}}})
	}
	use(at, "192.0.2.1", "ci/1")
	want.LastUsedAt, want.LastUsedIP, want.LastUsedUserAgent = at, "192.0.2.1", "ci/1"
	checkKey(t, "GetKey after a last use (Version unchanged)", want, mustGetKey(t, s, k.ID))

	use(at.Add(-time.Second), "192.0.2.2", "old/1") // older: ignored
	use(at, "192.0.2.3", "same/1")                  // as recent: ignored
	checkKey(t, "GetKey after older last uses", want, mustGetKey(t, s, k.ID))

	// The previous token's last use never changes the current one's.
	mustAddUsage(t, s, usage.Batch{LastUses: []usage.LastUseDelta{{KeyID: k.ID, Previous: true, LastUse: usage.LastUse{At: at.Add(time.Hour), IP: "192.0.2.9"}}}})
	checkKey(t, "GetKey after a previous token's last use", want, mustGetKey(t, s, k.ID))

	later := at.Add(time.Minute)
	use(later, "2001:db8::1", "")
	want.LastUsedAt, want.LastUsedIP, want.LastUsedUserAgent = later, "2001:db8::1", ""
	checkKey(t, "GetKey after a newer last use", want, mustGetKey(t, s, k.ID))

	// An edit keeps the last use.
	up := want.Clone()
	up.Name, up.Version, up.LastUsedAt, up.LastUsedIP, up.LastUsedUserAgent = "edited", 2, time.Time{}, "", ""
	if err := s.UpdateKey(t.Context(), up, 1, ev()); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}
	want.Name, want.Version = "edited", 2
	checkKey(t, "GetKey after UpdateKey", want, mustGetKey(t, s, k.ID))
}

func testUsageDeletedKey(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k := newKey(org, now())
	mustCreateKey(t, s, k)
	mustAddUsage(t, s, usage.Batch{Days: []usage.DayDelta{{KeyID: k.ID, Date: "2026-03-01", Counts: counts(1)}}})
	if err := s.DeleteKey(t.Context(), k.ID, 1, ev()); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	_, err := s.KeyUsage(t.Context(), k.ID, "2026-03-01", "2026-03-30")
	wantErr(t, "KeyUsage of a deleted key", err, fault.ErrNotFound)

	// A flush that comes after the delete creates no key.
	mustAddUsage(t, s, usage.Batch{
		Days:     []usage.DayDelta{{KeyID: k.ID, Date: "2026-03-01", Counts: counts(1)}},
		LastUses: []usage.LastUseDelta{{KeyID: k.ID, LastUse: usage.LastUse{At: now(), IP: "192.0.2.1"}}},
	})
	_, err = s.GetKey(t.Context(), k.ID)
	wantErr(t, "GetKey of a deleted key after a flush", err, fault.ErrNotFound)
	_, err = s.KeyUsage(t.Context(), k.ID, "2026-03-01", "2026-03-30")
	wantErr(t, "KeyUsage of a deleted key after a flush", err, fault.ErrNotFound)
}

func testUsagePreviousLastUse(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at.Add(-time.Hour))
	mustCreateKey(t, s, k)
	update := func(next *keys.Key, expected int64) *keys.Key {
		t.Helper()
		next.Version = expected + 1
		if err := s.UpdateKey(t.Context(), next, expected, ev()); err != nil {
			t.Fatalf("UpdateKey to version %d: %v", next.Version, err)
		}
		return mustGetKey(t, s, k.ID)
	}
	// Rotate with a grace period: the old token becomes the previous one.
	rot := k.Clone()
	rot.Previous = &keys.PreviousToken{Digest: k.SecretDigest, Hint: k.Hint, ExpiresAt: at.Add(time.Hour)}
	rot.SecretDigest = randomDigest()
	update(rot, 1)
	prevUse := func(digest [32]byte, when time.Time, ip string) {
		t.Helper()
		mustAddUsage(t, s, usage.Batch{LastUses: []usage.LastUseDelta{{KeyID: k.ID, Previous: true, PreviousDigest: digest, LastUse: usage.LastUse{At: when, IP: ip, UserAgent: "old-ci/1"}}}})
	}
	prevUse(k.SecretDigest, at, "192.0.2.1")
	prevUse(randomDigest(), at.Add(time.Minute), "192.0.2.9") // not the key's previous token: ignored
	got := mustGetKey(t, s, k.ID)
	if p := got.Previous; p == nil || !sameTime(at, p.LastUsedAt) || p.LastUsedIP != "192.0.2.1" || p.LastUsedUserAgent != "old-ci/1" {
		t.Fatalf("previous token's last use = %+v, want %v from 192.0.2.1 (old-ci/1)", got.Previous, at)
	}
	if !got.LastUsedAt.IsZero() || got.LastUsedIP != "" || got.Version != 2 {
		t.Fatalf("the previous token's use changed the current one's or the version: %+v", got)
	}
	// An edit keeps it.
	ed := got.Clone()
	ed.Name = "edited"
	got = update(ed, 2)
	if p := got.Previous; p == nil || !sameTime(at, p.LastUsedAt) || p.LastUsedIP != "192.0.2.1" {
		t.Fatalf("after an edit the previous token's last use = %+v, want it kept", got.Previous)
	}
	// Rotating again makes another previous token, never used yet.
	again := got.Clone()
	again.Previous = &keys.PreviousToken{Digest: got.SecretDigest, Hint: got.Hint, ExpiresAt: at.Add(time.Hour)}
	again.SecretDigest = randomDigest()
	got = update(again, 3)
	if p := got.Previous; p == nil || !p.LastUsedAt.IsZero() || p.LastUsedIP != "" {
		t.Fatalf("a new previous token inherited a last use: %+v", got.Previous)
	}
	prevUse(k.SecretDigest, at.Add(2*time.Minute), "192.0.2.1") // the token it replaced: ignored
	if p := mustGetKey(t, s, k.ID).Previous; !p.LastUsedAt.IsZero() {
		t.Fatalf("a flush for the replaced previous token wrote on the new one: %+v", p)
	}
}
