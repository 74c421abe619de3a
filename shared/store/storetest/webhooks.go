package storetest

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/stdwebhook"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/webhook"
)

// The webhook store's contract, beyond its doc comments:
//
//   - GetWebhook, UpdateWebhook and DeleteWebhook answer fault.ErrNotFound
//     for another organization's endpoint, exactly like a missing one.
//   - ListWebhooks orders by CreatedAt, then ID, and lists only the
//     organization's endpoints.
//   - CreateDelivery of an existing id stores nothing and reports false.
//   - Of several UpdateDelivery calls with the same expected version, at
//     most one succeeds (the claim of an attempt).
//   - DueDeliveries holds exactly the pending deliveries (in NextAttemptAt
//     order) and follows every UpdateDelivery.
//   - ExpiringKeys follows CreateKey, UpdateKey (a changed or removed
//     expiry) and DeleteKey.
//   - ExpiringKeys, DueDeliveries and PendingNotices page on (instant, id):
//     walking a listing page by page from the zero Position, each page
//     after the previous page's Next until More is false, lists every
//     entry exactly once in (instant, id) order, whatever the page size,
//     however many entries share one instant, also when the entry a
//     Position points at was deleted in between; a page reads at most
//     limit entries, and an unreadable key is skipped without ending the
//     walk (paging.go).
//   - CreateWebhook, UpdateWebhook and DeleteWebhook store their event with
//     the change, and none when the change is refused.
//   - An audited change whose event carries a Notice stores it as pending
//     in the same atomic write (none when refused); PendingNotices lists
//     them oldest first up to its bound, DeleteNotice removes one (a
//     missing one is no error).

func newEndpoint(org string, at time.Time) *webhook.Endpoint {
	return &webhook.Endpoint{
		ID: newID("wh_"), OrganizationID: org, URL: "https://hooks.example.com/" + randomString(8),
		Events: []string{webhook.EventKeyExpiring, webhook.EventKeyExpired}, Description: "desc " + randomString(4),
		Secret:    stdwebhook.Secret("whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
		CreatedAt: at, UpdatedAt: at, Version: 1,
	}
}

func sameEndpoint(t *testing.T, got, want *webhook.Endpoint) {
	t.Helper()
	if got.ID != want.ID || got.OrganizationID != want.OrganizationID || got.URL != want.URL ||
		!slices.Equal(got.Events, want.Events) || got.Description != want.Description ||
		got.Secret != want.Secret || got.PreviousSecret != want.PreviousSecret ||
		!got.PreviousSecretExpiresAt.Equal(want.PreviousSecretExpiresAt) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || got.Version != want.Version {
		t.Fatalf("endpoint:\n got  %+v\n want %+v", got, want)
	}
}

func testWebhookEndpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	org, other := newOrg(t, s).ID, newOrg(t, s).ID
	at := now()
	a, b := newEndpoint(org, at), newEndpoint(org, at.Add(time.Millisecond))
	for _, e := range []*webhook.Endpoint{b, a, newEndpoint(other, at)} {
		if err := s.CreateWebhook(ctx, e, ev()); err != nil {
			t.Fatalf("CreateWebhook: %v", err)
		}
	}
	// (An identical item written again may be taken for a retried write of
	// the same call; another endpoint under the same id is a conflict.)
	clash := a.Clone()
	clash.URL = "https://clash.example.com/"
	if err := s.CreateWebhook(ctx, clash, ev()); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("CreateWebhook of an existing id: %v, want conflict", err)
	}
	got, err := s.GetWebhook(ctx, org, a.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	sameEndpoint(t, got, a)
	if _, err := s.GetWebhook(ctx, other, a.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetWebhook from another organization: %v, want not found", err)
	}
	list, broken, err := s.ListWebhooks(ctx, org)
	if err != nil {
		t.Fatalf("ListWebhooks: %v", err)
	}
	if len(broken) != 0 {
		t.Fatalf("ListWebhooks reports unreadable endpoints %v, want none", broken)
	}
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListWebhooks = %v, want [%s %s]", ids(list), a.ID, b.ID)
	}

	// Update: the secret rotates, the previous one is kept with its end.
	u := a.Clone()
	u.URL, u.Events, u.Description = "https://other.example.com/x", []string{webhook.EventKeyCreated}, ""
	u.PreviousSecret, u.PreviousSecretExpiresAt = u.Secret, at.Add(24*time.Hour)
	u.Secret = stdwebhook.Secret("whsec_" + "C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
	u.UpdatedAt, u.Version = at.Add(time.Second), 2
	if err := s.UpdateWebhook(ctx, u, 1, ev()); err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	got, _ = s.GetWebhook(ctx, org, a.ID)
	sameEndpoint(t, got, u)
	staleE := u.Clone()
	staleE.Description = "stale"
	if err := s.UpdateWebhook(ctx, staleE, 1, ev()); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("UpdateWebhook on a stale version: %v, want conflict", err)
	}
	moved := u.Clone()
	moved.OrganizationID = other
	if err := s.UpdateWebhook(ctx, moved, 2, ev()); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("UpdateWebhook in another organization: %v, want not found", err)
	}
	if err := s.DeleteWebhook(ctx, other, a.ID, 2, ev()); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("DeleteWebhook from another organization: %v, want not found", err)
	}
	if err := s.DeleteWebhook(ctx, org, a.ID, 1, ev()); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("DeleteWebhook on a stale version: %v, want conflict", err)
	}
	if err := s.DeleteWebhook(ctx, org, a.ID, 2, ev()); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	if _, err := s.GetWebhook(ctx, org, a.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetWebhook after delete: %v, want not found", err)
	}
	if err := s.DeleteWebhook(ctx, org, a.ID, 2, ev()); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("DeleteWebhook twice: %v, want not found", err)
	}
	list, _, _ = s.ListWebhooks(ctx, org)
	if len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("ListWebhooks after delete = %v, want [%s]", ids(list), b.ID)
	}
}

