package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
)

// concurrency is how many goroutines race in the concurrency tests.
const concurrency = 8

func testKeyRoundTrip(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	zone := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		name string
		key  func() *keys.Key
	}{
		{"minimal: no grants, zero times, never expires, no creator", func() *keys.Key {
			k := newKey(org, at)
			k.Grants, k.CreatedBy = nil, ""
			return k
		}},
		{"full: scoped grants at every level, expiry, rotated and used", func() *keys.Key {
			k := newKey(org, at.Add(-48*time.Hour))
			k.Grants = []authz.Grant{
				{Permission: "secrets:read"},
				{Permission: "secrets:write", Scope: authz.Node{Team: "team_a"}},
				{Permission: "projects:read", Scope: authz.Node{Team: "team_a", Project: "prj_b"}},
				{Permission: "targets:update", Scope: authz.Node{Team: "team_a", Project: "prj_b", Target: "tgt_c"}},
				{Permission: "secrets:*", Scope: authz.Node{Team: "team_a", Project: "prj_b", Target: "tgt_c", Environment: "env_d"}},
				{Permission: "secrets:read", Scope: authz.Node{Team: "team_z"}},
			}
			k.ExpiresAt = at.Add(90 * 24 * time.Hour)
			k.UpdatedAt = at.Add(-time.Hour)
			k.RotatedAt = at.Add(-time.Hour)
			k.LastUsedAt = at.Add(-time.Minute)
			return k
		}},
		{"allow-all, expired", func() *keys.Key {
			k := newKey(org, at.Add(-time.Hour))
			k.AllowAll, k.Grants = true, nil
			k.ExpiresAt = at.Add(-time.Second)
			return k
		}},
		{"times in another zone come back as the same instant in UTC", func() *keys.Key {
			k := newKey(org, at.In(zone))
			k.UpdatedAt = at.Add(time.Millisecond).In(zone)
			k.ExpiresAt = at.Add(time.Hour).In(zone)
			k.LastUsedAt = at.Add(2 * time.Millisecond).In(zone)
			return k
		}},
		{"revoked after a leak report, with its url and source", func() *keys.Key {
			k := newKey(org, at)
			k.Revoked = &keys.Revocation{At: at.Add(time.Millisecond), Reason: keys.ReasonLeaked, Reporter: keys.ReporterGitHub,
				URL: "https://github.com/o/r/blob/main/.env#L3 — ünïcode", Source: "commit"}
			return k
		}},
		{"network allowlist: IPv4 and IPv6, a single host, the whole IPv4 space", func() *keys.Key {
			k := newKey(org, at)
			k.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("2001:db8:ffff::1/128")}
			k.AllowedNetworks = authz.NormalizeNetworks(k.AllowedNetworks)
			return k
		}},
		{"network allowlist at the bound: 32 networks", func() *keys.Key {
			k := newKey(org, at)
			k.AllowedNetworks = networksN(authz.MaxNetworks)
			return k
		}},
		{"name with unicode and punctuation", func() *keys.Key {
			k := newKey(org, at)
			k.Name = `CI — "déploiement" / prod #1 <ok>`
			return k
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.key()
			want := in.Clone()
			mustCreateKey(t, s, in)
			checkKey(t, "GetKey after CreateKey", want, mustGetKey(t, s, in.ID))

			// The store does not alias the caller's key.
			in.Name = "changed by the caller"
			if len(in.Grants) > 0 {
				in.Grants[0].Permission = "billing:manage"
			}
			if len(in.AllowedNetworks) > 0 {
				in.AllowedNetworks[0] = netip.MustParsePrefix("198.51.100.0/24")
			}
			in.Version = 99
			checkKey(t, "GetKey after the caller changed its copy", want, mustGetKey(t, s, in.ID))
		})
	}
}

