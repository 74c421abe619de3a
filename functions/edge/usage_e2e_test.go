package main

import (
	"testing"
)

// TestUsageDrainedOnShutdown: what serve counted and had not flushed yet
// (its interval is 10 s) is written when it stops on SIGINT, so the next
// start answers it.
func TestUsageDrainedOnShutdown(t *testing.T) {
	data := t.TempDir()
	_, keyID, owner := binary{t: t, flags: []string{"--data", data}}.bootstrap("Org")
	t.Run("count", func(t *testing.T) {
		base, _ := binary{t: t, flags: []string{"--data", data}}.serve()
		c := client{t: t, base: base}
		for range 3 {
			if r := c.verify(owner, "", ""); r.s("code") != "ok" {
				t.Fatalf("verify: %s", r.raw)
			}
		}
		// The subtest's end stops the server (SIGINT) well within the
		// flush interval.
	})
	base, _ := binary{t: t, flags: []string{"--data", data}}.serve()
	c := client{t: t, base: base}
	r := c.must(200, "GET", "/v1/api-keys/"+keyID+"/usage", owner, "")
	totals, _ := r.body["totals"].(map[string]any)
	if totals["allowed"] != 3.0 || totals["denied"] != 0.0 {
		t.Fatalf("usage after a restart = %s, want the 3 verifications drained at shutdown", r.raw)
	}
	if r.s("last_used_ip") != "127.0.0.1" || r.s("last_used_at") == "" {
		t.Fatalf("last use after a restart: %s", r.raw)
	}
}