// testAuditWebhookEvents: each endpoint change stores exactly its event,
// which reads back equal; a refused change (duplicate id, stale version,
// missing or another organization's endpoint) stores none.
func testAuditWebhookEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	org, other := newOrg(t, s).ID, newOrg(t, s).ID
	at := now()
	e := newEndpoint(org, at)
	target := audit.Target{Type: audit.TargetWebhook, ID: e.ID, Name: e.URL}
	mk := func(action string, d time.Duration) audit.Event { return event(t, org, action, target, at.Add(d)) }
	want := []audit.Event{mk(audit.WebhookCreated, 0)}
	if err := s.CreateWebhook(ctx, e, want[0]); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	u := e.Clone()
	u.Description, u.UpdatedAt, u.Version = "changed", at.Add(time.Millisecond), 2
	want = append(want, mk(audit.WebhookUpdated, time.Millisecond))
	if err := s.UpdateWebhook(ctx, u, 1, want[1]); err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}

	// Refused: none of these events may be stored.
	dup := newEndpoint(org, at)
	dup.ID = e.ID
	wantErr(t, "CreateWebhook of an existing id", s.CreateWebhook(ctx, dup, mk(audit.WebhookCreated, 0)), fault.ErrConflict)
	wantErr(t, "UpdateWebhook on a stale version", s.UpdateWebhook(ctx, u, 1, mk(audit.WebhookUpdated, 0)), fault.ErrConflict)
	missing := newEndpoint(org, at)
	wantErr(t, "UpdateWebhook of a missing endpoint", s.UpdateWebhook(ctx, missing, 1, mk(audit.WebhookUpdated, 0)), fault.ErrNotFound)
	wantErr(t, "DeleteWebhook on a stale version", s.DeleteWebhook(ctx, org, e.ID, 1, mk(audit.WebhookDeleted, 0)), fault.ErrConflict)
	wantErr(t, "DeleteWebhook from another organization", s.DeleteWebhook(ctx, other, e.ID, 2, event(t, other, audit.WebhookDeleted, target, at)), fault.ErrNotFound)

	want = append(want, mk(audit.WebhookDeleted, 2*time.Millisecond))
	if err := s.DeleteWebhook(ctx, org, e.ID, 2, want[2]); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	got := listEvents(t, s, org, audit.Query{}, 100)
	slices.Reverse(want)
	if len(got) != len(want) {
		t.Fatalf("listed %v, want %v", eventIDs(got), eventIDs(want))
	}
	for i := range want {
		if d := sameEvent(want[i], got[i]); d != "" {
			t.Fatalf("event %d (%s) differs: %s", i, want[i].Action, d)
		}
	}
	if got := listEvents(t, s, other, audit.Query{}, 100); len(got) != 0 {
		t.Fatalf("a refused delete stored events in the other organization: %v", eventIDs(got))
	}
}

