package wiring_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestWebhookScenarios walks the webhook routes through the production
// router on every engine: permissions (webhooks:* organization-wide, not in
// the read-only preset), tenancy, validation with field codes, the secret
// shown only by create and rotate-secret, and the deliveries routes.
func TestWebhookScenarios(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		_, reader := e.newKey(`{"name":"ro","preset":"read-only","expiration":"30d"}`)
		_, hookReader := e.newKey(`{"name":"hook reader","permissions":[{"permission":"webhooks:read"}],"expiration":"30d"}`)
		_, hookAdmin := e.newKey(`{"name":"hook admin","permissions":[{"permission":"webhooks:*"}],"expiration":"30d"}`)

		created := e.do("POST", "/v1/webhooks", hookAdmin, `{"url":"https://hooks.example.com/a","events":["key.expiring","key.created","key.expiring"],"description":"pager"}`, nil)
		if created.status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.status, created.raw)
		}
		id := created.str("id")
		secret := created.str("secret")
		if !strings.HasPrefix(id, "wh_") || !strings.HasPrefix(secret, "whsec_") || created.header.Get("Location") != "/v1/webhooks/"+id {
			t.Fatalf("create answered id %q, secret prefix %q, Location %q", id, secret[:min(6, len(secret))], created.header.Get("Location"))
		}
		if evs, _ := created.body["events"].([]any); len(evs) != 2 || evs[0] != "key.created" || evs[1] != "key.expiring" {
			t.Fatalf("events %v, want sorted without duplicates", created.body["events"])
		}
		item := "/v1/webhooks/" + id
		type sc struct {
			name, method, path, token, body string
			status                          int
			code, field                     string
		}
		for _, tc := range []sc{
			{"list by webhooks:read", "GET", "/v1/webhooks", hookReader, "", 200, "", ""},
			{"get by webhooks:read", "GET", item, hookReader, "", 200, "", ""},
			{"deliveries by webhooks:read", "GET", item + "/deliveries", hookReader, "", 200, "", ""},
			{"deliveries bad limit", "GET", item + "/deliveries?limit=0", hookReader, "", 400, "validation_failed", "limit"},
			{"read-only preset cannot list", "GET", "/v1/webhooks", reader, "", 403, "forbidden", ""},
			{"webhooks:read cannot create", "POST", "/v1/webhooks", hookReader, `{"url":"https://x.example.com","events":["key.created"]}`, 403, "forbidden", ""},
			{"webhooks:read cannot rotate", "POST", item + "/rotate-secret", hookReader, "", 403, "forbidden", ""},
			{"webhooks:read cannot delete", "DELETE", item, hookReader, "", 403, "forbidden", ""},
			{"no token", "GET", "/v1/webhooks", "", "", 401, "unauthenticated", ""},
			{"other organization's webhook", "GET", item, e.ownerB, "", 404, "not_found", ""},
			{"other organization's deliveries", "GET", item + "/deliveries", e.ownerB, "", 404, "not_found", ""},
			{"other organization cannot delete", "DELETE", item, e.ownerB, "", 404, "not_found", ""},
			{"missing url and events", "POST", "/v1/webhooks", hookAdmin, `{}`, 400, "validation_failed", "url"},
			{"http url", "POST", "/v1/webhooks", hookAdmin, `{"url":"http://hooks.example.com","events":["key.created"]}`, 400, "validation_failed", "url"},
			{"loopback url", "POST", "/v1/webhooks", hookAdmin, `{"url":"https://127.0.0.1/x","events":["key.created"]}`, 400, "validation_failed", "url"},
			{"metadata url", "POST", "/v1/webhooks", hookAdmin, `{"url":"https://169.254.169.254/latest","events":["key.created"]}`, 400, "validation_failed", "url"},
			{"private url", "POST", "/v1/webhooks", hookAdmin, `{"url":"https://10.0.0.8/x","events":["key.created"]}`, 400, "validation_failed", "url"},
			{"localhost url", "POST", "/v1/webhooks", hookAdmin, `{"url":"https://localhost/x","events":["key.created"]}`, 400, "validation_failed", "url"},
			{"empty events", "POST", "/v1/webhooks", hookAdmin, `{"url":"https://hooks.example.com","events":[]}`, 400, "validation_failed", "events"},
			{"unknown event", "POST", "/v1/webhooks", hookAdmin, `{"url":"https://hooks.example.com","events":["key.stolen"]}`, 400, "validation_failed", "events[0]"},
			{"long description", "PATCH", item, hookAdmin, `{"description":"` + strings.Repeat("d", 201) + `"}`, 400, "validation_failed", "description"},
			{"unknown field", "PATCH", item, hookAdmin, `{"secret":"whsec_x"}`, 400, "validation_failed", "secret"},
			{"retry unknown delivery", "POST", item + "/deliveries/msg_nope/retry", hookAdmin, "", 404, "not_found", ""},
			{"edit", "PATCH", item, hookAdmin, `{"url":"https://hooks.example.com/b","events":["key.deleted"]}`, 200, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.method, tc.path, tc.token, tc.body, nil)
				if r.status != tc.status || (tc.code != "" && r.code() != tc.code) {
					t.Fatalf("%s %s = %d %s, want %d %s", tc.method, tc.path, r.status, r.raw, tc.status, tc.code)
				}
				if tc.field != "" && !strings.Contains(r.raw, `"field":"`+tc.field+`"`) {
					t.Fatalf("problem does not name field %s: %s", tc.field, r.raw)
				}
				if tc.status < 300 && strings.Contains(r.raw, "whsec_") {
					t.Fatalf("%s answered a signing secret", tc.name)
				}
			})
		}

		got := e.do("GET", item, hookReader, "", nil)
		if got.str("url") != "https://hooks.example.com/b" || got.body["previous_secret_expires_at"] != nil {
			t.Fatalf("after edit: %s", got.raw)
		}
		rotated := e.do("POST", item+"/rotate-secret", hookAdmin, "", nil)
		if rotated.status != 200 || rotated.str("secret") == secret || !strings.HasPrefix(rotated.str("secret"), "whsec_") || rotated.str("previous_secret_expires_at") == "" {
			t.Fatalf("rotate-secret: %d %s", rotated.status, rotated.str("previous_secret_expires_at"))
		}
		list := e.do("GET", "/v1/webhooks", hookReader, "", nil)
		if items, _ := list.body["items"].([]any); len(items) != 1 || strings.Contains(list.raw, "whsec_") {
			t.Fatalf("list: %d items or a secret", len(items))
		}
		if r := e.do("GET", "/v1/webhooks", e.ownerB, "", nil); r.status != 200 || strings.Contains(r.raw, id) {
			t.Fatalf("another organization's list shows the webhook: %s", r.raw)
		}
		if r := e.do("DELETE", item, hookAdmin, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", item, hookAdmin, "", nil); r.status != http.StatusNotFound {
			t.Fatalf("get after delete: %d", r.status)
		}
	})
}