// testKeyRevocation: UpdateKey records a revocation and a later UpdateKey
// (the rotation) removes it; a key revoked without url or source reads
// back without them.
func testKeyRevocation(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at)
	mustCreateKey(t, s, k)
	revoked := mustGetKey(t, s, k.ID).Clone()
	revoked.Revoked = &keys.Revocation{At: at, Reason: keys.ReasonLeaked, Reporter: keys.ReporterSelf}
	revoked.UpdatedAt, revoked.Version = at.Add(time.Millisecond), 2
	if err := s.UpdateKey(t.Context(), revoked, 1, ev()); err != nil {
		t.Fatalf("UpdateKey revoking: %v", err)
	}
	checkKey(t, "GetKey after revoking", revoked, mustGetKey(t, s, k.ID))
	rotated := revoked.Clone()
	rotated.Revoked, rotated.SecretDigest, rotated.RotatedAt = nil, randomDigest(), at.Add(2*time.Millisecond)
	rotated.UpdatedAt, rotated.Version = at.Add(2*time.Millisecond), 3
	if err := s.UpdateKey(t.Context(), rotated, 2, ev()); err != nil {
		t.Fatalf("UpdateKey clearing the revocation: %v", err)
	}
	checkKey(t, "GetKey after the rotation cleared the revocation", rotated, mustGetKey(t, s, k.ID))
}

// networksN returns n distinct IPv4 and IPv6 networks in normal form.
func networksN(n int) []netip.Prefix {
	ps := make([]netip.Prefix, n)
	for i := range ps {
		if i%2 == 0 {
			ps[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		} else {
			ps[i] = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i)}), 40)
		}
	}
	return authz.NormalizeNetworks(ps)
}

// testKeyNetworks: an allowlist round-trips through CreateKey, UpdateKey
// (replaced, then cleared) and ListKeys; the write gate refuses a list
// the readers would not accept (more than authz.MaxNetworks entries, one
// not in normal form), with nothing written.
func testKeyNetworks(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k := newKey(org, now())
	k.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}
	mustCreateKey(t, s, k.Clone())
	checkKey(t, "GetKey after CreateKey", k, mustGetKey(t, s, k.ID))

	for _, nets := range [][]netip.Prefix{networksN(authz.MaxNetworks), {netip.MustParsePrefix("2001:db8:1::/48")}, nil} {
		up := mustGetKey(t, s, k.ID).Clone()
		up.AllowedNetworks, up.Version = nets, up.Version+1
		if err := s.UpdateKey(t.Context(), up.Clone(), up.Version-1, ev()); err != nil {
			t.Fatalf("UpdateKey to %d networks: %v", len(nets), err)
		}
		checkKey(t, fmt.Sprintf("GetKey after UpdateKey to %d networks", len(nets)), up, mustGetKey(t, s, k.ID))
	}

	bad := map[string][]netip.Prefix{
		"33 networks":       networksN(authz.MaxNetworks + 1),
		"unmasked":          {netip.MustParsePrefix("10.0.0.1/8")},
		"IPv4-mapped":       {netip.MustParsePrefix("::ffff:10.0.0.0/104")},
		"unsorted":          {netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("10.0.0.0/16")},
		"one inside other":  {netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16")},
		"the invalid value": {{}},
	}
	for name, nets := range bad {
		nk := newKey(org, now())
		nk.AllowedNetworks = nets
		err := s.CreateKey(t.Context(), nk, ev())
		wantRefusal(t, "CreateKey with networks "+name, err, false)
		_, gerr := s.GetKey(t.Context(), nk.ID)
		wantErr(t, "GetKey after CreateKey with networks "+name, gerr, fault.ErrNotFound)

		cur := mustGetKey(t, s, k.ID)
		up := cur.Clone()
		up.AllowedNetworks, up.Version = nets, cur.Version+1
		err = s.UpdateKey(t.Context(), up, cur.Version, ev())
		wantRefusal(t, "UpdateKey with networks "+name, err, false)
		checkKey(t, "GetKey after UpdateKey with networks "+name, cur, mustGetKey(t, s, k.ID))
	}
	checkListed(t, s, org, map[string]*keys.Key{k.ID: mustGetKey(t, s, k.ID)})
}

func testKeyCreateConflict(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k := newKey(org, now())
	want := k.Clone()
	mustCreateKey(t, s, k)

	again := newKey(org, now().Add(time.Second))
	again.ID = k.ID
	wantErr(t, "CreateKey with an existing id", s.CreateKey(t.Context(), again, ev()), fault.ErrConflict)
	checkKey(t, "GetKey after the refused create", want, mustGetKey(t, s, k.ID))
}

