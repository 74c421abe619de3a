package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/webhook"
)

// Harness gives the suite what only an engine's own tests can do: store an
// item the engine cannot decode, bypassing its write gate (a raw bbolt
// write, a raw DynamoDB PutItem).
type Harness struct {
	// PutBrokenKey stores k so that its id, organization, version and
	// creation time (its place in the listing) can still be read, but the
	// item as a whole does not decode (for example an expires_at that does
	// not parse).
	// A key with an expiry is in the expiry index at it.
	PutBrokenKey func(t *testing.T, k *keys.Key)
	// PutBrokenNode stores the team n so that it is listed in its place
	// but does not decode.
	PutBrokenNode func(t *testing.T, n *directory.Node)
	// PutBrokenWebhook stores the endpoint e (Version 1) so that it is
	// listed in its place but does not decode.
	PutBrokenWebhook func(t *testing.T, e *webhook.Endpoint)
	// PutBrokenDelivery stores d (Version 1) so that it is listed in its
	// place but does not decode.
	PutBrokenDelivery func(t *testing.T, d *webhook.Delivery)
	// NoTransactions, when not empty, names the feature the engine's server
	// lacks to write a change with its audit event ("dynalite has no
	// TransactWriteItems"): every subtest that writes is skipped with it.
	NoTransactions string
}

// seedEnv names the environment variable that replays a property test.
const seedEnv = "STORETEST_SEED"

// newRand returns the property tests' source, seeded from STORETEST_SEED
// or the clock; the seed is printed when the test fails.
func newRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(seedEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", seedEnv, s, err)
		}
		seed = n
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("property test seed %d: rerun with %s=%d", seed, seedEnv, seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// namePieces are the fragments fuzzed names are made of: ASCII, multi-byte,
// astral-plane, combining marks, right-to-left scripts, quotes and
// backslashes; no NUL and no control characters.
var namePieces = []string{
	"a", "Z", "0", " ", "-", "_", ".", "/", "#", "%", "&", "<", ">", "\"", "'", "`", `\`, `\"`, "{", "}",
	"é", "ß", "Ω", "ж", "日本", "中", "한", "€", "—", "…", "\u00a0",
	"😀", "𝔘", "🏳️‍🌈", "👩🏽‍💻", "𐍈", "\U0010fffd",
	"e\u0301", "a\u0308\u0323", "\u0915\u094d\u0937",
	"עברית", "العربية", "\u200f", "\u202b", "\u200d",
}

// fuzzName returns a name of 1 to 100 runes (exactly 100 about one time
// in eight).
func fuzzName(r *rand.Rand) string {
	max := 1 + r.IntN(100)
	if r.IntN(8) == 0 {
		max = 100
	}
	var b strings.Builder
	n := 0
	for n < max {
		p := namePieces[r.IntN(len(namePieces))]
		rs := []rune(p)
		if n+len(rs) > max {
			rs = rs[:max-n]
		}
		b.WriteString(string(rs))
		n += len(rs)
	}
	return b.String()
}

var fuzzPermissions = []string{"secrets:read", "secrets:write", "secrets:*", "projects:read", "projects:update", "targets:read", "environments:read", "api_tokens:read", "billing:manage"}

// fuzzGrants returns 0 to 200 grants with random scopes.
func fuzzGrants(r *rand.Rand) []authz.Grant {
	n := r.IntN(12)
	if r.IntN(6) == 0 {
		n = r.IntN(201)
	}
	if n == 0 && r.IntN(2) == 0 {
		return nil
	}
	gs := make([]authz.Grant, n)
	for i := range gs {
		g := authz.Grant{Permission: fuzzPermissions[r.IntN(len(fuzzPermissions))]}
		depth := r.IntN(5)
		if depth >= 1 {
			g.Scope.Team = "team_" + fuzzID(r)
		}
		if depth >= 2 {
			g.Scope.Project = "prj_" + fuzzID(r)
		}
		if depth >= 3 {
			g.Scope.Target = "tgt_" + fuzzID(r)
		}
		if depth >= 4 {
			g.Scope.Environment = "env_" + fuzzID(r)
		}
		gs[i] = g
	}
	return gs
}

func fuzzID(r *rand.Rand) string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = base62[r.IntN(len(base62))]
	}
	return string(b)
}

