package wiring_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/token"
)

// raw sends a request and returns the status, Content-Type and body
// without decoding it (exports are not JSON objects).
func (e *env) raw(path, tok string, hdr map[string]string) (int, string, string) {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

// events lists every event of path's selection (all pages, limit 2).
func (e *env) events(query, tok string) []map[string]any {
	e.t.Helper()
	var all []map[string]any
	cursor := ""
	for range 100 {
		path := "/v1/audit-events?limit=2" + query
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.do("GET", path, tok, "", nil)
		if r.status != 200 {
			e.t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
		}
		items, _ := r.body["items"].([]any)
		for _, it := range items {
			all = append(all, it.(map[string]any))
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			return all
		}
		cursor = next
	}
	e.t.Fatal("paging does not end")
	return nil
}

func actionsOf(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i], _ = ev["action"].(string)
	}
	return out
}

// TestAuditTrail: every change made through the API is an event with its
// actor, target, source and changes (never a token), listed newest first
// with filters and pages, exported as NDJSON and CSV, read only with
// audit_log:read, and only within the caller's organization.
func TestAuditTrail(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		src := map[string]string{"User-Agent": "audit-test/1", "X-Request-Id": "req-42"}
		step := func(method, path, body string, want int) response {
			t.Helper()
			e.clock.Advance(time.Second)
			r := e.do(method, path, e.owner, body, src)
			if r.status != want {
				t.Fatalf("%s %s: %d %s", method, path, r.status, r.raw)
			}
			return r
		}
		created := step("POST", "/v1/api-keys", `{"name":"=HYPERLINK(\"x\")","preset":"read-only","expiration":"30d"}`, 201)
		id, tok := created.str("id"), created.str("token")
		step("PATCH", "/v1/api-keys/"+id, `{"name":"ci reader"}`, 200)
		rotated := step("POST", "/v1/api-keys/"+id+"/rotate", `{"grace_seconds":3600}`, 200)
		step("DELETE", "/v1/api-keys/"+id+"/previous-token", ``, 204)
		step("DELETE", "/v1/api-keys/"+id, ``, 204)
		team := step("POST", "/v1/teams", `{"name":"audited"}`, 201).str("id")
		step("PATCH", "/v1/teams/"+team, `{"name":"renamed"}`, 200)
		step("DELETE", "/v1/teams/"+team, ``, 204)
		// Refused changes are not events.
		e.clock.Advance(time.Second)
		if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, `{"name":"gone"}`, nil); r.status != 404 {
			t.Fatalf("PATCH of a deleted key: %d", r.status)
		}

		p, err := token.Parse(e.owner)
		if err != nil {
			t.Fatal(err)
		}
		ownerID := "key_" + p.Selector
		keyEvents := e.events("&key_id="+id, e.owner)
		if got, want := actionsOf(keyEvents), []string{"key.deleted", "key.previous_token_revoked", "key.rotated", "key.updated", "key.created"}; !slices.Equal(got, want) {
			t.Fatalf("key events = %v, want %v", got, want)
		}
		for _, ev := range keyEvents {
			actor, _ := ev["actor"].(map[string]any)
			source, _ := ev["source"].(map[string]any)
			target, _ := ev["target"].(map[string]any)
			if actor["type"] != "key" || actor["id"] != ownerID || actor["name"] != "Owner key" {
				t.Errorf("%s: actor %v", ev["action"], actor)
			}
			if source["user_agent"] != "audit-test/1" || source["request_id"] != "req-42" || source["ip"] != "127.0.0.1" {
				t.Errorf("%s: source %v", ev["action"], source)
			}
			if target["type"] != "key" || target["id"] != id {
				t.Errorf("%s: target %v", ev["action"], target)
			}
		}
		changes, _ := keyEvents[3]["changes"].(map[string]any)
		if name, _ := changes["name"].(map[string]any); name["from"] != `=HYPERLINK("x")` || name["to"] != "ci reader" || len(changes) != 1 {
			t.Errorf("key.updated changes = %v, want only the name from → to", changes)
		}
		graceEnd := rotated.str("previous_token_expires_at")
		changes, _ = keyEvents[2]["changes"].(map[string]any)
		if g, _ := changes["grace_seconds"].(map[string]any); g["from"] != nil || g["to"] != float64(3600) || len(changes) != 2 {
			t.Errorf("key.rotated changes = %v, want grace_seconds null → 3600 and the previous token's end", changes)
		}
		changes, _ = keyEvents[1]["changes"].(map[string]any)
		if p, _ := changes["previous_token_expires_at"].(map[string]any); graceEnd == "" || p["from"] != graceEnd || p["to"] != nil {
			t.Errorf("key.previous_token_revoked changes = %v, want previous_token_expires_at %s → null", changes, graceEnd)
		}
		all, _ := json.Marshal(e.events("", e.owner))
		for _, secret := range []string{tok, rotated.str("token"), created.str("token_hint"), rotated.str("token_hint")} {
			if strings.Contains(string(all), secret) {
				t.Fatal("an audit event holds a token or a hint")
			}
		}
		if got := actionsOf(e.events("&action=team.renamed", e.owner)); !slices.Equal(got, []string{"team.renamed"}) {
			t.Errorf("action filter = %v", got)
		}
		window := "&since=" + e.clock.Now().Add(-5*time.Second).Format(time.RFC3339) + "&until=" + e.clock.Now().Add(-2*time.Second).Format(time.RFC3339)
		if got := actionsOf(e.events(window, e.owner)); !slices.Equal(got, []string{"team.created", "key.deleted", "key.previous_token_revoked"}) {
			t.Errorf("since/until = %v, want the events of seconds 4 to 6", got)
		}

		// Export: the same selection, all pages.
		status, ct, body := e.raw("/v1/audit-events?limit=1&key_id="+id, e.owner, map[string]string{"Accept": "application/x-ndjson"})
		if status != 200 || !strings.HasPrefix(ct, "application/x-ndjson") {
			t.Fatalf("NDJSON export: %d %s", status, ct)
		}
		var lines []string
		sc := bufio.NewScanner(strings.NewReader(body))
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("NDJSON line %q: %v", sc.Text(), err)
			}
			lines = append(lines, ev["action"].(string))
		}
		if !slices.Equal(lines, actionsOf(keyEvents)) {
			t.Errorf("NDJSON export = %v, want %v", lines, actionsOf(keyEvents))
		}
		status, ct, body = e.raw("/v1/audit-events?key_id="+id, e.owner, map[string]string{"Accept": "text/csv"})
		if status != 200 || !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("CSV export: %d %s", status, ct)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 6 || strings.Join(rows[0], ",") != "id,at,action,actor_type,actor_id,actor_name,target_type,target_id,target_name,ip,user_agent,request_id,changes" {
			t.Fatalf("CSV export: %v rows %v", err, rows)
		}
		if got := rows[5][8]; got != `'=HYPERLINK("x")` {
			t.Errorf("CSV target_name of the created key = %q, want the formula defused with a quote", got)
		}

		// Bad filters name their field.
		for q, field := range map[string]string{"since=yesterday": "since", "until=2026-13-01T00:00:00Z": "until", "limit=0": "limit", "limit=x": "limit",
			"since=2026-11-25T00:00:00Z&until=2026-11-24T00:00:00Z": "until", "key_id=nope": "key_id", "cursor=garbage": "cursor"} {
			r := e.do("GET", "/v1/audit-events?"+q, e.owner, "", nil)
			errs, _ := r.body["errors"].([]any)
			if r.status != 400 || len(errs) == 0 || errs[0].(map[string]any)["field"] != field {
				t.Errorf("?%s: %d %s, want 400 naming %s", q, r.status, r.raw, field)
			}
		}

		// Only audit_log:read reads it; the read-only preset does not hold it.
		_, reader := e.newKey(`{"name":"read-only","preset":"read-only","expiration":"30d"}`)
		if r := e.do("GET", "/v1/audit-events", reader, "", nil); r.status != 403 {
			t.Errorf("read-only key: %d, want 403", r.status)
		}
		_, auditor := e.newKey(`{"name":"auditor","permissions":[{"permission":"audit_log:read"}],"expiration":"30d"}`)
		if got := e.events("&key_id="+id, auditor); len(got) != 5 {
			t.Errorf("auditor sees %d events of the key, want 5", len(got))
		}
		if r := e.do("POST", "/v1/api-keys", e.owner, `{"name":"scoped auditor","permissions":[{"permission":"audit_log:read","scope":{"level":"team","id":"`+e.team+`"}}],"expiration":"30d"}`, nil); r.status != 400 {
			t.Errorf("audit_log:read scoped to a team: %d, want 400 (never scopable)", r.status)
		}
		// Another organization sees none of it.
		if got := e.events("&key_id="+id, e.ownerB); len(got) != 0 {
			t.Errorf("organization B sees %d of A's events", len(got))
		}
	})
}
