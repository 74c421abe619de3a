package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/webhook"
)

// crashAfterCommit is a publisher whose process dies right after the
// change was committed: the notice is stored with the change, and never
// queued by the request.
type crashAfterCommit struct{ webhook.Publisher }

func (crashAfterCommit) Published(context.Context, audit.Event) {}

// TestAChangeNoticeSurvivesACrashAfterTheCommit: a key change stored with
// its notice, whose request died before queueing it, is queued by the
// sweep once the grace has passed, under the webhook-id the request would
// have used, with the change's time; sweeping again, or the request and
// the sweep both publishing, stores it once.
func TestAChangeNoticeSurvivesACrashAfterTheCommit(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusNoContent))
	ctx := t.Context()
	crashing := keys.NewService(f.store, f.store, authz.NewCatalog(), token.NewGenerator(), f.clock.Now, keys.Limits{},
		keys.WithPublisher(crashAfterCommit{webhook.NewPublisher(f.disp, slog.New(slog.DiscardHandler))}))
	_, owner, err := crashing.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	f.org = authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, KeyName: owner.Key.Name, Access: owner.Key.Access}
	// Without an endpoint subscribed, a change stores no notice at all.
	if pending, _ := f.store.PendingNotices(ctx, f.clock.Now().Add(time.Hour), webhook.Position{}, 10); len(pending.Items) != 0 {
		t.Fatalf("the owner key's creation stored %d notices with no endpoint to hear them", len(pending.Items))
	}
	f.clock.Add(time.Millisecond)
	e := f.endpoint(t, r, webhook.EventKeyCreated)
	changedAt := f.clock.Now()
	name, exp, ro := "CI", "30d", authz.PresetReadOnly
	c, err := crashing.Create(ctx, f.org, keys.Spec{Name: &name, Preset: &ro, Expiration: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if ds, _, _ := f.store.ListDeliveries(ctx, e.ID, 10); len(ds) != 0 {
		t.Fatalf("the crashed request queued %d deliveries", len(ds))
	}
	sweep := func() int {
		t.Helper()
		n, err := f.disp.Sweep(ctx)
		if err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		return n
	}
	if n := sweep(); n != 0 {
		t.Fatalf("the sweep queued %d notices within the request's grace", n)
	}
	f.clock.Add(time.Minute)
	if n := sweep(); n != 1 {
		t.Fatalf("the sweep after the grace queued %d notices, want the key.created", n)
	}
	if n := sweep(); n != 0 {
		t.Fatalf("sweeping again queued %d more", n)
	}
	if n := f.run(t); n != 1 {
		t.Fatalf("RunDue sent %d, want 1", n)
	}
	got := r.requests()
	if len(got) != 1 || got[0].eventType != webhook.EventKeyCreated || got[0].verified != nil {
		t.Fatalf("receiver got %+v, want one verified key.created", got)
	}
	var p webhook.Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Timestamp != authz.FormatTime(changedAt) {
		t.Errorf("payload timestamp %s, want the change's %s", p.Timestamp, changedAt)
	}
	if data, _ := p.Data.(map[string]any); data == nil || data["key"].(map[string]any)["id"] != c.Key.ID {
		t.Errorf("payload data %v, want the new key", p.Data)
	}

	// A request that did publish: the sweep, even at once, adds nothing.
	healthy := keys.NewService(f.store, f.store, authz.NewCatalog(), token.NewGenerator(), f.clock.Now, keys.Limits{},
		keys.WithPublisher(webhook.NewPublisher(f.disp, slog.New(slog.DiscardHandler))))
	name2 := "CD"
	if _, err := healthy.Create(ctx, f.org, keys.Spec{Name: &name2, Preset: &ro, Expiration: &exp}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	if n := sweep(); n != 0 {
		t.Fatalf("the sweep queued %d notices the request had queued", n)
	}
	if ds, _, _ := f.store.ListDeliveries(ctx, e.ID, 10); len(ds) != 2 {
		t.Fatalf("%d deliveries, want one per change", len(ds))
	}
	if pending, _ := f.store.PendingNotices(ctx, f.clock.Now(), webhook.Position{}, 10); len(pending.Items) != 0 {
		t.Fatalf("%d notices left pending", len(pending.Items))
	}
}

// failingOrg is a store whose endpoint listing fails for one organization.
type failingOrg struct {
	webhook.Store
	org string
}

func (s failingOrg) ListWebhooks(ctx context.Context, org string) ([]*webhook.Endpoint, []directory.Unreadable, error) {
	if org == s.org {
		return nil, nil, errors.New("listing failed")
	}
	return s.Store.ListWebhooks(ctx, org)
}

// TestAFailingNoticeHoldsUpNoOther: a pending notice that cannot be
// published stays pending and is reported, while the notices after it and
// the expiry sweep still run.
func TestAFailingNoticeHoldsUpNoOther(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusNoContent))
	ctx := t.Context()
	e := f.endpoint(t, r, webhook.EventKeyCreated, webhook.EventKeyExpiring)
	pend := func(org, id string, at time.Time) {
		ev := storetest.Event()
		ev.OrganizationID, ev.At = org, at
		ev.Notice = &audit.Notice{Type: webhook.EventKeyCreated, Data: []byte(`{"organization_id":"` + org + `","key":{"id":"` + id + `"}}`)}
		if err := f.store.CreateKey(ctx, newKey(id, org, time.Time{}), ev); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Add(5 * time.Minute) // the changes come after the endpoint
	now := f.clock.Now()
	pend("org_poisoned", "key_first", now.Add(-2*time.Minute))
	pend(f.org.OrganizationID, "key_second", now.Add(-time.Minute))
	if err := f.store.CreateKey(ctx, newKey("key_expiring", f.org.OrganizationID, now.Add(72*time.Hour)), storetest.Event()); err != nil {
		t.Fatal(err)
	}
	disp := webhook.NewDispatcher(failingOrg{Store: f.store, org: "org_poisoned"}, webhook.DispatcherOptions{Safe: loopback, Now: f.clock.Now})
	n, err := disp.Sweep(ctx)
	if err == nil || !strings.Contains(err.Error(), "listing failed") {
		t.Fatalf("Sweep error %v, want the poisoned notice's", err)
	}
	if n != 2 {
		t.Fatalf("Sweep stored %d deliveries, want the second notice's and the expiry notice", n)
	}
	ds, _, _ := f.store.ListDeliveries(ctx, e.ID, 10)
	types := map[string]bool{}
	for _, d := range ds {
		types[d.EventType] = true
	}
	if !types[webhook.EventKeyCreated] || !types[webhook.EventKeyExpiring] {
		t.Fatalf("deliveries of %v, want key.created and key.expiring", types)
	}
	pending, _ := f.store.PendingNotices(ctx, now, webhook.Position{}, 10)
	if len(pending.Items) != 1 || pending.Items[0].OrganizationID != "org_poisoned" {
		t.Fatalf("pending %+v, want the poisoned notice only", pending.Items)
	}
}