// Time bounds of the contract: every engine keeps the instants from year 1
// to year 9999 in UTC; beyond them an engine may refuse.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
	// year10000 is 9999-12-31T23:59:59-23:59: still year 9999 where it
	// was written, year 10000 in UTC.
	year10000 = time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("-23:59", -(23*3600+59*60)))
)

// fuzzTime returns an instant and whether the contract requires engines to
// keep it: zero, 1970, the far past, up to year 9999, at millisecond
// precision (sometimes nanosecond, sometimes in another zone), and now and
// then one beyond year 9999 in UTC.
func fuzzTime(r *rand.Rand, invalid bool) (time.Time, bool) {
	if invalid {
		switch r.IntN(3) {
		case 0:
			return year10000, false
		case 1:
			return time.Date(10000+r.IntN(100000), 1, 1, 0, 0, 0, 0, time.UTC), false
		default:
			return time.Date(-1-r.IntN(1000), 6, 1, 0, 0, 0, 0, time.UTC), false
		}
	}
	var t time.Time
	switch r.IntN(8) {
	case 0:
		return time.Time{}, true
	case 1:
		t = time.Unix(0, 0).UTC()
	case 2:
		t = minTime
	case 3:
		t = maxTime
	case 4:
		t = time.Date(1+r.IntN(1900), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
	default:
		t = time.Unix(r.Int64N(253402300799), 0).UTC() // 1970 to 9999
	}
	if t != maxTime && t != minTime {
		t = t.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		if r.IntN(6) == 0 {
			t = t.Add(time.Duration(r.IntN(1e6))) // nanoseconds
		}
	}
	if r.IntN(5) == 0 && t.Year() > 1 && t.Year() < 9999 {
		t = t.In(time.FixedZone("+05:45", 5*3600+45*60))
	}
	return t, true
}

// closeTime reports whether got is want as kept by an engine: the same
// instant, or want truncated to the microsecond or millisecond (engines
// keep at least milliseconds and truncate, never round).
func closeTime(want, got time.Time) bool {
	if want.IsZero() || got.IsZero() {
		return want.IsZero() && got.IsZero()
	}
	return got.Location() == time.UTC && (got.Equal(want) || got.Equal(want.Truncate(time.Microsecond)) || got.Equal(want.Truncate(time.Millisecond)))
}

// asKept returns want with its times replaced by got's where closeTime
// holds, so that keyDiff then only reports real differences.
func asKept(want, got *keys.Key) *keys.Key {
	w := want.Clone()
	for _, p := range []struct{ w, g *time.Time }{{&w.ExpiresAt, &got.ExpiresAt}, {&w.CreatedAt, &got.CreatedAt}, {&w.UpdatedAt, &got.UpdatedAt}, {&w.RotatedAt, &got.RotatedAt}, {&w.LastUsedAt, &got.LastUsedAt}} {
		if closeTime(*p.w, *p.g) {
			*p.w = *p.g
		}
	}
	if w.Previous != nil && got.Previous != nil && closeTime(w.Previous.ExpiresAt, got.Previous.ExpiresAt) {
		w.Previous.ExpiresAt = got.Previous.ExpiresAt
	}
	return w
}

// wantRefusal fails unless err is a refusal of the gate: a validation
// error naming expires_at with out_of_range when expires was the bad
// field, else an internal error. Never unavailable: retrying cannot help.
func wantRefusal(t *testing.T, what string, err error, expiresBad bool) {
	t.Helper()
	var f *fault.Error
	switch {
	case expiresBad:
		if !errors.As(err, &f) || f.Code != fault.CodeValidation || len(f.Fields) != 1 || f.Fields[0].Field != "expires_at" || f.Fields[0].Code != fault.FieldOutOfRange {
			t.Fatalf("%s: got %v, want a validation error on expires_at (out_of_range)", what, err)
		}
	case fault.CodeOf(err) != fault.CodeInternal && fault.CodeOf(err) != fault.CodeValidation:
		t.Fatalf("%s: got %v (%s), want a validation or internal error", what, err, fault.CodeOf(err))
	}
}

// fuzzNetworks returns a network allowlist in normal form, empty half of
// the time, else 1 to authz.MaxNetworks random IPv4 and IPv6 networks of
// any length.
func fuzzNetworks(r *rand.Rand) []netip.Prefix {
	if r.IntN(2) == 0 {
		return nil
	}
	var ps []netip.Prefix
	for range 1 + r.IntN(authz.MaxNetworks) {
		var a netip.Addr
		if r.IntN(2) == 0 {
			a = netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		} else {
			var b [16]byte
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			a = netip.AddrFrom16(b).Unmap()
		}
		ps = append(ps, netip.PrefixFrom(a, r.IntN(a.BitLen()+1)))
	}
	return authz.NormalizeNetworks(ps)
}

// fuzzKey returns a key of org and whether every time is within the
// contract; bad makes its expiry (and nothing else) beyond year 9999.
func fuzzKey(r *rand.Rand, org string, bad bool) (*keys.Key, bool) {
	k := newKey(org, time.Time{})
	k.Name = fuzzName(r)
	k.AllowAll = r.IntN(10) == 0
	k.Grants = fuzzGrants(r)
	k.AllowedNetworks = fuzzNetworks(r)
	k.CreatedBy = ""
	if r.IntN(2) == 0 {
		k.CreatedBy = newID("key_")
	}
	valid := true
	for i, p := range []*time.Time{&k.ExpiresAt, &k.CreatedAt, &k.UpdatedAt, &k.RotatedAt, &k.LastUsedAt} {
		var ok bool
		*p, ok = fuzzTime(r, bad && i == 0)
		valid = valid && ok
	}
	if r.IntN(3) == 0 {
		at, ok := fuzzTime(r, false)
		valid = valid && ok
		k.Revoked = &keys.Revocation{At: at, Reason: keys.ReasonLeaked, Reporter: keys.ReporterGitHub, URL: "https://github.com/o/r/blob/main/" + fuzzName(r), Source: fuzzName(r)}
	}
	if r.IntN(2) == 0 {
		// A previous token in its grace period, with an end anywhere in
		// the contract's range (never zero: a rotation always sets it).
		k.Previous = &keys.PreviousToken{Digest: randomDigest(), Hint: "dotenv_" + randomString(4) + "…" + randomString(4)}
		for k.Previous.ExpiresAt.IsZero() {
			k.Previous.ExpiresAt, _ = fuzzTime(r, false)
		}
	}
	return k, valid
}

// testKeyRoundTripProperty: every CreateKey either fails with nothing
// stored or reads back equal through GetKey and ListKeys.
func testKeyRoundTripProperty(t *testing.T, s store.Store) {
	r := newRand(t)
	org := newOrg(t, s).ID
	const n = 30
	stored := map[string]*keys.Key{}
	refused := map[string]bool{}
	for i := range n {
		bad := i%8 == 7
		k, valid := fuzzKey(r, org, bad)
		if i == 3 {
			k.ExpiresAt, valid, bad = year10000, false, true
		}
		want := k.Clone()
		want.Version = 1
		err := s.CreateKey(t.Context(), k, ev())
		switch {
		case err == nil:
			got := mustGetKey(t, s, k.ID)
			checkKey(t, fmt.Sprintf("key %d: GetKey after CreateKey", i), asKept(want, got), got)
			stored[k.ID] = got
		case valid:
			t.Fatalf("key %d: CreateKey of a key within the contract: %v", i, err)
		default:
			wantRefusal(t, fmt.Sprintf("key %d: CreateKey with expiry %s", i, k.ExpiresAt), err, bad)
			_, gerr := s.GetKey(t.Context(), k.ID)
			wantErr(t, fmt.Sprintf("key %d: GetKey after a refused CreateKey", i), gerr, fault.ErrNotFound)
			refused[k.ID] = true
		}
	}
	if len(refused) == 0 {
		t.Fatalf("no key was refused: the year-10000 expiry %s was stored", year10000)
	}
	// A name that is not valid UTF-8 cannot come back as written (JSON
	// replaces the bad bytes): refused, naming the field, nothing stored.
	k := newKey(org, now())
	k.Name = "bad \xff byte"
	err := s.CreateKey(t.Context(), k, ev())
	var f *fault.Error
	if !errors.As(err, &f) || f.Code != fault.CodeValidation || len(f.Fields) != 1 || f.Fields[0].Field != "name" {
		t.Fatalf("CreateKey with a name that is not UTF-8: got %v, want a validation error on name", err)
	}
	_, err = s.GetKey(t.Context(), k.ID)
	wantErr(t, "GetKey after a refused CreateKey (name not UTF-8)", err, fault.ErrNotFound)
	// A previous token whose end is beyond year 9999 is refused too.
	k = newKey(org, now())
	k.Previous = &keys.PreviousToken{Digest: randomDigest(), Hint: "dotenv_AbCd…wxyz", ExpiresAt: year10000}
	if err := s.CreateKey(t.Context(), k, ev()); err == nil {
		t.Fatal("CreateKey with a previous token ending in year 10000 was stored")
	} else {
		wantRefusal(t, "CreateKey with a previous token ending in year 10000", err, false)
	}
	_, err = s.GetKey(t.Context(), k.ID)
	wantErr(t, "GetKey after a refused CreateKey (previous token in year 10000)", err, fault.ErrNotFound)
	checkListed(t, s, org, stored)
}

// checkListed pages through org's keys and checks that they are exactly
// stored, each equal to what GetKey read, with nothing unreadable.
func checkListed(t *testing.T, s store.Store, org string, stored map[string]*keys.Key) {
	t.Helper()
	listed := listAllKeys(t, s, org, 7, 50)
	if len(listed) != len(stored) {
		t.Fatalf("ListKeys lists %d keys, want the %d stored", len(listed), len(stored))
	}
	for _, k := range listed {
		want, ok := stored[k.ID]
		if !ok {
			t.Fatalf("ListKeys lists %s, which was refused or never written", k.ID)
		}
		checkKey(t, "ListKeys against GetKey", want, k)
	}
}

// testKeyUpdateProperty: every UpdateKey either fails with the stored key
// unchanged or reads back equal.
func testKeyUpdateProperty(t *testing.T, s store.Store) {
	r := newRand(t)
	org := newOrg(t, s).ID
	const n = 8
	stored := map[string]*keys.Key{}
	for i := range n {
		base := newKey(org, now())
		mustCreateKey(t, s, base)
		cur := mustGetKey(t, s, base.ID)
		for j := range 2 {
			bad := (i+j)%5 == 4
			up, valid := fuzzKey(r, org, bad)
			if i == 0 && j == 0 {
				up.ExpiresAt, valid, bad = year10000, false, true
			}
			up.ID, up.Version = cur.ID, cur.Version+1
			want := up.Clone()
			want.OrganizationID, want.CreatedAt, want.CreatedBy, want.LastUsedAt = cur.OrganizationID, cur.CreatedAt, cur.CreatedBy, cur.LastUsedAt
			err := s.UpdateKey(t.Context(), up, cur.Version, ev())
			got := mustGetKey(t, s, cur.ID)
			switch {
			case err == nil:
				checkKey(t, fmt.Sprintf("key %d update %d: GetKey after UpdateKey", i, j), asKept(want, got), got)
				cur = got
			case valid:
				t.Fatalf("key %d update %d: UpdateKey within the contract: %v", i, j, err)
			default:
				wantRefusal(t, fmt.Sprintf("key %d update %d: UpdateKey with expiry %s", i, j, up.ExpiresAt), err, bad)
				checkKey(t, fmt.Sprintf("key %d update %d: GetKey after a refused UpdateKey", i, j), cur, got)
			}
		}
		// A last use beyond year 9999 is refused too, and changes nothing.
		if i == 0 {
			_, err := s.TouchKey(t.Context(), cur.ID, cur.LastUsedAt, year10000)
			wantRefusal(t, "TouchKey at year 10000", err, false)
			checkKey(t, "GetKey after a refused TouchKey", cur, mustGetKey(t, s, cur.ID))
		}
		stored[cur.ID] = cur
	}
	checkListed(t, s, org, stored)
}

// testNodeNameProperty: nodes and organizations with fuzzed names, created
// and renamed, read back equal; a node time beyond year 9999 is refused
// with nothing stored.
func testNodeNameProperty(t *testing.T, s store.Store) {
	r := newRand(t)
	at := now()
	o := &directory.Organization{ID: newID("org_"), Name: fuzzName(r), CreatedAt: at, UpdatedAt: at}
	if err := s.CreateOrganization(t.Context(), o, ev()); err != nil {
		t.Fatalf("CreateOrganization with name %q: %v", o.Name, err)
	}
	got, err := s.GetOrganization(t.Context(), o.ID)
	if err != nil || got.Name != o.Name {
		t.Fatalf("GetOrganization = %+v, %v; want name %q", got, err, o.Name)
	}
	if _, err := s.RenameOrganization(t.Context(), o.ID, "renamed", year10000, ev()); err == nil {
		t.Fatalf("RenameOrganization at year 10000 succeeded")
	} else {
		wantRefusal(t, "RenameOrganization at year 10000", err, false)
	}
	if got, err := s.GetOrganization(t.Context(), o.ID); err != nil || got.Name != o.Name || !got.UpdatedAt.Equal(o.UpdatedAt) {
		t.Fatalf("GetOrganization after a refused rename = %+v, %v; want it unchanged", got, err)
	}
	org := o.ID
	var nodes []*directory.Node
	for i := range 10 {
		n := child(org, nil, fuzzName(r), at.Add(time.Duration(i)*time.Millisecond))
		mustCreateNode(t, s, n)
		checkNode(t, s, fmt.Sprintf("node %d", i), n)
		if i%2 == 0 {
			name := fuzzName(r)
			later := at.Add(time.Hour)
			if _, err := s.RenameNode(t.Context(), org, n.ID, name, later, ev()); err != nil {
				t.Fatalf("node %d: RenameNode to %q: %v", i, name, err)
			}
			n.Name, n.UpdatedAt = name, later
			checkNode(t, s, fmt.Sprintf("node %d after RenameNode", i), n)
		}
		nodes = append(nodes, n)
	}
	// Refused: a node created or renamed beyond year 9999.
	bad := child(org, nil, fuzzName(r), at)
	bad.UpdatedAt = year10000
	if err := s.CreateNode(t.Context(), bad, ev()); err == nil {
		t.Fatalf("CreateNode with updated_at %s succeeded", year10000)
	} else {
		wantRefusal(t, "CreateNode at year 10000", err, false)
	}
	_, err = s.GetNode(t.Context(), org, bad.ID)
	wantErr(t, "GetNode after a refused CreateNode", err, fault.ErrNotFound)
	if _, err := s.RenameNode(t.Context(), org, nodes[1].ID, "later", year10000, ev()); err == nil {
		t.Fatalf("RenameNode at year 10000 succeeded")
	} else {
		wantRefusal(t, "RenameNode at year 10000", err, false)
	}
	checkNode(t, s, "node 1 after a refused rename", nodes[1])
	listed := listAllNodes(t, s, org, authz.LevelTeam, "", 3)
	if got, want := nodeIDs(listed), nodeIDs(oldestFirst(nodes)); !slices.Equal(got, want) {
		t.Fatalf("ListNodes = %v, want %v", got, want)
	}
	for i, n := range oldestFirst(nodes) {
		if d := nodeDiff(n, listed[i]); len(d) > 0 {
			t.Fatalf("ListNodes: node %s differs:\n  %s", n.ID, strings.Join(d, "\n  "))
		}
	}
}

// listWithUnreadable pages through org's keys with limit, checking the
// page rules, and returns the items and the unreadable ids.
func listWithUnreadable(t *testing.T, s store.Store, org string, limit int) ([]*keys.Key, []string) {
	t.Helper()
	var items []*keys.Key
	var bad []string
	cursor := ""
	for page := 0; ; page++ {
		if page == 20 {
			t.Fatalf("ListKeys(%s, limit %d): still a next page after %d pages", org, limit, page)
		}
		p, err := s.ListKeys(t.Context(), org, directory.ListOptions{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListKeys(%s, limit %d, page %d) with an unreadable key: %v", org, limit, page, err)
		}
		if len(p.Items) > limit || (p.Next != "" && len(p.Items) != limit) {
			t.Fatalf("ListKeys(%s, limit %d): page %d has %d items and next %q", org, limit, page, len(p.Items), p.Next)
		}
		items = append(items, p.Items...)
		for _, u := range p.Unreadable {
			bad = append(bad, u.ID)
		}
		if p.Next == "" {
			return items, bad
		}
		cursor = p.Next
	}
}

// testKeyUnreadable: a key item that does not decode is skipped and
// reported by ListKeys (paging still works), GetKey answers a
// keys.UnreadableError with what it could read, the service can still
// delete it, and verifying its token fails closed as not found.
func testKeyUnreadable(t *testing.T, s store.Store, h Harness) {
	if h.PutBrokenKey == nil {
		t.Fatal("the engine's harness has no PutBrokenKey")
	}
	org := newOrg(t, s).ID
	at := now().Add(-time.Hour)
	var good []*keys.Key
	for i := range 5 {
		k := newKey(org, at.Add(time.Duration(2*i)*time.Second))
		mustCreateKey(t, s, k)
		good = append(good, k)
	}
	tokens := token.NewGenerator()
	sec, err := tokens.New()
	if err != nil {
		t.Fatal(err)
	}
	broken := newKey(org, at.Add(5*time.Second)) // between good[2] and good[3]
	broken.ID, broken.SecretDigest, broken.Version = sec.KeyID(), sec.Digest(), 3
	h.PutBrokenKey(t, broken)

	newestFirst(good)
	for _, limit := range []int{1, 2, 3, 100} {
		items, bad := listWithUnreadable(t, s, org, limit)
		if got, want := keyIDs(items), keyIDs(good); !slices.Equal(got, want) {
			t.Fatalf("ListKeys(limit %d) with an unreadable key lists %v, want %v", limit, got, want)
		}
		if !slices.Equal(bad, []string{broken.ID}) {
			t.Fatalf("ListKeys(limit %d) reports unreadable %v, want [%s] once", limit, bad, broken.ID)
		}
	}

	_, err = s.GetKey(t.Context(), broken.ID)
	var u *keys.UnreadableError
	if !errors.As(err, &u) {
		t.Fatalf("GetKey of an unreadable key: got %v, want a *keys.UnreadableError", err)
	}
	if u.ID != broken.ID || u.OrganizationID != org || u.Version != broken.Version || fault.CodeOf(err) != fault.CodeInternal {
		t.Fatalf("GetKey of an unreadable key: got id %q, organization %q, version %d, code %s; want %q, %q, %d, internal",
			u.ID, u.OrganizationID, u.Version, fault.CodeOf(err), broken.ID, org, broken.Version)
	}

	catalog := authz.NewCatalog()
	v := verify.New(s, s, catalog, time.Now, nil)
	res, err := v.Authenticate(t.Context(), sec.Token)
	if err != nil || res.Code != verify.CodeNotFound {
		t.Fatalf("verifying the token of an unreadable key: code %q, error %v; want not_found and no error", res.Code, err)
	}

	svc := keys.NewService(s, s, catalog, tokens, time.Now, keys.Limits{})
	other := authz.Principal{OrganizationID: newOrg(t, s).ID, KeyID: newID("key_"), Access: authz.Access{AllowAll: true}}
	err = svc.Delete(t.Context(), other, broken.ID)
	wantErr(t, "Delete of another organization's unreadable key", err, fault.ErrNotFound)
	owner := authz.Principal{OrganizationID: org, KeyID: good[0].ID, Access: authz.Access{AllowAll: true}}
	if err := svc.Delete(t.Context(), owner, broken.ID); err != nil {
		t.Fatalf("Delete of an unreadable key by its organization: %v", err)
	}
	_, err = s.GetKey(t.Context(), broken.ID)
	wantErr(t, "GetKey after deleting the unreadable key", err, fault.ErrNotFound)
	items, bad := listWithUnreadable(t, s, org, 2)
	if !slices.Equal(keyIDs(items), keyIDs(good)) || len(bad) != 0 {
		t.Fatalf("ListKeys after deleting the unreadable key: %v, unreadable %v; want %v and none", keyIDs(items), bad, keyIDs(good))
	}
}

// testNodeUnreadable: a team that does not decode is skipped and reported
// by ListNodes, and paging goes on past it.
func testNodeUnreadable(t *testing.T, s store.Store, h Harness) {
	if h.PutBrokenNode == nil {
		t.Fatal("the engine's harness has no PutBrokenNode")
	}
	org := newOrg(t, s).ID
	at := now()
	var good []*directory.Node
	for i := range 4 {
		good = append(good, mustCreateNode(t, s, child(org, nil, fmt.Sprintf("team %d", i), at.Add(time.Duration(2*i)*time.Millisecond))))
	}
	broken := child(org, nil, "broken team", at.Add(3*time.Millisecond))
	h.PutBrokenNode(t, broken)
	if _, err := s.GetNode(t.Context(), org, broken.ID); err == nil {
		t.Fatalf("GetNode of an unreadable node answered no error")
	}
	for _, limit := range []int{1, 2, 100} {
		var ids, bad []string
		cursor := ""
		for page := 0; ; page++ {
			if page == 20 {
				t.Fatalf("ListNodes(limit %d): still a next page after %d pages", limit, page)
			}
			p, err := s.ListNodes(t.Context(), org, authz.LevelTeam, "", directory.ListOptions{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatalf("ListNodes(limit %d) with an unreadable node: %v", limit, err)
			}
			if len(p.Items) > limit || (p.Next != "" && len(p.Items) != limit) {
				t.Fatalf("ListNodes(limit %d): page %d has %d items and next %q", limit, page, len(p.Items), p.Next)
			}
			ids = append(ids, nodeIDs(p.Items)...)
			for _, u := range p.Unreadable {
				bad = append(bad, u.ID)
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if !slices.Equal(ids, nodeIDs(good)) || !slices.Equal(bad, []string{broken.ID}) {
			t.Fatalf("ListNodes(limit %d) = %v, unreadable %v; want %v and [%s]", limit, ids, bad, nodeIDs(good), broken.ID)
		}
	}
	// It can be deleted, and its name is free again.
	if err := s.DeleteNode(t.Context(), org, broken.ID, ev()); err != nil {
		t.Fatalf("DeleteNode of an unreadable node: %v", err)
	}
	_, err := s.GetNode(t.Context(), org, broken.ID)
	wantErr(t, "GetNode after deleting the unreadable node", err, fault.ErrNotFound)
	mustCreateNode(t, s, child(org, nil, broken.Name, at.Add(time.Second)))
}
