package storetest

import (
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
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
// GetWebhook answers a webhook.UnreadableError with its id, organization
// and version (an internal fault, without the secret), and the service
// deletes it for its organization (not for another one), with an event
// naming its id alone, which frees its place in the listing.
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

	_, err = s.GetWebhook(ctx, org, broken.ID)
	var u *webhook.UnreadableError
	if !errors.As(err, &u) {
		t.Fatalf("GetWebhook of an unreadable endpoint: got %v, want a *webhook.UnreadableError", err)
	}
	if u.ID != broken.ID || u.OrganizationID != org || u.Version != broken.Version || fault.CodeOf(err) != fault.CodeInternal {
		t.Fatalf("GetWebhook of an unreadable endpoint: got id %q, organization %q, version %d, code %s; want %q, %q, %d, internal",
			u.ID, u.OrganizationID, u.Version, fault.CodeOf(err), broken.ID, org, broken.Version)
	}
	if strings.Contains(err.Error(), string(broken.Secret)) {
		t.Fatal("the error of an unreadable endpoint holds its secret")
	}
	other := newOrg(t, s).ID
	_, err = s.GetWebhook(ctx, other, broken.ID)
	wantErr(t, "GetWebhook of another organization's unreadable endpoint", err, fault.ErrNotFound)

	svc := webhook.NewService(s, func(string) error { return nil }, nil, rand.Reader, time.Now)
	err = svc.Delete(ctx, authz.Principal{OrganizationID: other, KeyID: newID("key_")}, broken.ID)
	wantErr(t, "Delete of another organization's unreadable endpoint", err, fault.ErrNotFound)
	caller := authz.Principal{OrganizationID: org, KeyID: newID("key_"), KeyName: "CI deploy"}
	if err := svc.Delete(ctx, caller, broken.ID); err != nil {
		t.Fatalf("Delete of an unreadable endpoint by its organization: %v", err)
	}
	_, err = s.GetWebhook(ctx, org, broken.ID)
	wantErr(t, "GetWebhook after deleting the unreadable endpoint", err, fault.ErrNotFound)
	list, bad, err = s.ListWebhooks(ctx, org)
	if err != nil || !slices.Equal(ids(list), ids(good)) || len(bad) != 0 {
		t.Fatalf("ListWebhooks after deleting the unreadable endpoint = %v, unreadable %v, %v; want %v and none", ids(list), unreadableIDs(bad), err, ids(good))
	}
	evs := listEvents(t, s, org, audit.Query{Action: audit.WebhookDeleted}, 10)
	if len(evs) != 1 || evs[0].Target.Type != audit.TargetWebhook || evs[0].Target.ID != broken.ID || evs[0].Target.Name != "" {
		t.Fatalf("the events of deleting the unreadable endpoint: %+v; want one %s naming %s alone", evs, audit.WebhookDeleted, broken.ID)
	}
	err = svc.Delete(ctx, caller, broken.ID)
	wantErr(t, "Delete of the unreadable endpoint again", err, fault.ErrNotFound)
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
