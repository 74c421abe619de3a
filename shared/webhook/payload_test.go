package webhook_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/webhook"
)

// apiTime is the API's one time format (docs/openapi.json): RFC 3339 UTC
// with exactly three fraction digits.
var apiTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// TestPayloadTimesAreTheAPIsFormat: every time in a stored (and so signed
// and sent) payload — the event's timestamp and a key's expires_at, of a
// change notice and of the sweep's expiry notices — has exactly three
// fraction digits, whole seconds and hundredths included (Go's default
// encoding writes "…05Z" and "…05.12Z").
func TestPayloadTimesAreTheAPIsFormat(t *testing.T) {
	f := newFixture(t, loopback)
	f.clock.t = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // whole second
	r := newReceiver(t, always(http.StatusOK))
	r.ignoreTimestamp = true
	e := f.endpoint(t, r, webhook.EventKeyCreated, webhook.EventKeyExpiring)
	org := f.org.OrganizationID

	// A change notice: a key expiring at a hundredth of a second.
	created := newKey("key_created", org, f.clock.Now().Add(30*24*time.Hour+120*time.Millisecond))
	f.clock.Add(time.Second)
	ev := audit.Event{ID: "evt_created", At: f.clock.Now(), OrganizationID: org, Action: webhook.EventKeyCreated,
		Actor: audit.Actor{Type: audit.ActorKey, ID: "key_caller"}, Target: audit.Target{Type: audit.ActorKey, ID: created.ID}}
	pub := webhook.NewPublisher(f.disp, nil)
	n, err := pub.Notice(t.Context(), ev, created)
	if err != nil || n == nil {
		t.Fatalf("Notice = %v, %v; want a key.created notice", n, err)
	}
	ev.Notice = n
	pub.Published(t.Context(), ev)

	// The sweep's notice: a key expiring on a whole second within 7 days.
	if err := f.store.CreateKey(t.Context(), newKey("key_expiring", org, f.clock.Now().Add(72*time.Hour)), storetest.Event()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.disp.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}

	ds, _, err := f.store.ListDeliveries(t.Context(), e.ID, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("ListDeliveries = %d, %v; want the change's and the sweep's", len(ds), err)
	}
	for _, d := range ds {
		var p map[string]any
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			t.Fatalf("%s payload %s: %v", d.EventType, d.Payload, err)
		}
		times := 0
		checkTimes(t, d.EventType, "", p, &times)
		if times != 2 {
			t.Errorf("%s payload %s has %d times, want timestamp and data.key.expires_at", d.EventType, d.Payload, times)
		}
	}
	// What is sent is what was stored.
	f.run(t)
	got := r.requests()
	if len(got) != 2 {
		t.Fatalf("receiver got %d deliveries, want 2", len(got))
	}
	for _, g := range got {
		var p map[string]any
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatal(err)
		}
		times := 0
		checkTimes(t, "sent "+g.eventType, "", p, &times)
	}
}

// checkTimes fails on every time field (timestamp or *_at) of v that is
// not in the API's format, and counts them.
func checkTimes(t *testing.T, what, path string, v any, n *int) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "timestamp" || strings.HasSuffix(k, "_at") {
				*n++
				if s, _ := x.(string); !apiTime.MatchString(s) {
					t.Errorf("%s: %s%s = %v, want RFC 3339 UTC with three fraction digits", what, path, k, x)
				}
				continue
			}
			checkTimes(t, what, path+k+".", x, n)
		}
	case []any:
		for _, x := range v {
			checkTimes(t, what, path, x, n)
		}
	}
}