// TestLeakIsAnnouncedByWebhook: a self-reported live token revokes its key
// and queues one key.revoked delivery (reason leaked, never the token) for
// the endpoints subscribed to it; a report of a token that is not live
// queues nothing.
func TestLeakIsAnnouncedByWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		hook := e.create("/v1/webhooks", `{"url":"https://hooks.example.com/leaks","events":["key.revoked"]}`)
		other := e.create("/v1/webhooks", `{"url":"https://hooks.example.com/other","events":["key.created"]}`)
		id, tok := e.newKey(`{"name":"leaky","preset":"read-only","expiration":"30d"}`)
		deliveries := func(wh string) []any {
			t.Helper()
			r := e.do("GET", "/v1/webhooks/"+wh+"/deliveries", e.owner, "", nil)
			if r.status != 200 {
				t.Fatalf("deliveries: %d %s", r.status, r.raw)
			}
			items, _ := r.body["items"].([]any)
			if strings.Contains(r.raw, tok) {
				t.Fatal("a delivery holds the token")
			}
			return items
		}
		if r := e.do("POST", "/v1/leaks", "", `{"token":"`+tok+`","url":"https://paste.example/x"}`, nil); r.status != http.StatusAccepted {
			t.Fatalf("report: %d %s", r.status, r.raw)
		}
		items := deliveries(hook)
		if len(items) != 1 {
			t.Fatalf("%d deliveries after the report, want 1", len(items))
		}
		d := items[0].(map[string]any)
		p, _ := d["payload"].(map[string]any)
		data, _ := p["data"].(map[string]any)
		key, _ := data["key"].(map[string]any)
		if d["event_type"] != "key.revoked" || key["id"] != id || data["reason"] != "leaked" {
			t.Fatalf("delivery %v, want key.revoked for %s with reason leaked", d, id)
		}
		// The other endpoint heard of the creation it subscribed to, and
		// of nothing else.
		if ds := deliveries(other); len(ds) != 1 || ds[0].(map[string]any)["event_type"] != "key.created" {
			t.Fatalf("the endpoint subscribed to key.created only got %v", ds)
		}
		// Reported again: the key is already revoked, nothing more.
		e.do("POST", "/v1/leaks", "", `{"token":"`+tok+`"}`, nil)
		if n := len(deliveries(hook)); n != 1 {
			t.Fatalf("%d deliveries after a second report, want still 1", n)
		}
	})
}

