package main

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// listKeyEvents returns the actions of every key event of the owner's
// organization by key id, oldest first, and the ids created under each
// name (the key.created events' target names), following the cursors.
func listKeyEvents(t *testing.T, c client, owner string) (actions map[string][]string, createdAs map[string][]string) {
	t.Helper()
	actions, createdAs = map[string][]string{}, map[string][]string{}
	seen := map[string]bool{}
	path := "/v1/audit-events?limit=100"
	for range 10000 {
		r := c.must(200, "GET", path, owner, "")
		for _, it := range r.body["items"].([]any) {
			ev := it.(map[string]any)
			id, _ := ev["id"].(string)
			if seen[id] {
				t.Fatalf("the audit listing holds event %s twice", id)
			}
			seen[id] = true
			target, _ := ev["target"].(map[string]any)
			if target["type"] != "key" {
				continue
			}
			key, _ := target["id"].(string)
			action, _ := ev["action"].(string)
			actions[key] = append(actions[key], action)
			if action == "key.created" {
				name, _ := target["name"].(string)
				createdAs[name] = append(createdAs[name], key)
			}
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			for _, a := range actions {
				slices.Reverse(a) // newest first → oldest first
			}
			return actions, createdAs
		}
		path = "/v1/audit-events?limit=100&cursor=" + url.QueryEscape(next)
	}
	t.Fatal("the audit listing does not end")
	return nil, nil
}

// checkCrashEvents holds the restarted server's audit trail to its keys
// after the kills: every surviving change has exactly its event and every
// event its change. A key that exists has key.created and one key.rotated
// per rotation its version counts, and nothing else; a key whose events
// exist but that does not has them ending in exactly one key.deleted; a
// create that never happened (refused, or cut by a kill before it was
// stored) has no key.created; an acknowledged delete has its event.
func checkCrashEvents(t *testing.T, base, owner string, recs []*crashKey) {
	t.Helper()
	c := client{t: t, base: base}
	listed := listAll(t, c, owner)
	actions, createdAs := listKeyEvents(t, c, owner)
	for id, k := range listed {
		version, _ := k["version"].(float64)
		want := []string{"key.created"}
		for range int(version) - 1 {
			want = append(want, "key.rotated")
		}
		if got := actions[id]; !slices.Equal(got, want) {
			t.Fatalf("key %s (%v, version %v) exists with events %v, want %v", id, k["name"], version, got, want)
		}
	}
	for id, got := range actions {
		if _, exists := listed[id]; exists {
			continue
		}
		// Deleted: created, rotated at most once (a crash worker rotates a
		// key once), deleted, in that order.
		if !slices.Equal(got, []string{"key.created", "key.deleted"}) && !slices.Equal(got, []string{"key.created", "key.rotated", "key.deleted"}) {
			t.Fatalf("key %s is gone with events %v, want its creation, its rotation if any and exactly one deletion", id, got)
		}
	}
	for _, k := range recs {
		switch ids := createdAs[k.name]; {
		case len(ids) > 1:
			t.Fatalf("%q has %d key.created events", k.name, len(ids))
		case k.id == "" && !k.createUnknown && len(ids) != 0:
			t.Fatalf("the refused create of %q has an event", k.name)
		case k.id == "" && len(ids) == 1:
			if _, exists := listed[ids[0]]; !exists && !strings.HasSuffix(strings.Join(actions[ids[0]], ","), "key.deleted") {
				t.Fatalf("the unacknowledged create of %q has an event but no key", k.name)
			}
		case k.id == "" && len(ids) == 0:
			for _, l := range listed {
				if l["name"] == k.name {
					t.Fatalf("the unacknowledged create of %q is stored without its event", k.name)
				}
			}
		case k.id != "" && (len(ids) != 1 || ids[0] != k.id):
			t.Fatalf("the acknowledged create of %q (%s) has key.created events for %v", k.name, k.id, ids)
		case k.deleted && !slices.Contains(actions[k.id], "key.deleted"):
			t.Fatalf("the acknowledged delete of %s (%q) has no event: %v", k.id, k.name, actions[k.id])
		case k.rotated && !slices.Contains(actions[k.id], "key.rotated"):
			t.Fatalf("the acknowledged rotation of %s (%q) has no event: %v", k.id, k.name, actions[k.id])
		}
	}
}