// testPendingNotices: a change's notice is stored with it, exactly when the
// change is; listed oldest first up to the bound; removed by DeleteNotice.
func testPendingNotices(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	at := now()
	notice := func(typ string) *audit.Notice {
		return &audit.Notice{Type: typ, Data: []byte(`{"organization_id":"` + org + `","key":{"id":"k","name":"é \u2028 CI"}}`)}
	}
	k := newKey(org, at)
	created := event(t, org, audit.KeyCreated, keyTargetOf(k), at.Add(-2*time.Second))
	created.Notice = notice(webhook.EventKeyCreated)
	if err := s.CreateKey(ctx, k, created); err != nil {
		t.Fatal(err)
	}
	u := k.Clone()
	u.Name, u.Version = "renamed", 2
	updated := event(t, org, audit.KeyUpdated, keyTargetOf(u), at.Add(-time.Second))
	updated.Notice = notice(webhook.EventKeyUpdated)
	if err := s.UpdateKey(ctx, u, 1, updated); err != nil {
		t.Fatal(err)
	}
	quiet := u.Clone()
	quiet.Name, quiet.Version = "quiet", 3
	if err := s.UpdateKey(ctx, quiet, 2, event(t, org, audit.KeyUpdated, keyTargetOf(quiet), at)); err != nil {
		t.Fatal(err) // an event without a notice stores none
	}
	refused := event(t, org, audit.KeyDeleted, keyTargetOf(u), at)
	refused.Notice = notice(webhook.EventKeyDeleted)
	wantErr(t, "DeleteKey on a stale version", s.DeleteKey(ctx, k.ID, 1, refused), fault.ErrConflict)

	mine := func(before time.Time) []webhook.PendingNotice {
		t.Helper()
		all := walkPages(t, "PendingNotices", 1000, func(after webhook.Position, limit int) (webhook.Page[webhook.PendingNotice], error) {
			return s.PendingNotices(ctx, before, after, limit)
		})
		var out []webhook.PendingNotice
		for _, n := range all {
			if n.OrganizationID == org {
				out = append(out, n)
			}
		}
		return out
	}
	got := mine(at)
	if len(got) != 2 || got[0].EventID != created.ID || got[1].EventID != updated.ID {
		t.Fatalf("pending notices %+v, want the create's then the update's", got)
	}
	if n := got[0]; !n.At.Equal(created.At) || n.Notice.Type != webhook.EventKeyCreated || string(n.Notice.Data) != string(created.Notice.Data) {
		t.Fatalf("pending notice %+v, want %+v", n, created.Notice)
	}
	if early := mine(at.Add(-1500 * time.Millisecond)); len(early) != 1 || early[0].EventID != created.ID {
		t.Fatalf("pending up to the create: %+v, want the create's only", early)
	}
	if err := s.DeleteNotice(ctx, got[0]); err != nil {
		t.Fatalf("DeleteNotice: %v", err)
	}
	if err := s.DeleteNotice(ctx, got[0]); err != nil {
		t.Fatalf("DeleteNotice twice: %v", err)
	}
	if left := mine(at); len(left) != 1 || left[0].EventID != updated.ID {
		t.Fatalf("after DeleteNotice: %+v, want the update's only", left)
	}
	if err := s.DeleteNotice(ctx, got[1]); err != nil {
		t.Fatal(err)
	}
	if left := mine(at); len(left) != 0 {
		t.Fatalf("after deleting both: %+v", left)
	}
}

func ids[T interface {
	*webhook.Endpoint | *webhook.Delivery
}](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		switch v := any(x).(type) {
		case *webhook.Endpoint:
			out[i] = v.ID
		case *webhook.Delivery:
			out[i] = v.ID
		}
	}
	return out
}

func newDelivery(org, endpoint string, at, due time.Time) *webhook.Delivery {
	return &webhook.Delivery{
		ID: newID("msg_"), OrganizationID: org, EndpointID: endpoint, EventType: webhook.EventKeyExpiring,
		Payload:   []byte(`{"type":"key.expiring","timestamp":"2026-11-29T20:00:00Z","data":{"key":{"id":"key_x"}}}`),
		CreatedAt: at, State: webhook.StatePending, NextAttemptAt: due, GiveUpAt: at.Add(24 * time.Hour), Version: 1,
	}
}

