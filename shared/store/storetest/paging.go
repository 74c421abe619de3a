package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/webhook"
)

// The paging of the webhook indexes (ExpiringKeys, DueDeliveries,
// PendingNotices): many entries share one instant (keys expiring at a
// round date, across every organization), so a page must resume after an
// (instant, id) position, never at an instant.

// walkPages reads a whole listing, limit entries a page, each page after
// the previous one's Next until More is false, and returns the items in
// the order read. It fails the test on an error, a page holding more than
// limit items, or a walk that does not end.
func walkPages[T any](t *testing.T, what string, limit int, read func(after webhook.Position, limit int) (webhook.Page[T], error)) []T {
	t.Helper()
	var out []T
	var after webhook.Position
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("%s: the walk with page size %d does not end (%d items so far)", what, limit, len(out))
		}
		page, err := read(after, limit)
		if err != nil {
			t.Fatalf("%s (page %d, size %d): %v", what, pages, limit, err)
		}
		if len(page.Items) > limit {
			t.Fatalf("%s: a page of size %d holds %d items", what, limit, len(page.Items))
		}
		out = append(out, page.Items...)
		if !page.More {
			return out
		}
		after = page.Next
	}
}

// byInstantThenID sorts ids by (instant, id), the order of every paged
// index.
func byInstantThenID(at map[string]time.Time) []string {
	ids := make([]string, 0, len(at))
	for id := range at {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if c := at[a].Compare(at[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return ids
}

// once fails the test unless got lists exactly want, in order (so each
// entry once).
func once(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		seen := map[string]int{}
		for _, id := range got {
			seen[id]++
		}
		var twice, missing []string
		for id, n := range seen {
			if n > 1 {
				twice = append(twice, id)
			}
		}
		for _, id := range want {
			if seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		t.Fatalf("%s lists %d entries, want %d in (instant, id) order; listed twice %v, missing %v\n got  %v\n want %v",
			what, len(got), len(want), twice, missing, got, want)
	}
}

// testExpiryPaging: ten keys expiring at one instant, others just before
// and after it, one past the end of the range and one unreadable at the
// shared instant, walked with page sizes that split the shared instant.
func testExpiryPaging(t *testing.T, s store.Store, h Harness) {
	if h.PutBrokenKey == nil {
		t.Fatal("the engine's harness has no PutBrokenKey")
	}
	ctx := t.Context()
	org := newOrg(t, s).ID
	// A private round instant of the far future, so no other test's keys
	// fall in the range.
	shared := time.Date(3000+rand.IntN(5000), 1, 1, 0, 0, 0, 0, time.UTC)
	from, to := shared.Add(-time.Hour), shared.Add(time.Hour)
	at := now()
	expires := map[string]time.Time{}
	add := func(when time.Time) *keys.Key {
		k := newKey(org, at)
		k.ExpiresAt = when
		mustCreateKey(t, s, k)
		return k
	}
	for range 10 {
		k := add(shared)
		expires[k.ID] = k.ExpiresAt
	}
	for _, when := range []time.Time{from, shared.Add(-time.Millisecond), shared.Add(time.Millisecond), to.Add(-time.Millisecond)} {
		k := add(when)
		expires[k.ID] = k.ExpiresAt
	}
	add(to) // the end is excluded
	broken := newKey(org, at)
	broken.ExpiresAt = shared
	h.PutBrokenKey(t, broken)

	list := func(limit int, between func(webhook.Page[*keys.Key])) []string {
		t.Helper()
		got := walkPages(t, "ExpiringKeys", limit, func(after webhook.Position, limit int) (webhook.Page[*keys.Key], error) {
			page, err := s.ExpiringKeys(ctx, from, to, after, limit)
			if err == nil && between != nil {
				between(page)
			}
			return page, err
		})
		var ids []string
		for _, k := range got {
			if k.OrganizationID != org {
				t.Fatalf("ExpiringKeys over a private range lists %s of %s", k.ID, k.OrganizationID)
			}
			if k.ID == broken.ID {
				t.Fatalf("ExpiringKeys lists the unreadable key %s", k.ID)
			}
			ids = append(ids, k.ID)
		}
		return ids
	}
	want := byInstantThenID(expires)
	for _, limit := range []int{1, 3, 4, 11, 100} {
		once(t, "ExpiringKeys with page size "+fmt.Sprint(limit), list(limit, nil), want)
	}

	// The key a position points at is deleted before the next page: the
	// walk goes on after it, listing each other key once.
	deleted := ""
	got := list(3, func(p webhook.Page[*keys.Key]) {
		if deleted != "" || !p.More || p.Next.ID == broken.ID {
			return
		}
		deleted = p.Next.ID
		if err := s.DeleteKey(ctx, deleted, 1, ev()); err != nil {
			t.Fatalf("DeleteKey: %v", err)
		}
	})
	if deleted == "" {
		t.Fatal("no page ended on a key to delete")
	}
	delete(expires, deleted)
	var rest []string
	for _, id := range want {
		if _, ok := expires[id]; ok {
			rest = append(rest, id)
		}
	}
	// The deleted key was listed before its position was used.
	once(t, "ExpiringKeys with a key deleted between pages", slices.DeleteFunc(got, func(id string) bool { return id == deleted }), rest)
}

// testDuePaging: seven deliveries due at one instant and two at others,
// walked three at a time.
func testDuePaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	endpoint := newID("wh_")
	// A private stretch of the past, so other tests' deliveries are not due
	// by its end (the due queue has no lower bound).
	shared := time.Date(1700+rand.IntN(200), 1, 1, 0, 0, 0, 0, time.UTC)
	at := now()
	due := map[string]time.Time{}
	for _, when := range []time.Time{shared, shared, shared, shared, shared, shared, shared, shared.Add(-time.Second), shared.Add(time.Second)} {
		d := newDelivery(org, endpoint, at, when)
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatalf("CreateDelivery: %v", err)
		}
		due[d.ID] = when
	}
	for _, limit := range []int{1, 3, 100} {
		got := walkPages(t, "DueDeliveries", limit, func(after webhook.Position, limit int) (webhook.Page[*webhook.Delivery], error) {
			return s.DueDeliveries(ctx, shared.Add(time.Second), after, limit)
		})
		var mine []string
		for _, d := range got {
			if d.EndpointID == endpoint {
				mine = append(mine, d.ID)
			}
		}
		once(t, "DueDeliveries with page size "+fmt.Sprint(limit), mine, byInstantThenID(due))
	}
}

// testPendingPaging: six changes' notices stored at one instant and one
// before it, walked two at a time.
func testPendingPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	shared := now().Add(-time.Minute)
	pending := map[string]time.Time{}
	for i := range 7 {
		when := shared
		if i == 6 {
			when = shared.Add(-time.Second)
		}
		k := newKey(org, when)
		ev := event(t, org, audit.KeyCreated, keyTargetOf(k), when)
		ev.Notice = &audit.Notice{Type: webhook.EventKeyCreated, Data: []byte(`{"organization_id":"` + org + `"}`)}
		if err := s.CreateKey(ctx, k, ev); err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		pending[ev.ID] = when
	}
	t.Cleanup(func() {
		for id, when := range pending {
			_ = s.DeleteNotice(context.Background(), webhook.PendingNotice{EventID: id, OrganizationID: org, At: when})
		}
	})
	for _, limit := range []int{1, 2, 100} {
		got := walkPages(t, "PendingNotices", limit, func(after webhook.Position, limit int) (webhook.Page[webhook.PendingNotice], error) {
			return s.PendingNotices(ctx, shared, after, limit)
		})
		var mine []string
		for _, n := range got {
			if n.OrganizationID == org {
				mine = append(mine, n.EventID)
			}
		}
		once(t, "PendingNotices with page size "+fmt.Sprint(limit), mine, byInstantThenID(pending))
	}
}
