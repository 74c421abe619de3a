// Package storetest is the conformance suite of the storage contract
// (store.Store: keys.Store, directory.Store, Ping). Every engine runs the same
// Run, unchanged:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, openMyEngine(t)) }
//
// The suite is written for a shared store: every subtest makes its own
// organizations, keys and nodes with random ids, never assumes the store is
// empty and never lists anything it did not create. It makes about 300 store
// calls besides the paging test (which creates about 120 keys), so it runs
// over the network against DynamoDB-compatible servers too. Subtests run one
// after the other (no t.Parallel), so the caller may close the store with a
// deferred Close or with t.Cleanup.
//
// What the suite holds engines to, beyond the doc comments of the contract:
//
//   - Times come back as the same instant, in UTC, with at least millisecond
//     precision. The suite truncates every time it stores to the millisecond
//     and compares with time.Time.Equal; zero times come back zero.
//   - A nil and an empty Grants slice are the same.
//   - A stored key does not alias the *Key given to CreateKey or UpdateKey:
//     changing it afterwards does not change the store.
//   - CreateKey stores Version 1; UpdateKey stores the Version of the key it
//     is given (callers pass expectedVersion+1, and so does the suite).
//   - UpdateKey never moves a key to another organization.
//   - TouchKey on a missing key reports false (with a nil error or one
//     wrapping fault.ErrNotFound) and never creates the key.
//   - CountKeys answers min(count, atMost) for one organization's keys
//     (0 for an organization without keys), and never counts a deleted
//     key or another organization's.
//   - ListKeys orders by CreatedAt descending, then by ID descending (the
//     exact reverse of (CreatedAt, ID)); ListNodes orders by CreatedAt
//     ascending, then by ID ascending.
//   - Pages hold at most ListOptions.PageSize() items; a page with a Next
//     cursor is full; the last page (Next == "") may be short or empty.
//     Paging visits every item exactly once, also when the item a cursor
//     points after was deleted in between.
//   - A cursor that does not decode, or that came from another
//     organization's listing (keys or nodes), is a validation error
//     (fault.CodeValidation) and the page is empty.
//   - CreateNode: the node's Path must be the parent's Path plus the node's
//     own id; a team's parent is the organization, which must exist. A
//     missing parent, a parent in another organization or a Path whose
//     ancestors disagree with the parent's answers fault.ErrNotFound. An id
//     already used in the organization answers fault.ErrConflict. Renaming
//     a node to its own name succeeds; renaming or deleting a node frees its
//     old name for its siblings.
//   - Another organization's node answers fault.ErrNotFound to GetNode,
//     RenameNode and DeleteNode, exactly like a missing one.
//   - ListNodes with a parent lists that node's direct children of the
//     given level.
//   - No write stores an item the engine cannot read back (the write
//     gate): every create, update, touch and rename either fails with
//     nothing stored or reads back equal through GetKey/GetNode and the
//     listings (property tests with fuzzed names, 0 to 200 grants and
//     times from year 1 to 9999; STORETEST_SEED replays a run). Times
//     within years 1 to 9999 in UTC are always kept; an expiry beyond is a
//     validation error on expires_at (out_of_range), other times an
//     internal error.
//   - Usage (AddUsage, KeyUsage): counts add up per key and UTC day, also
//     under concurrent writers (never lost); KeyUsage answers only the days
//     from..to that have counts, oldest first, and fault.ErrNotFound for a
//     missing or deleted key; a last use never moves backwards and never
//     changes the Version; AddUsage never creates a key. A previous
//     token's last use is stored only while the key's previous token has
//     the digest it names; an edit keeps it, a new previous token (a
//     rotation's) starts without one.
//   - Audit listings (ListEvents) place their window with Query.Now, never
//     the wall clock: from Now minus the retention (the engine's default,
//     audit.DefaultRetention, is assumed) to Now plus audit.ClockSkew,
//     newest first across month boundaries, each event exactly once with
//     any page size and filters; a zero Now is an internal error.
//   - UpdateKeyWitnessed and DeleteKeyWitnessed apply only while the
//     witness key is stored at the named version (keys.ErrWitnessChanged,
//     nothing written, otherwise); two keys deleting each other, each the
//     other's witness, never both go, however they interleave.
//   - CreateOrganizationWithOwner stores the organization, its owner key
//     and their events all or none: a taken organization or key id is
//     fault.ErrConflict with nothing of the write stored (on DynamoDB one
//     TransactWriteItems; skipped on a server without them).
//   - One item that does not decode never takes down a listing (keys,
//     nodes, webhook endpoints, deliveries): it is
//     skipped, reported in Page.Unreadable (or ListWebhooks' and
//     ListDeliveries' unreadable) by id and does not count toward
//     the page size. GetKey answers it with a *keys.UnreadableError
//     carrying its id, organization and version, so that it can still be
//     deleted; verifying its token answers not found.
package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/token"
)