func sameDelivery(t *testing.T, got, want *webhook.Delivery) {
	t.Helper()
	same := got.ID == want.ID && got.OrganizationID == want.OrganizationID && got.EndpointID == want.EndpointID &&
		got.EventType == want.EventType && string(got.Payload) == string(want.Payload) &&
		got.CreatedAt.Equal(want.CreatedAt) && got.State == want.State &&
		got.NextAttemptAt.Equal(want.NextAttemptAt) && got.GiveUpAt.Equal(want.GiveUpAt) &&
		got.Version == want.Version && len(got.Attempts) == len(want.Attempts)
	for i := 0; same && i < len(got.Attempts); i++ {
		g, w := got.Attempts[i], want.Attempts[i]
		same = g.At.Equal(w.At) && g.Status == w.Status && g.DurationMS == w.DurationMS && g.Error == w.Error
	}
	if !same {
		t.Fatalf("delivery:\n got  %+v\n want %+v", got, want)
	}
}

func testWebhookDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	e := newEndpoint(org, now())
	at := now()
	var made []*webhook.Delivery
	for i := range 3 {
		d := newDelivery(org, e.ID, at.Add(time.Duration(i)*time.Millisecond), at)
		ok, err := s.CreateDelivery(ctx, d)
		if err != nil || !ok {
			t.Fatalf("CreateDelivery = %v, %v; want true", ok, err)
		}
		made = append(made, d)
	}
	again := made[0].Clone()
	again.EventType = webhook.EventKeyExpired
	if ok, err := s.CreateDelivery(ctx, again); err != nil || ok {
		t.Fatalf("CreateDelivery of an existing id = %v, %v; want false, nil", ok, err)
	}
	got, err := s.GetDelivery(ctx, e.ID, made[0].ID)
	if err != nil {
		t.Fatalf("GetDelivery: %v", err)
	}
	sameDelivery(t, got, made[0])
	if _, err := s.GetDelivery(ctx, newID("wh_"), made[0].ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetDelivery of another endpoint: %v, want not found", err)
	}
	list, broken, err := s.ListDeliveries(ctx, e.ID, 2)
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	if len(broken) != 0 {
		t.Fatalf("ListDeliveries reports unreadable deliveries %v, want none", broken)
	}
	if want := []string{made[2].ID, made[1].ID}; !slices.Equal(ids(list), want) {
		t.Fatalf("ListDeliveries(2) = %v, want newest first %v", ids(list), want)
	}

	u := made[0].Clone()
	u.Attempts = []webhook.Attempt{{At: at, Status: 500, DurationMS: 12, Error: "answered HTTP 500"}, {At: at.Add(time.Second)}}
	u.NextAttemptAt, u.GiveUpAt, u.Version = at.Add(time.Minute), at.Add(48*time.Hour), 2
	if err := s.UpdateDelivery(ctx, u, 1); err != nil {
		t.Fatalf("UpdateDelivery: %v", err)
	}
	got, _ = s.GetDelivery(ctx, e.ID, u.ID)
	sameDelivery(t, got, u)
	stale := u.Clone()
	stale.Attempts = stale.Attempts[:1]
	if err := s.UpdateDelivery(ctx, stale, 1); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("UpdateDelivery on a stale version: %v, want conflict", err)
	}
	missing := newDelivery(org, e.ID, at, at)
	if err := s.UpdateDelivery(ctx, missing, 1); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("UpdateDelivery of a missing delivery: %v, want not found", err)
	}
}

func testWebhookClaimConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	at := now()
	d := newDelivery(org, newID("wh_"), at, at)
	if _, err := s.CreateDelivery(ctx, d); err != nil {
		t.Fatalf("CreateDelivery: %v", err)
	}
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := d.Clone()
			c.Attempts = []webhook.Attempt{{At: at.Add(time.Duration(i) * time.Millisecond)}}
			c.NextAttemptAt, c.Version = at.Add(time.Minute), 2
			err := s.UpdateDelivery(ctx, c, 1)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, fault.ErrConflict):
				t.Errorf("claim %d: %v, want nil or conflict", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d of %d concurrent claims won, want exactly 1", wins, n)
	}
}

func testWebhookDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	endpoint := newID("wh_")
	// A private stretch of time so other runs' deliveries do not mix in.
	base := time.Date(1990+rand.IntN(5), 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rand.IntN(1e6)) * time.Minute)
	at := now()
	var ds []*webhook.Delivery
	for i := range 4 {
		d := newDelivery(org, endpoint, at, base.Add(time.Duration(3-i)*time.Second))
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatalf("CreateDelivery: %v", err)
		}
		ds = append(ds, d)
	}
	due := func(until time.Time) []string {
		t.Helper()
		got := walkPages(t, "DueDeliveries", 1000, func(after webhook.Position, limit int) (webhook.Page[*webhook.Delivery], error) {
			return s.DueDeliveries(ctx, until, after, limit)
		})
		var mine []string
		for _, d := range got {
			if d.EndpointID == endpoint {
				mine = append(mine, d.ID)
			}
		}
		return mine
	}
	if got, want := due(base.Add(2*time.Second)), []string{ds[3].ID, ds[2].ID, ds[1].ID}; !slices.Equal(got, want) {
		t.Fatalf("due at base+2s = %v, want earliest first %v", got, want)
	}
	// Delivered leaves the queue; a later next attempt moves in it.
	done := ds[3].Clone()
	done.State, done.NextAttemptAt, done.Version = webhook.StateDelivered, time.Time{}, 2
	done.Attempts = []webhook.Attempt{{At: at, Status: 204, DurationMS: 3}}
	if err := s.UpdateDelivery(ctx, done, 1); err != nil {
		t.Fatalf("UpdateDelivery: %v", err)
	}
	later := ds[2].Clone()
	later.NextAttemptAt, later.Version = base.Add(time.Hour), 2
	if err := s.UpdateDelivery(ctx, later, 1); err != nil {
		t.Fatalf("UpdateDelivery: %v", err)
	}
	if got, want := due(base.Add(3*time.Second)), []string{ds[1].ID, ds[0].ID}; !slices.Equal(got, want) {
		t.Fatalf("due after updates = %v, want %v", got, want)
	}
	if got, want := due(base.Add(time.Hour)), []string{ds[1].ID, ds[0].ID, ds[2].ID}; !slices.Equal(got, want) {
		t.Fatalf("due an hour later = %v, want %v", got, want)
	}
}

func testKeyExpiryIndex(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	// A private stretch of the far future.
	base := time.Date(2400+rand.IntN(500), 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rand.IntN(1e5)) * time.Minute)
	at := now()
	var ks []*keys.Key
	for i := range 3 {
		k := newKey(org, at)
		k.ExpiresAt = base.Add(time.Duration(i) * 20 * time.Hour) // spans UTC days
		mustCreateKey(t, s, k)
		ks = append(ks, k)
	}
	never := newKey(org, at)
	mustCreateKey(t, s, never)
	expiring := func(from, to time.Time) []string {
		t.Helper()
		got := walkPages(t, "ExpiringKeys", 1000, func(after webhook.Position, limit int) (webhook.Page[*keys.Key], error) {
			return s.ExpiringKeys(ctx, from, to, after, limit)
		})
		var mine []string
		for _, k := range got {
			if k.OrganizationID == org {
				mine = append(mine, k.ID)
			}
		}
		return mine
	}
	if got, want := expiring(base, base.Add(40*time.Hour)), []string{ks[0].ID, ks[1].ID}; !slices.Equal(got, want) {
		t.Fatalf("ExpiringKeys[base, base+40h) = %v, want %v (the end is excluded)", got, want)
	}
	if got, want := expiring(base.Add(time.Nanosecond), base.Add(41*time.Hour)), []string{ks[1].ID, ks[2].ID}; !slices.Equal(got, want) {
		t.Fatalf("ExpiringKeys(base, base+41h) = %v, want %v", got, want)
	}
	// Moving, removing and deleting follow.
	moved := ks[0].Clone()
	moved.ExpiresAt, moved.Version = base.Add(30*time.Hour), 2
	if err := s.UpdateKey(ctx, moved, 1, ev()); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}
	removed := ks[1].Clone()
	removed.ExpiresAt, removed.Version = time.Time{}, 2
	if err := s.UpdateKey(ctx, removed, 1, ev()); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}
	if err := s.DeleteKey(ctx, ks[2].ID, 1, ev()); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if got, want := expiring(base.Add(-time.Hour), base.Add(100*time.Hour)), []string{moved.ID}; !slices.Equal(got, want) {
		t.Fatalf("ExpiringKeys after move, removal and delete = %v, want %v", got, want)
	}
	if got := mustGetKey(t, s, moved.ID); !got.ExpiresAt.Equal(moved.ExpiresAt) {
		t.Fatalf("moved key expires at %s, want %s", got.ExpiresAt, moved.ExpiresAt)
	}
}