func testKeyGetMissing(t *testing.T, s store.Store) {
	for _, id := range []string{newID("key_"), "key_", "no such key"} {
		k, err := s.GetKey(t.Context(), id)
		wantErr(t, fmt.Sprintf("GetKey(%q)", id), err, fault.ErrNotFound)
		if k != nil {
			t.Fatalf("GetKey(%q) returned a key with the error", id)
		}
	}
}

func testKeyUpdate(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	other := newOrg(t, s).ID
	at := now()
	k := newKey(org, at.Add(-time.Hour))
	k.LastUsedAt = at.Add(-time.Minute)
	mustCreateKey(t, s, k)

	// Everything UpdateKey replaces changes; LastUsedAt, CreatedAt,
	// CreatedBy and the organization stay.
	up := k.Clone()
	up.Name = "renamed"
	up.Access = authz.Access{
		Grants:    []authz.Grant{{Permission: "projects:read", Scope: authz.Node{Team: "team_x", Project: "prj_y"}}},
		ExpiresAt: at.Add(30 * 24 * time.Hour),
	}
	up.SecretDigest = randomDigest()
	up.Hint = "dotenv_new…hint"
	up.UpdatedAt = at
	up.RotatedAt = at
	up.Version = 2
	up.LastUsedAt = at.Add(time.Hour)
	up.CreatedAt = at.Add(time.Hour)
	up.CreatedBy = "key_somebodyelse"
	up.OrganizationID = other
	if err := s.UpdateKey(t.Context(), up, 1, ev()); err != nil {
		t.Fatalf("UpdateKey with the current version: %v", err)
	}
	want := up.Clone()
	want.LastUsedAt, want.CreatedAt, want.CreatedBy, want.OrganizationID = k.LastUsedAt, k.CreatedAt, k.CreatedBy, org
	checkKey(t, "GetKey after UpdateKey", want, mustGetKey(t, s, k.ID))
	if got := keyIDs(listAllKeys(t, s, other, 0, 2)); len(got) != 0 {
		t.Fatalf("UpdateKey moved the key into another organization's listing: %v", got)
	}
	if got := keyIDs(listAllKeys(t, s, org, 0, 2)); !slices.Equal(got, []string{k.ID}) {
		t.Fatalf("the organization's listing after UpdateKey = %v, want [%s]", got, k.ID)
	}

	// A stale version is refused and changes nothing.
	stale := want.Clone()
	stale.Name, stale.Version, stale.UpdatedAt = "stale", 2, at.Add(time.Second)
	wantErr(t, "UpdateKey with a stale version", s.UpdateKey(t.Context(), stale, 1, ev()), fault.ErrConflict)
	stale.Version = 4
	wantErr(t, "UpdateKey with a version from the future", s.UpdateKey(t.Context(), stale, 3, ev()), fault.ErrConflict)
	checkKey(t, "GetKey after refused updates", want, mustGetKey(t, s, k.ID))

	// The next version goes through.
	next := want.Clone()
	next.Name, next.Version, next.UpdatedAt = "third", 3, at.Add(2*time.Second)
	if err := s.UpdateKey(t.Context(), next, 2, ev()); err != nil {
		t.Fatalf("UpdateKey 2 → 3: %v", err)
	}
	checkKey(t, "GetKey after the second update", next, mustGetKey(t, s, k.ID))

	// A missing key is not found.
	missing := newKey(org, at)
	missing.Version = 2
	wantErr(t, "UpdateKey of a missing key", s.UpdateKey(t.Context(), missing, 1, ev()), fault.ErrNotFound)
	_, err := s.GetKey(t.Context(), missing.ID)
	wantErr(t, "GetKey after UpdateKey of a missing key", err, fault.ErrNotFound)
}

