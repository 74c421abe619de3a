package bolt

import (
	"errors"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/webhook"
)

// TestPruneDeliveries: pruning deletes exactly the deliveries whose retry
// window closed before the bound (whatever their state or age: a retried
// delivery's window moved), with their listing and due entries, and
// nothing more when run again.
func TestPruneDeliveries(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	bound := now.Add(-webhook.DeliveryRetention)
	e := &webhook.Endpoint{ID: "wh_a", OrganizationID: "org_a", URL: "https://hooks.example.com/", Events: []string{webhook.EventKeyCreated},
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.CreateWebhook(ctx, e, storetest.Event()); err != nil {
		t.Fatal(err)
	}
	mkd := func(id string, created, giveUp time.Time, state webhook.State) *webhook.Delivery {
		d := &webhook.Delivery{ID: id, OrganizationID: "org_a", EndpointID: "wh_a", EventType: webhook.EventKeyCreated,
			Payload: []byte(`{}`), CreatedAt: created, State: state, NextAttemptAt: created, GiveUpAt: giveUp, Version: 1}
		if state != webhook.StatePending {
			d.NextAttemptAt = time.Time{}
		}
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	old := now.Add(-40 * 24 * time.Hour)
	mkd("msg_old_delivered", old, old.Add(webhook.RetryWindow), webhook.StateDelivered)
	mkd("msg_old_pending", old, old.Add(webhook.RetryWindow), webhook.StatePending)
	mkd("msg_retried", old, bound.Add(time.Hour), webhook.StateFailed) // retried by hand 29 days ago
	mkd("msg_recent", now.Add(-time.Hour), now.Add(23*time.Hour), webhook.StatePending)

	n, err := s.PruneDeliveries(ctx, bound)
	if err != nil || n != 2 {
		t.Fatalf("PruneDeliveries = %d, %v; want 2", n, err)
	}
	for _, id := range []string{"msg_old_delivered", "msg_old_pending"} {
		if _, err := s.GetDelivery(ctx, "wh_a", id); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("GetDelivery(%s) after pruning: %v, want not found", id, err)
		}
	}
	listed, _, err := s.ListDeliveries(ctx, "wh_a", 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range listed {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"msg_recent", "msg_retried"}) {
		t.Errorf("listed %v after pruning, want [msg_recent msg_retried]", ids)
	}
	due, err := s.DueDeliveries(ctx, now, webhook.Position{}, 100)
	if err != nil || len(due.Items) != 1 || due.Items[0].ID != "msg_recent" || due.More {
		t.Errorf("due after pruning: %d deliveries (more %t), %v; want msg_recent only", len(due.Items), due.More, err)
	}
	if n, err := s.PruneDeliveries(ctx, bound); n != 0 || err != nil {
		t.Errorf("pruning again deleted %d (%v)", n, err)
	}
	// Everything past retention: the endpoint's listing is left empty.
	if n, err := s.PruneDeliveries(ctx, now.Add(48*time.Hour)); n != 2 || err != nil {
		t.Fatalf("pruning the rest = %d, %v; want 2", n, err)
	}
	if listed, _, err := s.ListDeliveries(ctx, "wh_a", 100); err != nil || len(listed) != 0 {
		t.Errorf("listed %d deliveries (%v) after pruning them all", len(listed), err)
	}
}

// TestDeleteBrokenWebhooks: what ListWebhooks reports as unreadable on the
// embedded store can be deleted through the service: an index entry
// naming a missing endpoint (removed, 204), a document whose organization
// and creation time cannot be read but whose version can (found through
// the organization's index, deleted at that version), while a document
// whose version cannot be read is refused with a conflict and stays
// listed. Another organization is answered not found each time.
func TestDeleteBrokenWebhooks(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	const org = "org_a"
	put := func(id string, doc []byte) {
		t.Helper()
		err := s.db.Update(func(tx *bbolt.Tx) error {
			idx, err := tx.Bucket(bucketWebhookIndex).CreateBucketIfNotExists([]byte(org))
			if err != nil {
				return err
			}
			if err := idx.Put(tsKey(now, id), nil); err != nil {
				return err
			}
			if doc == nil {
				return nil
			}
			return tx.Bucket(bucketWebhooks).Put([]byte(id), doc)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("wh_dangling", nil)
	put("wh_noorg", []byte(`{"id":"wh_noorg","organization_id":5,"created_at":"not a time","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","version":2}`))
	put("wh_noversion", []byte(`{"id":"wh_noversion","organization_id":"org_a","created_at":"not a time","version":"two"}`))

	svc := webhook.NewService(s, func(string) error { return nil }, nil, nil, func() time.Time { return now })
	owner := authz.Principal{OrganizationID: org, KeyID: "key_owner"}
	stranger := authz.Principal{OrganizationID: "org_b", KeyID: "key_b"}
	for _, tc := range []struct {
		id   string
		want error
	}{
		{"wh_dangling", nil},
		{"wh_noorg", nil},
		{"wh_noversion", fault.ErrConflict},
		{"wh_never", fault.ErrNotFound},
	} {
		if err := svc.Delete(ctx, stranger, tc.id); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("another organization deletes %s: %v, want not found", tc.id, err)
		}
		err := svc.Delete(ctx, owner, tc.id)
		if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("delete %s: %v, want %v", tc.id, err, tc.want)
		}
	}
	_, bad, err := s.ListWebhooks(ctx, org)
	if got := unreadableIDs(bad); err != nil || !slices.Equal(got, []string{"wh_noversion"}) {
		t.Fatalf("ListWebhooks after the deletes: unreadable %v, %v; want [wh_noversion]", got, err)
	}
	if err := s.db.View(func(tx *bbolt.Tx) error {
		for _, id := range []string{"wh_dangling", "wh_noorg"} {
			if tx.Bucket(bucketWebhooks).Get([]byte(id)) != nil || len(webhookIndexOf(tx, org, id)) != 0 {
				t.Errorf("%s is still stored or indexed", id)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func unreadableIDs(us []directory.Unreadable) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}
