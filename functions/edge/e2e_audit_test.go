package main

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// keyActions lists the actions of a key's audit events, newest first, all
// pages (limit 2, so that paging is walked too).
func (c client) keyActions(owner, keyID string) []string {
	c.t.Helper()
	var out []string
	path := "/v1/audit-events?limit=2&key_id=" + keyID
	for range 1000 {
		r := c.must(200, "GET", path, owner, "")
		for _, it := range r.body["items"].([]any) {
			ev := it.(map[string]any)
			if target, _ := ev["target"].(map[string]any); target["id"] != keyID {
				c.t.Fatalf("the key filter listed an event of %v", target)
			}
			a, _ := ev["action"].(string)
			out = append(out, a)
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			return out
		}
		path = "/v1/audit-events?limit=2&key_id=" + keyID + "&cursor=" + next
	}
	c.t.Fatal("the audit listing does not end")
	return nil
}

// walkAudit reads the trail of the key the walk took through its life:
// every change it made, and only those, newest first, through the listing
// and the NDJSON export. want is oldest first. On DynamoDB the key filter
// reads an eventually consistent index: a deployment gets a few seconds.
func (c client) walkAudit(owner, keyID string, want []string) {
	c.t.Helper()
	want = slices.Clone(want)
	slices.Reverse(want)
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if got = c.keyActions(owner, keyID); slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, want) {
		c.t.Fatalf("the key's audit events are %v, want %v", got, want)
	}
	r := c.must(200, "GET", "/v1/audit-events?key_id="+keyID, owner, "", "Accept", "application/x-ndjson")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/x-ndjson") || r.header.Get("Link") != "" {
		c.t.Fatalf("export: Content-Type %q, Link %q", r.header.Get("Content-Type"), r.header.Get("Link"))
	}
	var exported []string
	for _, line := range strings.Split(strings.TrimSuffix(r.raw, "\n"), "\n") {
		var ev struct {
			Action string `json:"action"`
			Source struct {
				RequestID string `json:"request_id"`
			} `json:"source"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			c.t.Fatalf("export line %q: %v", line, err)
		}
		exported = append(exported, ev.Action)
		if ev.Source.RequestID == "" {
			c.t.Errorf("exported %s has no request id", ev.Action)
		}
	}
	if !slices.Equal(exported, want) {
		c.t.Fatalf("the NDJSON export holds %v, want %v", exported, want)
	}
}

// walkUsage reads a key's usage until the counts the walk made show
// (written in batches: up to 10 s on the single binary, 30 s on Lambda):
// allowed, and denied as expired.
func (c client) walkUsage(owner, keyID string, allowed, expired float64) {
	c.t.Helper()
	var r reply
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		r = c.must(200, "GET", "/v1/api-keys/"+keyID+"/usage", owner, "")
		totals, _ := r.body["totals"].(map[string]any)
		by, _ := totals["denied_by"].(map[string]any)
		if totals["allowed"] == allowed && totals["denied"] == expired && (expired == 0 || by["expired"] == expired) {
			if r.s("key_id") != keyID || len(r.body["days"].([]any)) == 0 {
				c.t.Fatalf("usage: %s", r.raw)
			}
			return
		}
	}
	c.t.Fatalf("usage of %s never showed %v allowed and %v expired: %s", keyID, allowed, expired, r.raw)
}
