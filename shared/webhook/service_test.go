package webhook_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/webhook"
)

// TestEndpointChangesAreAudited: every change of an endpoint records its
// event (who, the endpoint named by its URL, the fields from → to) in the
// same write; a secret rotation records none of the secrets; an edit that
// changes nothing writes and records nothing.
func TestEndpointChangesAreAudited(t *testing.T) {
	f := newFixture(t, loopback)
	f.org.KeyName = "Owner key"
	ctx := t.Context()
	url, events, desc := "https://hooks.example.com/a", []string{webhook.EventKeyExpired, webhook.EventKeyCreated}, "pager"
	e, err := f.svc.Create(ctx, f.org, webhook.Spec{URL: &url, Events: &events, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Millisecond)
	url2 := "https://hooks.example.com/b"
	if _, err := f.svc.Update(ctx, f.org, e.ID, webhook.Spec{URL: &url2}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Millisecond)
	same := []string{webhook.EventKeyCreated, webhook.EventKeyExpired}
	unchanged, err := f.svc.Update(ctx, f.org, e.ID, webhook.Spec{URL: &url2, Events: &same, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	if unchanged.Version != 2 {
		t.Errorf("an edit that changes nothing wrote version %d, want 2 kept", unchanged.Version)
	}
	f.clock.Add(time.Millisecond)
	rotated, err := f.svc.RotateSecret(ctx, f.org, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Millisecond)
	if err := f.svc.Delete(ctx, f.org, e.ID); err != nil {
		t.Fatal(err)
	}

	page, err := f.store.ListEvents(ctx, f.org.OrganizationID, audit.Query{Now: f.clock.Now(), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ action, name, changes string }
	var got []row
	for _, ev := range page.Items {
		if ev.Actor != audit.KeyActor("key_caller", "Owner key") || ev.Target.Type != audit.TargetWebhook || ev.Target.ID != e.ID {
			t.Errorf("%s: actor %+v, target %+v", ev.Action, ev.Actor, ev.Target)
		}
		ch, _ := json.Marshal(ev.Changes)
		for _, secret := range []string{string(e.Secret), string(rotated.Secret), strings.TrimPrefix(string(rotated.Secret), "whsec_")} {
			if b, _ := json.Marshal(ev); strings.Contains(string(b), secret) {
				t.Errorf("%s records a signing secret", ev.Action)
			}
		}
		got = append(got, row{ev.Action, ev.Target.Name, string(ch)})
	}
	want := []row{
		{audit.WebhookDeleted, url2, "null"},
		{audit.WebhookSecretRotated, url2, "null"},
		{audit.WebhookUpdated, url2, `{"url":{"from":"https://hooks.example.com/a","to":"https://hooks.example.com/b"}}`},
		{audit.WebhookCreated, url, `{"description":{"from":null,"to":"pager"},"events":{"from":null,"to":["key.created","key.expired"]},"url":{"from":null,"to":"https://hooks.example.com/a"}}`},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestTheTrailNeverHoldsAnEndpointsQuery: an endpoint URL's query may carry
// the receiver's own secret, and the audit trail is read with another
// permission than the endpoints: events name the URL without it ("?…"),
// and an edit of the query alone is still written and recorded as such.
func TestTheTrailNeverHoldsAnEndpointsQuery(t *testing.T) {
	f := newFixture(t, loopback)
	ctx := t.Context()
	url, events := "https://hooks.example.com/in?token=s3cr3t-one", []string{webhook.EventKeyCreated}
	e, err := f.svc.Create(ctx, f.org, webhook.Spec{URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Millisecond)
	url2 := "https://hooks.example.com/in?token=s3cr3t-two"
	updated, err := f.svc.Update(ctx, f.org, e.ID, webhook.Spec{URL: &url2})
	if err != nil {
		t.Fatal(err)
	}
	if updated.URL != url2 || updated.Version != 2 {
		t.Fatalf("an edit of the query alone was not written: %+v", updated)
	}
	page, err := f.store.ListEvents(ctx, f.org.OrganizationID, audit.Query{Now: f.clock.Now(), Limit: 10})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("events %d (%v), want the create and the edit", len(page.Items), err)
	}
	for _, ev := range page.Items {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "s3cr3t") {
			t.Errorf("%s records the URL's query: %s", ev.Action, b)
		}
		if ev.Target.Name != "https://hooks.example.com/in?…" {
			t.Errorf("%s names the endpoint %q", ev.Action, ev.Target.Name)
		}
	}
	if c := page.Items[0].Changes["url"]; string(c.To) != `"https://hooks.example.com/in?… (query changed)"` {
		t.Errorf("the edit records url → %s", c.To)
	}
}