func testKeyUpdateConcurrent(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k := newKey(org, now())
	mustCreateKey(t, s, k)

	var wg sync.WaitGroup
	errs := make([]error, concurrency)
	for i := range concurrency {
		wg.Go(func() {
			up := k.Clone()
			up.Name = fmt.Sprintf("writer %d", i)
			up.SecretDigest = randomDigest()
			up.Version = 2
			errs[i] = s.UpdateKey(t.Context(), up, 1, ev())
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both updated version 1", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, fault.ErrConflict):
			t.Fatalf("writer %d: got %v, want nil or a conflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer won: %v", errs)
	}
	got := mustGetKey(t, s, k.ID)
	if got.Name != fmt.Sprintf("writer %d", winner) || got.Version != 2 {
		t.Fatalf("stored key has name %q version %d, want the winner's (writer %d, version 2)", got.Name, got.Version, winner)
	}
}

func testKeyDelete(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at)
	keep := newKey(org, at.Add(-time.Second))
	mustCreateKey(t, s, k)
	mustCreateKey(t, s, keep)

	wantErr(t, "DeleteKey with a stale version", s.DeleteKey(t.Context(), k.ID, 2, ev()), fault.ErrConflict)
	mustGetKey(t, s, k.ID)
	if err := s.DeleteKey(t.Context(), k.ID, 1, ev()); err != nil {
		t.Fatalf("DeleteKey with the current version: %v", err)
	}
	_, err := s.GetKey(t.Context(), k.ID)
	wantErr(t, "GetKey after DeleteKey", err, fault.ErrNotFound)
	wantErr(t, "DeleteKey twice", s.DeleteKey(t.Context(), k.ID, 1, ev()), fault.ErrNotFound)
	wantErr(t, "DeleteKey of a missing key", s.DeleteKey(t.Context(), newID("key_"), 1, ev()), fault.ErrNotFound)
	wantErr(t, "UpdateKey of a deleted key", s.UpdateKey(t.Context(), k, 1, ev()), fault.ErrNotFound)
	if got := keyIDs(listAllKeys(t, s, org, 0, 2)); !slices.Equal(got, []string{keep.ID}) {
		t.Fatalf("listing after DeleteKey = %v, want only [%s]", got, keep.ID)
	}
	mustGetKey(t, s, keep.ID)
}

func testKeyTouch(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at.Add(-time.Hour))
	mustCreateKey(t, s, k)
	want := k.Clone()

	t1, t2, t3 := at, at.Add(time.Minute), at.Add(2*time.Minute)
	touch := func(prev, now time.Time, wrote bool) {
		t.Helper()
		got, err := s.TouchKey(t.Context(), k.ID, prev, now)
		if err != nil {
			t.Fatalf("TouchKey(prev %v, now %v): %v", prev, now, err)
		}
		if got != wrote {
			t.Fatalf("TouchKey(prev %v, now %v) = %v, want %v", prev, now, got, wrote)
		}
	}

	touch(time.Time{}, t1, true)
	want.LastUsedAt = t1
	checkKey(t, "GetKey after the first touch (only LastUsedAt changes)", want, mustGetKey(t, s, k.ID))

	touch(time.Time{}, t2, false) // stale: somebody recorded t1 already
	touch(t2, t3, false)
	checkKey(t, "GetKey after stale touches", want, mustGetKey(t, s, k.ID))

	touch(t1, t2, true)
	want.LastUsedAt = t2
	checkKey(t, "GetKey after the second touch", want, mustGetKey(t, s, k.ID))

	// UpdateKey keeps the recorded use, and a touch keeps the version.
	up := want.Clone()
	up.Name, up.Version, up.LastUsedAt = "edited", 2, time.Time{}
	if err := s.UpdateKey(t.Context(), up, 1, ev()); err != nil {
		t.Fatalf("UpdateKey after touches: %v", err)
	}
	want.Name, want.Version = "edited", 2
	checkKey(t, "GetKey after UpdateKey", want, mustGetKey(t, s, k.ID))
	touch(t2, t3, true)
	want.LastUsedAt = t3
	checkKey(t, "GetKey after a touch of an edited key", want, mustGetKey(t, s, k.ID))

	// A missing key: nothing written, nothing created.
	id := newID("key_")
	wrote, err := s.TouchKey(t.Context(), id, time.Time{}, t1)
	if wrote || (err != nil && !errors.Is(err, fault.ErrNotFound)) {
		t.Fatalf("TouchKey of a missing key = %v, %v; want false and nil or not found", wrote, err)
	}
	_, err = s.GetKey(t.Context(), id)
	wantErr(t, "GetKey after TouchKey of a missing key", err, fault.ErrNotFound)
}