// Run runs the whole conformance suite against s; h holds the engine's
// hooks for the tests of unreadable items. The caller owns s and closes it
// after Run returns.
func Run(t *testing.T, s store.Store, h Harness) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Ping", testPing},
		{"Keys/RoundTrip", testKeyRoundTrip},
		{"Keys/CreateConflict", testKeyCreateConflict},
		{"Keys/GetMissing", testKeyGetMissing},
		{"Keys/Update", testKeyUpdate},
		{"Keys/UpdateConcurrent", testKeyUpdateConcurrent},
		{"Keys/Revocation", testKeyRevocation},
		{"Keys/Previous", testKeyPrevious},
		{"Keys/RotateConcurrent", testKeyRotateConcurrent},
		{"Keys/Delete", testKeyDelete},
		{"Keys/Witnessed", testKeyWitnessed},
		{"Keys/WitnessedConcurrent", testKeyWitnessedConcurrent},
		{"Keys/Touch", testKeyTouch},
		{"Keys/TouchConcurrent", testKeyTouchConcurrent},
		{"Keys/ListOrder", testKeyListOrder},
		{"Keys/ListPaging", testKeyListPaging},
		{"Keys/ListCursorOtherOrganization", testKeyListCursorOtherOrg},
		{"Keys/ListBadCursor", testKeyListBadCursor},
		{"Keys/Count", testKeyCount},
		{"Usage/AddAndRead", testUsageAddAndRead},
		{"Usage/ConcurrentWriters", testUsageConcurrent},
		{"Usage/LastUse", testUsageLastUse},
		{"Usage/DeletedKey", testUsageDeletedKey},
		{"Usage/PreviousTokenLastUse", testUsagePreviousLastUse},
		{"Keys/Networks", testKeyNetworks},
		{"Organizations", testOrganizations},
		{"Organizations/CreateWithOwner", testCreateOrganizationWithOwner},
		{"Nodes/CreateGet", testNodeCreateGet},
		{"Nodes/ParentNotFound", testNodeParentNotFound},
		{"Nodes/Conflicts", testNodeConflicts},
		{"Nodes/OtherOrganization", testNodeOtherOrg},
		{"Nodes/List", testNodeList},
		{"Nodes/ListPaging", testNodeListPaging},
		{"Nodes/Rename", testNodeRename},
		{"Nodes/Delete", testNodeDelete},
		{"Integrity/KeyRoundTripProperty", testKeyRoundTripProperty},
		{"Integrity/KeyUpdateProperty", testKeyUpdateProperty},
		{"Integrity/NodeNameProperty", testNodeNameProperty},
		{"Integrity/UnreadableKey", func(t *testing.T, s store.Store) { testKeyUnreadable(t, s, h) }},
		{"Integrity/UnreadableNode", func(t *testing.T, s store.Store) { testNodeUnreadable(t, s, h) }},
		{"Integrity/UnreadableWebhook", func(t *testing.T, s store.Store) { testWebhookUnreadable(t, s, h) }},
		{"Integrity/UnreadableDelivery", func(t *testing.T, s store.Store) { testDeliveryUnreadable(t, s, h) }},
		{"Audit/KeyEvents", testAuditKeyEvents},
		{"Audit/DirectoryEvents", testAuditDirectoryEvents},
		{"Audit/WebhookEvents", testAuditWebhookEvents},
		{"Webhooks/PendingNotices", testPendingNotices},
		{"Audit/RefusedWritesNoEvent", testAuditRefusedWritesNoEvent},
		{"Audit/Concurrent", testAuditConcurrent},
		{"Audit/OtherOrganization", testAuditOtherOrganization},
		{"Audit/FixedClock", testAuditFixedClock},
		{"Audit/Months", testAuditMonths},
		{"Audit/RotateRevokeDeleteRace", testAuditRotateRevokeDeleteRace},
		{"Webhooks/Endpoints", testWebhookEndpoints},
		{"Webhooks/Deliveries", testWebhookDeliveries},
		{"Webhooks/ClaimConcurrent", testWebhookClaimConcurrent},
		{"Webhooks/DueQueue", testWebhookDue},
		{"Webhooks/ExpiryIndex", testKeyExpiryIndex},
		{"Webhooks/ExpiryIndexPaging", func(t *testing.T, s store.Store) { testExpiryPaging(t, s, h) }},
		{"Webhooks/DueQueuePaging", testDuePaging},
		{"Webhooks/PendingNoticesPaging", testPendingPaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if h.NoTransactions != "" && !readOnly[tc.name] {
				t.Skip(h.NoTransactions)
			}
			tc.fn(t, s)
		})
	}
}

