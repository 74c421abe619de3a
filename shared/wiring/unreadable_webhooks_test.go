package wiring_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/webhook"
)

// brokenWebhooks answers the endpoint and delivery lists as an engine does
// when one stored item does not decode (the engines themselves are held to
// it by storetest's Integrity/UnreadableWebhook and UnreadableDelivery):
// the item is left out and reported.
type brokenWebhooks struct {
	store.Store
}

func (s brokenWebhooks) ListWebhooks(ctx context.Context, org string) ([]*webhook.Endpoint, []directory.Unreadable, error) {
	es, broken, err := s.Store.ListWebhooks(ctx, org)
	return es, append(broken, directory.Unreadable{ID: "wh_brokenEndpoint00000000"}), err
}

func (s brokenWebhooks) ListDeliveries(ctx context.Context, endpoint string, limit int) ([]*webhook.Delivery, []directory.Unreadable, error) {
	ds, broken, err := s.Store.ListDeliveries(ctx, endpoint, limit)
	return ds, append(broken, directory.Unreadable{ID: "msg_brokenDelivery0000000", Message: directory.MissingMessage}), err
}

// TestUnreadableWebhookItemsOverHTTP: the webhook endpoint and delivery
// lists carry the items the store could not read in "unreadable", each
// with its id and a message (the store's own when it gave one), next to
// the readable items.
func TestUnreadableWebhookItemsOverHTTP(t *testing.T) {
	e := newEnvOn(t, brokenWebhooks{Store: openBolt(t)})
	created := e.do("POST", "/v1/webhooks", e.owner, `{"url":"https://hooks.example.com/a","events":["key.created"]}`, nil)
	if created.status != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", created.status, created.raw)
	}
	id := created.str("id")
	unreadable := func(r response) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, u := range r.body["unreadable"].([]any) {
			out = append(out, u.(map[string]any))
		}
		return out
	}
	list := e.do("GET", "/v1/webhooks", e.owner, "", nil)
	items, _ := list.body["items"].([]any)
	if list.status != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	if u := unreadable(list); len(u) != 1 || u[0]["id"] != "wh_brokenEndpoint00000000" || u[0]["message"] != "this stored item could not be read; contact support" {
		t.Fatalf("list's unreadable: %s", list.raw)
	}
	ds := e.do("GET", "/v1/webhooks/"+id+"/deliveries", e.owner, "", nil)
	if u := unreadable(ds); ds.status != 200 || len(u) != 1 || u[0]["id"] != "msg_brokenDelivery0000000" || u[0]["message"] != directory.MissingMessage {
		t.Fatalf("deliveries: %d %s", ds.status, ds.raw)
	}
}