func testKeyTouchConcurrent(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at.Add(-time.Hour))
	mustCreateKey(t, s, k)

	var wg sync.WaitGroup
	wrote := make([]bool, concurrency)
	errs := make([]error, concurrency)
	for i := range concurrency {
		wg.Go(func() {
			wrote[i], errs[i] = s.TouchKey(t.Context(), k.ID, time.Time{}, at.Add(time.Duration(i)*time.Millisecond))
		})
	}
	wg.Wait()
	winner := -1
	for i := range concurrency {
		if errs[i] != nil {
			t.Fatalf("toucher %d: %v", i, errs[i])
		}
		if wrote[i] {
			if winner >= 0 {
				t.Fatalf("touchers %d and %d both wrote over the same previous value", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no toucher wrote")
	}
	got := mustGetKey(t, s, k.ID)
	if want := at.Add(time.Duration(winner) * time.Millisecond); !sameTime(want, got.LastUsedAt) {
		t.Fatalf("LastUsedAt = %v, want the winner's %v", got.LastUsedAt, want)
	}
	if got.Version != 1 {
		t.Fatalf("Version after touches = %d, want 1", got.Version)
	}
}

func testKeyListOrder(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	other := newOrg(t, s).ID
	empty := newOrg(t, s).ID
	at := now()

	var ks []*keys.Key
	for _, d := range []time.Duration{0, -time.Hour, time.Millisecond, -24 * time.Hour, time.Millisecond, 0, 3 * time.Second} {
		ks = append(ks, newKey(org, at.Add(d)))
	}
	// Ties on CreatedAt are broken by id: make two ids differ only at the end.
	ks[5].ID = ks[0].ID[:len(ks[0].ID)-1] + "0"
	ks[0].ID = ks[0].ID[:len(ks[0].ID)-1] + "z"
	for _, k := range ks {
		mustCreateKey(t, s, k)
	}
	foreign := []*keys.Key{newKey(other, at.Add(time.Second)), newKey(other, at.Add(-time.Second))}
	for _, k := range foreign {
		mustCreateKey(t, s, k)
	}

	want := slices.Clone(ks)
	newestFirst(want)
	got := listAllKeys(t, s, org, 100, 2)
	if !slices.Equal(keyIDs(got), keyIDs(want)) {
		t.Fatalf("ListKeys order:\n got %v\nwant %v (CreatedAt descending, then ID descending)", keyIDs(got), keyIDs(want))
	}
	for i := range got {
		checkKey(t, "listed key", want[i], got[i])
	}
	newestFirst(foreign)
	if got := keyIDs(listAllKeys(t, s, other, 100, 2)); !slices.Equal(got, keyIDs(foreign)) {
		t.Fatalf("other organization's listing = %v, want %v", got, keyIDs(foreign))
	}
	p, err := s.ListKeys(t.Context(), empty, directory.ListOptions{})
	if err != nil || len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("listing of an organization without keys = %v items, next %q, %v; want an empty last page", len(p.Items), p.Next, err)
	}
}

func testKeyListPaging(t *testing.T, s store.Store) {
	const n = 120
	org := newOrg(t, s).ID
	at := now()
	ks := make([]*keys.Key, n)
	for i := range ks {
		// Every third key shares its CreatedAt with the previous one.
		ks[i] = newKey(org, at.Add(-time.Duration(i-i%3/2)*time.Second))
	}
	rand.Shuffle(n, func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	for _, k := range ks {
		mustCreateKey(t, s, k)
	}
	want := slices.Clone(ks)
	newestFirst(want)

	// Small pages visit every key exactly once, in order.
	if got := keyIDs(listAllKeys(t, s, org, 7, n/7+2)); !slices.Equal(got, keyIDs(want)) {
		t.Fatalf("paging with limit 7:\n got %v\nwant %v", got, keyIDs(want))
	}

	// The default and the maximum page sizes apply.
	for _, tc := range []struct{ limit, size int }{{0, directory.DefaultLimit}, {-3, directory.DefaultLimit}, {1000, directory.MaxLimit}} {
		p, err := s.ListKeys(t.Context(), org, directory.ListOptions{Limit: tc.limit})
		if err != nil {
			t.Fatalf("ListKeys(limit %d): %v", tc.limit, err)
		}
		if !slices.Equal(keyIDs(p.Items), keyIDs(want[:tc.size])) || p.Next == "" {
			t.Fatalf("ListKeys(limit %d) = %d items (next %q), want the first %d and a next cursor", tc.limit, len(p.Items), p.Next, tc.size)
		}
	}

	// Deleting the key a cursor points after does not lose or repeat keys.
	p, err := s.ListKeys(t.Context(), org, directory.ListOptions{Limit: 10})
	if err != nil || len(p.Items) != 10 || p.Next == "" {
		t.Fatalf("first page of 10: %d items, next %q, %v", len(p.Items), p.Next, err)
	}
	last := p.Items[9]
	if err := s.DeleteKey(t.Context(), last.ID, last.Version, ev()); err != nil {
		t.Fatalf("DeleteKey(%s): %v", last.ID, err)
	}
	p, err = s.ListKeys(t.Context(), org, directory.ListOptions{Limit: 10, Cursor: p.Next})
	if err != nil {
		t.Fatalf("page after a deleted cursor key: %v", err)
	}
	if !slices.Equal(keyIDs(p.Items), keyIDs(want[10:20])) {
		t.Fatalf("page after a deleted cursor key:\n got %v\nwant %v", keyIDs(p.Items), keyIDs(want[10:20]))
	}
}

func testKeyListCursorOtherOrg(t *testing.T, s store.Store) {
	a, b := newOrg(t, s).ID, newOrg(t, s).ID
	at := now()
	for i := range 3 {
		mustCreateKey(t, s, newKey(a, at.Add(time.Duration(i)*time.Second)))
		mustCreateKey(t, s, newKey(b, at.Add(time.Duration(i)*time.Second)))
	}
	p, err := s.ListKeys(t.Context(), a, directory.ListOptions{Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("first page of A: next %q, %v", p.Next, err)
	}
	got, err := s.ListKeys(t.Context(), b, directory.ListOptions{Limit: 1, Cursor: p.Next})
	wantValidation(t, "ListKeys of B with A's cursor", err)
	if len(got.Items) != 0 {
		t.Fatalf("ListKeys of B with A's cursor returned %d items with the error", len(got.Items))
	}
	// The cursor still works where it belongs.
	p, err = s.ListKeys(t.Context(), a, directory.ListOptions{Limit: 1, Cursor: p.Next})
	if err != nil || len(p.Items) != 1 || p.Items[0].OrganizationID != a {
		t.Fatalf("second page of A: %d items, %v", len(p.Items), err)
	}
}

func testKeyListBadCursor(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	for i := range 2 {
		mustCreateKey(t, s, newKey(org, at.Add(time.Duration(i)*time.Second)))
	}
	p, err := s.ListKeys(t.Context(), org, directory.ListOptions{Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("first page: next %q, %v", p.Next, err)
	}
	random := make([]byte, 40)
	for i := range random {
		random[i] = byte(rand.IntN(256))
	}
	for _, cursor := range []string{
		"garbage",
		"!!!not base64!!!",
		base64.RawURLEncoding.EncodeToString(random),
		base64.StdEncoding.EncodeToString([]byte(`{"org":"` + org + `"}`)),
		p.Next[:len(p.Next)/2],
	} {
		got, err := s.ListKeys(t.Context(), org, directory.ListOptions{Limit: 1, Cursor: cursor})
		wantValidation(t, fmt.Sprintf("ListKeys with cursor %q", cursor), err)
		if len(got.Items) != 0 {
			t.Fatalf("ListKeys with cursor %q returned %d items with the error", cursor, len(got.Items))
		}
	}
}

// testKeyPrevious: a rotation with a grace period stores the previous
// token on the key item (read back by GetKey and ListKeys), a later update
// replaces it, and an update without one removes it; LastUsedAt stays.
func testKeyPrevious(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at.Add(-time.Hour))
	k.LastUsedAt = at.Add(-time.Minute)
	mustCreateKey(t, s, k)

	rotate := func(cur *keys.Key, grace time.Duration, at time.Time) *keys.Key {
		up := cur.Clone()
		up.Previous = nil
		if grace > 0 {
			up.Previous = &keys.PreviousToken{Digest: cur.SecretDigest, Hint: cur.Hint, ExpiresAt: at.Add(grace)}
		}
		up.SecretDigest, up.Hint = randomDigest(), "dotenv_"+randomString(4)+"…"+randomString(4)
		up.RotatedAt, up.UpdatedAt, up.Version = at, at, cur.Version+1
		if err := s.UpdateKey(t.Context(), up, cur.Version, ev()); err != nil {
			t.Fatalf("UpdateKey (rotation, grace %s) of version %d: %v", grace, cur.Version, err)
		}
		return up
	}
	listed := func() *keys.Key {
		for _, l := range listAllKeys(t, s, org, 0, 2) {
			if l.ID == k.ID {
				return l
			}
		}
		t.Fatalf("ListKeys does not list %s", k.ID)
		return nil
	}

	first := rotate(k, time.Hour, at)
	checkKey(t, "GetKey after a rotation with a grace period", first, mustGetKey(t, s, k.ID))
	checkKey(t, "ListKeys after a rotation with a grace period", first, listed())
	if first.Previous.Digest != k.SecretDigest {
		t.Fatal("the previous token is not the replaced token")
	}

	// Rotating again replaces the previous token: only one is kept.
	second := rotate(first, 2*time.Hour, at.Add(time.Second))
	got := mustGetKey(t, s, k.ID)
	checkKey(t, "GetKey after a second rotation with a grace period", second, got)
	if got.Previous.Digest == k.SecretDigest {
		t.Fatal("the second rotation kept the first token")
	}

	// An edit keeps it; an update without one (revoking it, or a rotation
	// without grace) removes it, in GetKey and ListKeys alike.
	edit := second.Clone()
	edit.Name, edit.Version, edit.UpdatedAt = "edited", second.Version+1, at.Add(2*time.Second)
	if err := s.UpdateKey(t.Context(), edit, second.Version, ev()); err != nil {
		t.Fatalf("UpdateKey (edit): %v", err)
	}
	checkKey(t, "GetKey after an edit keeping the previous token", edit, mustGetKey(t, s, k.ID))
	revoked := edit.Clone()
	revoked.Previous, revoked.Version, revoked.UpdatedAt = nil, edit.Version+1, at.Add(3*time.Second)
	if err := s.UpdateKey(t.Context(), revoked, edit.Version, ev()); err != nil {
		t.Fatalf("UpdateKey (previous token revoked): %v", err)
	}
	checkKey(t, "GetKey after the previous token was removed", revoked, mustGetKey(t, s, k.ID))
	checkKey(t, "ListKeys after the previous token was removed", revoked, listed())

	// A stale update cannot bring it back.
	stale := edit.Clone()
	stale.Version = revoked.Version
	wantErr(t, "UpdateKey of a stale version with a previous token", s.UpdateKey(t.Context(), stale, edit.Version, ev()), fault.ErrConflict)
	checkKey(t, "GetKey after the refused stale update", revoked, mustGetKey(t, s, k.ID))

	// The last use of the current token was never touched.
	if got := mustGetKey(t, s, k.ID); !got.LastUsedAt.Equal(k.LastUsedAt) {
		t.Fatalf("LastUsedAt = %s after the updates, want %s", got.LastUsedAt, k.LastUsedAt)
	}
}

// testKeyRotateConcurrent: of concurrent rotations of one version, each
// keeping the replaced token as its previous token with its own grace
// period, exactly one wins and the key holds its digest and previous token.
func testKeyRotateConcurrent(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at)
	mustCreateKey(t, s, k)

	var wg sync.WaitGroup
	errs := make([]error, concurrency)
	ups := make([]*keys.Key, concurrency)
	for i := range concurrency {
		up := k.Clone()
		up.Previous = &keys.PreviousToken{Digest: k.SecretDigest, Hint: k.Hint, ExpiresAt: at.Add(time.Duration(i+1) * time.Minute)}
		up.SecretDigest, up.RotatedAt, up.UpdatedAt, up.Version = randomDigest(), at, at, 2
		ups[i] = up
		wg.Go(func() { errs[i] = s.UpdateKey(t.Context(), up, 1, ev()) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("rotations %d and %d both replaced version 1", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, fault.ErrConflict):
			t.Fatalf("rotation %d: got %v, want nil or a conflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no rotation won: %v", errs)
	}
	checkKey(t, "GetKey after concurrent rotations", ups[winner], mustGetKey(t, s, k.ID))
}