// readOnly names the subtests that write nothing: they run on an engine
// without transactions too (Harness.NoTransactions).
var readOnly = map[string]bool{"Ping": true, "Keys/GetMissing": true}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// ---- helpers ----

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomString returns n random base62 characters (math/rand: test ids need
// to be unique, not secret).
func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62[rand.IntN(len(base62))]
	}
	return string(b)
}

// newID returns prefix + 16 random characters, like the service's ids.
func newID(prefix string) string { return prefix + randomString(16) }

// now returns the current time in UTC truncated to the millisecond, the
// precision every engine keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// randomDigest returns a random (non-secret) digest.
func randomDigest() token.Digest {
	var d token.Digest
	for i := range d {
		d[i] = byte(rand.IntN(256))
	}
	return d
}

// newKey returns a new, valid key of org created at at.
func newKey(org string, at time.Time) *keys.Key {
	return &keys.Key{
		ID:             newID("key_"),
		OrganizationID: org,
		Name:           "key " + randomString(6),
		Access:         authz.Access{Grants: []authz.Grant{{Permission: "secrets:read"}}},
		SecretDigest:   randomDigest(),
		Hint:           "dotenv_" + randomString(4) + "…" + randomString(4),
		CreatedAt:      at,
		UpdatedAt:      at,
		CreatedBy:      newID("key_"),
		Version:        1,
	}
}

// newOrg creates and returns a new organization.
func newOrg(t *testing.T, s store.Store) *directory.Organization {
	t.Helper()
	at := now()
	o := &directory.Organization{ID: newID("org_"), Name: "org " + randomString(6), CreatedAt: at, UpdatedAt: at}
	if err := s.CreateOrganization(t.Context(), o, ev()); err != nil {
		t.Fatalf("CreateOrganization(%s): %v", o.ID, err)
	}
	return o
}

// mustCreateKey stores k.
func mustCreateKey(t *testing.T, s store.Store, k *keys.Key) {
	t.Helper()
	if err := s.CreateKey(t.Context(), k, ev()); err != nil {
		t.Fatalf("CreateKey(%s): %v", k.ID, err)
	}
}

// mustGetKey reads a key that must exist.
func mustGetKey(t *testing.T, s store.Store, id string) *keys.Key {
	t.Helper()
	k, err := s.GetKey(t.Context(), id)
	if err != nil {
		t.Fatalf("GetKey(%s): %v", id, err)
	}
	if k == nil {
		t.Fatalf("GetKey(%s) returned a nil key and no error", id)
	}
	return k
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %v", what, err, target)
	}
}

// wantValidation fails unless err is a validation error.
func wantValidation(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || fault.CodeOf(err) != fault.CodeValidation {
		t.Fatalf("%s: got error %v, want a %s error", what, err, fault.CodeValidation)
	}
}

// sameTime reports whether got is want's instant, in UTC (zero for zero).
func sameTime(want, got time.Time) bool {
	if want.IsZero() {
		return got.IsZero()
	}
	return got.Equal(want) && got.Location() == time.UTC
}