// TestKeyChangesAreAnnouncedByWebhook: every stored key change is queued
// once, as its event, for the endpoints subscribed to it (ids, names, the
// acting key; never a token); an edit that changes nothing and a refused
// change queue nothing.
func TestKeyChangesAreAnnouncedByWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		hook := e.create("/v1/webhooks", `{"url":"https://hooks.example.com/changes","events":["key.created","key.updated","key.rotated","key.deleted"]}`)
		other := e.create("/v1/webhooks", `{"url":"https://hooks.example.com/expiry","events":["key.expiring"]}`)
		id, tok := e.newKey(`{"name":"announced","preset":"read-only","expiration":"30d"}`)
		if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, `{"name":"announced"}`, nil); r.status != 200 {
			t.Fatalf("no-op edit: %d %s", r.status, r.raw)
		}
		if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, `{"name":"renamed"}`, nil); r.status != 200 {
			t.Fatalf("edit: %d %s", r.status, r.raw)
		}
		if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, `{"expires_at":"1999-01-01T00:00:00Z"}`, nil); r.status != 400 {
			t.Fatalf("refused edit: %d %s", r.status, r.raw)
		}
		rot := e.do("POST", "/v1/api-keys/"+id+"/rotate", e.owner, "", nil)
		if rot.status != 200 {
			t.Fatalf("rotate: %d %s", rot.status, rot.raw)
		}
		if r := e.do("DELETE", "/v1/api-keys/"+id, e.owner, "", nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		r := e.do("GET", "/v1/webhooks/"+hook+"/deliveries", e.owner, "", nil)
		if r.status != 200 {
			t.Fatalf("deliveries: %d %s", r.status, r.raw)
		}
		if strings.Contains(r.raw, tok) || strings.Contains(r.raw, rot.str("token")) {
			t.Fatal("a delivery holds a token")
		}
		items, _ := r.body["items"].([]any)
		var got []string
		for _, it := range items {
			d := it.(map[string]any)
			p, _ := d["payload"].(map[string]any)
			data, _ := p["data"].(map[string]any)
			key, _ := data["key"].(map[string]any)
			actor, _ := data["actor"].(map[string]any)
			if key["id"] != id || actor["id"] == nil || actor["id"] == "" {
				t.Fatalf("delivery %v: want key %s and the acting key", d, id)
			}
			got = append(got, d["event_type"].(string)+":"+key["name"].(string))
		}
		slices.Sort(got)
		want := []string{"key.created:announced", "key.deleted:renamed", "key.rotated:renamed", "key.updated:renamed"}
		if !slices.Equal(got, want) {
			t.Fatalf("deliveries %v, want %v", got, want)
		}
		if r := e.do("GET", "/v1/webhooks/"+other+"/deliveries", e.owner, "", nil); strings.Contains(r.raw, id) {
			t.Fatalf("an endpoint subscribed to key.expiring only got a change: %s", r.raw)
		}
	})
}
