package webhook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/webhook"
)

// pageSize is the small index page the tests below use, so that a handful
// of keys, notices or deliveries spans several pages.
const pageSize = 3

// TestSweepAnnouncesEveryKeySharingAnExpiryOnce: many keys expiring at
// one instant (a round date; the expiry index spans organizations) are
// each announced once, though they fill several index pages; a second
// sweep announces none.
func TestSweepAnnouncesEveryKeySharingAnExpiryOnce(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusOK))
	e := f.endpoint(t, r, webhook.EventKeyExpiring, webhook.EventKeyExpired)
	disp := webhook.NewDispatcher(f.store, webhook.DispatcherOptions{Safe: loopback, Now: f.clock.Now, PageSize: pageSize})
	now := f.clock.Now()
	org := f.org.OrganizationID
	expiring := now.Add(72 * time.Hour).Truncate(time.Hour) // a round instant inside the 7-day window
	expired := now.Add(-48 * time.Hour).Truncate(time.Hour)
	want := map[string]string{} // key id → event type
	for i := range 10 {
		// Keys of another organization (no endpoint) interleave at the
		// same instant.
		for _, o := range []string{org, "org_other"} {
			id := fmt.Sprintf("key_%s_%02d", strings.TrimPrefix(o, "org_"), i)
			if err := f.store.CreateKey(t.Context(), newKey(id, o, expiring), storetest.Event()); err != nil {
				t.Fatal(err)
			}
			if o == org {
				want[id] = webhook.EventKeyExpiring
			}
		}
	}
	for i := range 4 {
		id := fmt.Sprintf("key_gone_%02d", i)
		if err := f.store.CreateKey(t.Context(), newKey(id, org, expired), storetest.Event()); err != nil {
			t.Fatal(err)
		}
		want[id] = webhook.EventKeyExpired
	}
	if n, err := disp.Sweep(t.Context()); err != nil || n != len(want) {
		t.Fatalf("first sweep stored %d notices (%v), want %d: one per key", n, err, len(want))
	}
	if n, err := disp.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("second sweep stored %d notices (%v), want 0", n, err)
	}
	ds, _, err := f.store.ListDeliveries(t.Context(), e.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range ds {
		var p struct {
			Data struct {
				Key struct{ ID string } `json:"key"`
			} `json:"data"`
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if _, twice := got[p.Data.Key.ID]; twice {
			t.Fatalf("key %s announced twice", p.Data.Key.ID)
		}
		got[p.Data.Key.ID] = d.EventType
	}
	if len(got) != len(want) {
		t.Fatalf("announced %d keys %v, want %d %v", len(got), got, len(want), want)
	}
	for id, typ := range want {
		if got[id] != typ {
			t.Fatalf("key %s announced as %q, want %q", id, got[id], typ)
		}
	}
}

// TestAPageOfFailingNoticesHoldsUpNoOther: more failing pending notices
// than one page come before a good one; the good one is still published
// (the next page starts after the failing ones, not over again).
func TestAPageOfFailingNoticesHoldsUpNoOther(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusNoContent))
	ctx := t.Context()
	e := f.endpoint(t, r, webhook.EventKeyCreated)
	f.clock.Add(5 * time.Minute) // the changes come after the endpoint
	now := f.clock.Now()
	pend := func(org, id string, at time.Time) {
		ev := storetest.Event()
		ev.OrganizationID, ev.At = org, at
		ev.Notice = &audit.Notice{Type: webhook.EventKeyCreated, Data: []byte(`{"organization_id":"` + org + `","key":{"id":"` + id + `"}}`)}
		if err := f.store.CreateKey(ctx, newKey(id, org, time.Time{}), ev); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2*pageSize + 1 {
		pend("org_poisoned", fmt.Sprintf("key_poisoned_%d", i), now.Add(-3*time.Minute)) // all at one instant
	}
	pend(f.org.OrganizationID, "key_good", now.Add(-time.Minute))
	disp := webhook.NewDispatcher(failingOrg{Store: f.store, org: "org_poisoned"}, webhook.DispatcherOptions{Safe: loopback, Now: f.clock.Now, PageSize: pageSize})
	n, err := disp.PublishPending(ctx)
	if err == nil || !strings.Contains(err.Error(), "listing failed") {
		t.Fatalf("PublishPending error %v, want the poisoned notices'", err)
	}
	if n != 1 {
		t.Fatalf("PublishPending stored %d deliveries, want the good notice's", n)
	}
	if ds, _, _ := f.store.ListDeliveries(ctx, e.ID, 10); len(ds) != 1 || !strings.Contains(string(ds[0].Payload), "key_good") {
		t.Fatalf("deliveries %d, want key_good's", len(ds))
	}
	pending, err := f.store.PendingNotices(ctx, now, webhook.Position{}, 100)
	if err != nil || len(pending.Items) != 2*pageSize+1 {
		t.Fatalf("pending %d (%v), want the %d poisoned notices", len(pending.Items), err, 2*pageSize+1)
	}
}

// TestRunDueSendsPastPagesOfSkippedDeliveries: the first pages of the due
// queue hold deliveries whose endpoint was deleted (not sent); the due
// delivery after them is still sent in the same run.
func TestRunDueSendsPastPagesOfSkippedDeliveries(t *testing.T) {
	f := newFixture(t, loopback)
	gone := newReceiver(t, always(http.StatusOK))
	old := f.endpoint(t, gone)
	for range 2 * pageSize {
		f.notify(t)
	}
	if err := f.svc.Delete(t.Context(), f.org, old.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	r := newReceiver(t, always(http.StatusOK))
	f.endpoint(t, r)
	f.notify(t)
	disp := webhook.NewDispatcher(f.store, webhook.DispatcherOptions{Safe: loopback, Now: f.clock.Now, PageSize: pageSize})
	n, err := disp.RunDue(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("RunDue sent %d (%v), want 1: the live endpoint's delivery", n, err)
	}
	if got := r.requests(); len(got) != 1 || got[0].verified != nil {
		t.Fatalf("the live endpoint got %d requests, want 1 verified", len(got))
	}
	if len(gone.requests()) != 0 {
		t.Fatal("the deleted endpoint got a request")
	}
	ds, _, err := f.store.ListDeliveries(t.Context(), old.ID, 100)
	if err != nil || len(ds) != 2*pageSize {
		t.Fatalf("deleted endpoint's deliveries %d (%v), want %d", len(ds), err, 2*pageSize)
	}
	if i := slices.IndexFunc(ds, func(d *webhook.Delivery) bool { return d.State != webhook.StateFailed }); i >= 0 {
		t.Fatalf("delivery %s to the deleted endpoint is %s, want failed", ds[i].ID, ds[i].State)
	}
}