// keyDiff lists the fields in which got differs from want.
func keyDiff(want, got *keys.Key) []string {
	var d []string
	add := func(field string, w, g any) { d = append(d, fmt.Sprintf("%s: got %v, want %v", field, g, w)) }
	if got.ID != want.ID {
		add("ID", want.ID, got.ID)
	}
	if got.OrganizationID != want.OrganizationID {
		add("OrganizationID", want.OrganizationID, got.OrganizationID)
	}
	if got.Name != want.Name {
		add("Name", want.Name, got.Name)
	}
	if got.AllowAll != want.AllowAll {
		add("AllowAll", want.AllowAll, got.AllowAll)
	}
	if len(want.Grants) != len(got.Grants) || (len(want.Grants) > 0 && !slices.Equal(want.Grants, got.Grants)) {
		add("Grants", want.Grants, got.Grants)
	}
	if !slices.Equal(want.AllowedNetworks, got.AllowedNetworks) {
		add("AllowedNetworks", want.AllowedNetworks, got.AllowedNetworks)
	}
	for _, f := range []struct {
		name      string
		want, got time.Time
	}{
		{"ExpiresAt", want.ExpiresAt, got.ExpiresAt},
		{"CreatedAt", want.CreatedAt, got.CreatedAt},
		{"UpdatedAt", want.UpdatedAt, got.UpdatedAt},
		{"RotatedAt", want.RotatedAt, got.RotatedAt},
		{"LastUsedAt", want.LastUsedAt, got.LastUsedAt},
	} {
		if !sameTime(f.want, f.got) {
			add(f.name+" (same instant, in UTC)", f.want, f.got)
		}
	}
	if got.SecretDigest != want.SecretDigest {
		add("SecretDigest", fmt.Sprintf("%x", want.SecretDigest), fmt.Sprintf("%x", got.SecretDigest))
	}
	if got.Hint != want.Hint {
		add("Hint", want.Hint, got.Hint)
	}
	if got.CreatedBy != want.CreatedBy {
		add("CreatedBy", want.CreatedBy, got.CreatedBy)
	}
	if got.LastUsedIP != want.LastUsedIP || got.LastUsedUserAgent != want.LastUsedUserAgent {
		add("LastUsedIP, LastUsedUserAgent", want.LastUsedIP+" "+want.LastUsedUserAgent, got.LastUsedIP+" "+got.LastUsedUserAgent)
	}
	if got.Version != want.Version {
		add("Version", want.Version, got.Version)
	}
	switch w, g := want.Revoked, got.Revoked; {
	case (w == nil) != (g == nil):
		add("Revoked", w, g)
	case w != nil && (w.Reason != g.Reason || w.Reporter != g.Reporter || w.URL != g.URL || w.Source != g.Source || !sameTime(w.At, g.At)):
		add("Revoked", *w, *g)
	}
	switch w, g := want.Previous, got.Previous; {
	case (w == nil) != (g == nil):
		add("Previous", w, g)
	case w == nil:
	case g.Digest != w.Digest:
		add("Previous.Digest", fmt.Sprintf("%x", w.Digest), fmt.Sprintf("%x", g.Digest))
	case g.Hint != w.Hint:
		add("Previous.Hint", w.Hint, g.Hint)
	case !sameTime(w.ExpiresAt, g.ExpiresAt):
		add("Previous.ExpiresAt (same instant, in UTC)", w.ExpiresAt, g.ExpiresAt)
	}
	return d
}

// checkKey fails when got differs from want.
func checkKey(t *testing.T, what string, want, got *keys.Key) {
	t.Helper()
	if d := keyDiff(want, got); len(d) > 0 {
		t.Fatalf("%s: key %s differs:\n  %s", what, want.ID, strings.Join(d, "\n  "))
	}
}

// ids returns the ids of a listing.
func keyIDs(ks []*keys.Key) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return out
}

// newestFirst sorts keys as ListKeys does: CreatedAt descending, then ID
// descending.
func newestFirst(ks []*keys.Key) {
	slices.SortFunc(ks, func(a, b *keys.Key) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

// listAllKeys pages through org's keys with limit, checking the page rules,
// and returns every item in order. It gives up after maxPages.
func listAllKeys(t *testing.T, s store.Store, org string, limit, maxPages int) []*keys.Key {
	t.Helper()
	var all []*keys.Key
	cursor := ""
	size := directory.ListOptions{Limit: limit}.PageSize()
	for page := 0; ; page++ {
		if page == maxPages {
			t.Fatalf("ListKeys(%s, limit %d): still a next page after %d pages", org, limit, maxPages)
		}
		p, err := s.ListKeys(t.Context(), org, directory.ListOptions{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListKeys(%s, limit %d, page %d): %v", org, limit, page, err)
		}
		if len(p.Items) > size {
			t.Fatalf("ListKeys(%s, limit %d): page of %d items, more than %d", org, limit, len(p.Items), size)
		}
		if p.Next != "" && len(p.Items) != size {
			t.Fatalf("ListKeys(%s, limit %d): page %d has a next cursor but only %d of %d items", org, limit, page, len(p.Items), size)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		cursor = p.Next
	}
}
