package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/webhook"
)

// unreadableIDs returns the ids of unreadable items.
func unreadableIDs(us []directory.Unreadable) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// testWebhookUnreadable: an endpoint that does not decode is reported by
// ListWebhooks with its id; the others are still listed, in order.
func testWebhookUnreadable(t *testing.T, s store.Store, h Harness) {
	if h.PutBrokenWebhook == nil {
		t.Fatal("the engine's harness has no PutBrokenWebhook")
	}
	ctx := t.Context()
	org := newOrg(t, s).ID
	at := now()
	var good []*webhook.Endpoint
	for i := range 2 {
		e := newEndpoint(org, at.Add(time.Duration(2*i)*time.Millisecond))
		if err := s.CreateWebhook(ctx, e, ev()); err != nil {
			t.Fatal(err)
		}
		good = append(good, e)
	}
	broken := newEndpoint(org, at.Add(time.Millisecond))
	broken.Version = 1
	h.PutBrokenWebhook(t, broken)
	list, bad, err := s.ListWebhooks(ctx, org)
	if err != nil {
		t.Fatalf("ListWebhooks with an unreadable endpoint: %v", err)
	}
	if !slices.Equal(ids(list), ids(good)) || !slices.Equal(unreadableIDs(bad), []string{broken.ID}) {
		t.Fatalf("ListWebhooks = %v, unreadable %v; want %v and [%s]", ids(list), unreadableIDs(bad), ids(good), broken.ID)
	}
}

// testDeliveryUnreadable: a delivery that does not decode is reported by
// ListDeliveries with its id; the others are still listed, newest first.
func testDeliveryUnreadable(t *testing.T, s store.Store, h Harness) {
	if h.PutBrokenDelivery == nil {
		t.Fatal("the engine's harness has no PutBrokenDelivery")
	}
	ctx := t.Context()
	org := newOrg(t, s).ID
	e := newEndpoint(org, now())
	at := now()
	var good []*webhook.Delivery
	for i := range 2 {
		d := newDelivery(org, e.ID, at.Add(time.Duration(2*i)*time.Millisecond), at)
		if ok, err := s.CreateDelivery(ctx, d); err != nil || !ok {
			t.Fatalf("CreateDelivery = %v, %v", ok, err)
		}
		good = append(good, d)
	}
	broken := newDelivery(org, e.ID, at.Add(time.Millisecond), at)
	broken.Version = 1
	h.PutBrokenDelivery(t, broken)
	list, bad, err := s.ListDeliveries(ctx, e.ID, 10)
	if err != nil {
		t.Fatalf("ListDeliveries with an unreadable delivery: %v", err)
	}
	if want := []string{good[1].ID, good[0].ID}; !slices.Equal(ids(list), want) || !slices.Equal(unreadableIDs(bad), []string{broken.ID}) {
		t.Fatalf("ListDeliveries = %v, unreadable %v; want %v and [%s]", ids(list), unreadableIDs(bad), want, broken.ID)
	}
}
