package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/token"
)

// eventsOrganization holds the events of the writes Event makes up: tests
// that do not look at events still write one with every change.
const eventsOrganization = "org_storetest_events"

// Event returns a valid event, with a fresh id, for a write whose event the
// test does not look at. Every change written through the store contract
// takes one.
func Event() audit.Event {
	at := time.Now().UTC().Truncate(time.Millisecond)
	id, err := audit.NewID(token.NewGenerator(), at)
	if err != nil {
		panic(err) // crypto/rand never fails
	}
	return audit.Event{ID: id, At: at, OrganizationID: eventsOrganization, Action: "test.write",
		Actor: audit.System("storetest"), Target: audit.Target{Type: "test", ID: id}}
}

// ev is Event for the suite's own writes.
func ev() audit.Event { return Event() }

// event returns an event of org: action on target, by a key actor, at at,
// with a source and a name change.
func event(t *testing.T, org, action string, target audit.Target, at time.Time) audit.Event {
	t.Helper()
	id, err := audit.NewID(token.NewGenerator(), at)
	if err != nil {
		t.Fatal(err)
	}
	e := audit.Event{ID: id, At: at, OrganizationID: org, Action: action,
		Actor: audit.KeyActor(newID("key_"), "CI deploy"), Target: target,
		Source: &audit.Source{IP: "192.0.2.7", UserAgent: "storetest/1", RequestID: "req-" + randomString(8)}}
	e.Set("name", nil, target.Name)
	return e
}

// keyTargetOf is k as an event target.
func keyTargetOf(k *keys.Key) audit.Target {
	return audit.Target{Type: "key", ID: k.ID, Name: k.Name}
}

// listEvents lists every event of org that q selects, page by page with
// limit, newest first (at q.Now, the wall clock when zero: the suite's
// events are stamped with it).
func listEvents(t *testing.T, s store.Store, org string, q audit.Query, limit int) []audit.Event {
	t.Helper()
	q.Limit = limit
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	var all []audit.Event
	for i := 0; ; i++ {
		p, err := s.ListEvents(t.Context(), org, q)
		if err != nil {
			t.Fatalf("ListEvents(%s, page %d): %v", org, i, err)
		}
		if len(p.Items) > limit || (p.Next != "" && len(p.Items) != limit) {
			t.Fatalf("page %d holds %d events with next %q (limit %d)", i, len(p.Items), p.Next, limit)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		if i > 1000 {
			t.Fatal("ListEvents does not end")
		}
		q.Cursor = p.Next
	}
}

// eventIDs returns the ids of evs.
func eventIDs(evs []audit.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// sameEvent reports the first difference between want and got ("" when
// equal): every field, times with Equal, changes as JSON.
func sameEvent(want, got audit.Event) string {
	switch {
	case want.ID != got.ID:
		return "id " + got.ID
	case !want.At.Equal(got.At):
		return "at " + got.At.String()
	case want.OrganizationID != got.OrganizationID || want.Action != got.Action:
		return "organization or action " + got.OrganizationID + " " + got.Action
	case want.Actor != got.Actor || want.Target != got.Target:
		return fmt.Sprintf("actor or target %+v %+v", got.Actor, got.Target)
	case (want.Source == nil) != (got.Source == nil) || (want.Source != nil && *want.Source != *got.Source):
		return fmt.Sprintf("source %+v", got.Source)
	}
	w, _ := json.Marshal(want.Changes)
	g, _ := json.Marshal(got.Changes)
	if string(w) != string(g) {
		return "changes " + string(g)
	}
	return ""
}

// testAuditKeyEvents: each key change writes exactly its event, which reads
// back equal; listings are newest first, by key and by action.
func testAuditKeyEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at)
	other := newKey(org, at)
	created := event(t, org, audit.KeyCreated, keyTargetOf(k), at)
	if err := s.CreateKey(ctx, k, created); err != nil {
		t.Fatal(err)
	}
	otherCreated := event(t, org, audit.KeyCreated, keyTargetOf(other), at.Add(time.Millisecond))
	if err := s.CreateKey(ctx, other, otherCreated); err != nil {
		t.Fatal(err)
	}
	up := k.Clone()
	up.Name, up.Version, up.UpdatedAt = "renamed", 2, at.Add(2*time.Millisecond)
	updated := event(t, org, audit.KeyUpdated, keyTargetOf(up), up.UpdatedAt)
	updated.Set("name", k.Name, up.Name)
	if err := s.UpdateKey(ctx, up, 1, updated); err != nil {
		t.Fatal(err)
	}
	deleted := event(t, org, audit.KeyDeleted, keyTargetOf(up), at.Add(3*time.Millisecond))
	deleted.Source = nil
	deleted.Changes = nil
	if err := s.DeleteKey(ctx, k.ID, 2, deleted); err != nil {
		t.Fatal(err)
	}
	want := []audit.Event{deleted, updated, otherCreated, created}
	for _, limit := range []int{1, 2, 100} {
		got := listEvents(t, s, org, audit.Query{}, limit)
		if len(got) != len(want) {
			t.Fatalf("limit %d: listed %v, want %v", limit, eventIDs(got), eventIDs(want))
		}
		for i := range want {
			if d := sameEvent(want[i], got[i]); d != "" {
				t.Fatalf("limit %d: event %d (%s) differs: %s", limit, i, want[i].Action, d)
			}
		}
	}
	byKey := listEvents(t, s, org, audit.Query{KeyID: k.ID}, 2)
	if !slices.Equal(eventIDs(byKey), eventIDs([]audit.Event{deleted, updated, created})) {
		t.Errorf("key filter listed %v", eventIDs(byKey))
	}
	byAction := listEvents(t, s, org, audit.Query{Action: audit.KeyCreated}, 1)
	if !slices.Equal(eventIDs(byAction), eventIDs([]audit.Event{otherCreated, created})) {
		t.Errorf("action filter listed %v", eventIDs(byAction))
	}
	both := listEvents(t, s, org, audit.Query{KeyID: other.ID, Action: audit.KeyDeleted}, 5)
	if len(both) != 0 {
		t.Errorf("key and action filters listed %v, want none", eventIDs(both))
	}
	window := listEvents(t, s, org, audit.Query{Since: at.Add(time.Millisecond), Until: at.Add(3 * time.Millisecond)}, 1)
	if !slices.Equal(eventIDs(window), eventIDs([]audit.Event{updated, otherCreated})) {
		t.Errorf("since/until listed %v, want the events at +1 ms and +2 ms", eventIDs(window))
	}
}

// testAuditDirectoryEvents: organization and node changes write their
// events.
func testAuditDirectoryEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := now()
	o := &directory.Organization{ID: newID("org_"), Name: "audited", CreatedAt: at, UpdatedAt: at}
	orgTarget := audit.Target{Type: "organization", ID: o.ID, Name: o.Name}
	evs := []audit.Event{event(t, o.ID, audit.OrganizationCreated, orgTarget, at)}
	if err := s.CreateOrganization(ctx, o, evs[0]); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, event(t, o.ID, audit.OrganizationRenamed, orgTarget, at.Add(time.Millisecond)))
	if _, err := s.RenameOrganization(ctx, o.ID, "renamed", at.Add(time.Millisecond), evs[1]); err != nil {
		t.Fatal(err)
	}
	team := child(o.ID, nil, "core", at)
	teamTarget := audit.Target{Type: "team", ID: team.ID, Name: "core"}
	evs = append(evs, event(t, o.ID, "team.created", teamTarget, at.Add(2*time.Millisecond)))
	if err := s.CreateNode(ctx, team, evs[2]); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, event(t, o.ID, "team.renamed", teamTarget, at.Add(3*time.Millisecond)))
	if _, err := s.RenameNode(ctx, o.ID, team.ID, "platform", at.Add(3*time.Millisecond), evs[3]); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, event(t, o.ID, "team.renamed", teamTarget, at.Add(4*time.Millisecond)))
	if _, err := s.RenameNode(ctx, o.ID, team.ID, "platform", at.Add(4*time.Millisecond), evs[4]); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, event(t, o.ID, "team.deleted", teamTarget, at.Add(5*time.Millisecond)))
	if err := s.DeleteNode(ctx, o.ID, team.ID, evs[5]); err != nil {
		t.Fatal(err)
	}
	got := listEvents(t, s, o.ID, audit.Query{}, 4)
	slices.Reverse(evs)
	if len(got) != len(evs) {
		t.Fatalf("listed %v, want %v", eventIDs(got), eventIDs(evs))
	}
	for i := range evs {
		if d := sameEvent(evs[i], got[i]); d != "" {
			t.Fatalf("event %d (%s) differs: %s", i, evs[i].Action, d)
		}
	}
	// The name was freed by the delete, in the same write as its event.
	again := child(o.ID, nil, "platform", at)
	if err := s.CreateNode(ctx, again, ev()); err != nil {
		t.Fatalf("creating a team with the deleted team's name: %v", err)
	}
}

// testAuditRefusedWritesNoEvent: a change refused by its condition (stale
// version, missing item, duplicate id, taken name, missing parent, node with
// children) writes no event.
func testAuditRefusedWritesNoEvent(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at)
	mustCreateKey(t, s, k)
	team := mustCreateNode(t, s, child(org, nil, "core", at))
	prj := mustCreateNode(t, s, child(org, team, "api", at))
	mustCreateNode(t, s, child(org, nil, "taken", at))
	mk := func(action string) audit.Event {
		return event(t, org, action, audit.Target{Type: "key", ID: k.ID, Name: k.Name}, at)
	}
	stale := k.Clone()
	stale.Version, stale.Name = 5, "stale"
	wantErr(t, "UpdateKey with a stale version", s.UpdateKey(ctx, stale, 4, mk(audit.KeyUpdated)), fault.ErrConflict)
	wantErr(t, "DeleteKey with a stale version", s.DeleteKey(ctx, k.ID, 3, mk(audit.KeyDeleted)), fault.ErrConflict)
	wantErr(t, "DeleteKey of a missing key", s.DeleteKey(ctx, newID("key_"), 1, mk(audit.KeyDeleted)), fault.ErrNotFound)
	missing := newKey(org, at)
	wantErr(t, "UpdateKey of a missing key", s.UpdateKey(ctx, missing, 1, mk(audit.KeyUpdated)), fault.ErrNotFound)
	dup := newKey(org, at)
	dup.ID = k.ID
	wantErr(t, "CreateKey of an existing id", s.CreateKey(ctx, dup, mk(audit.KeyCreated)), fault.ErrConflict)
	wantErr(t, "CreateNode with a taken name", s.CreateNode(ctx, child(org, nil, "taken", at), mk("team.created")), fault.ErrConflict)
	orphan := child(org, team, "orphan", at)
	orphan.Path.Team = newID("team_")
	wantErr(t, "CreateNode under a missing parent", s.CreateNode(ctx, orphan, mk("project.created")), fault.ErrNotFound)
	_, err := s.RenameNode(ctx, org, prj.ID, "api", at, ev())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RenameNode(ctx, org, team.ID, "taken", at, mk("team.renamed"))
	wantErr(t, "RenameNode to a taken name", err, fault.ErrConflict)
	_, err = s.RenameNode(ctx, org, newID("team_"), "x", at, mk("team.renamed"))
	wantErr(t, "RenameNode of a missing node", err, fault.ErrNotFound)
	wantErr(t, "DeleteNode with children", s.DeleteNode(ctx, org, team.ID, mk("team.deleted")), fault.ErrConflict)
	wantErr(t, "DeleteNode of a missing node", s.DeleteNode(ctx, org, newID("team_"), mk("team.deleted")), fault.ErrNotFound)
	_, err = s.RenameOrganization(ctx, newID("org_"), "x", at, event(t, org, audit.OrganizationRenamed, audit.Target{Type: "organization", ID: org}, at))
	wantErr(t, "RenameOrganization of a missing organization", err, fault.ErrNotFound)
	if got := listEvents(t, s, org, audit.Query{}, 100); len(got) != 0 {
		t.Fatalf("refused writes stored events: %v", got)
	}
}

// testAuditConcurrent: of concurrent updates of one version, exactly one is
// acknowledged, and exactly its event is stored.
func testAuditConcurrent(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	k := newKey(org, at)
	mustCreateKey(t, s, k)
	const writers = 5
	var wg sync.WaitGroup
	errs := make([]error, writers)
	evs := make([]audit.Event, writers)
	for i := range writers {
		up := k.Clone()
		up.Name, up.Version = fmt.Sprintf("writer %d", i), 2
		evs[i] = event(t, org, audit.KeyUpdated, keyTargetOf(up), at.Add(time.Duration(i)*time.Millisecond))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.UpdateKey(context.WithoutCancel(t.Context()), up, 1, evs[i])
		}()
	}
	wg.Wait()
	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, evs[i].ID)
		case !errors.Is(err, fault.ErrConflict):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d writers acknowledged, want 1", len(won))
	}
	got := listEvents(t, s, org, audit.Query{KeyID: k.ID}, 10)
	if !slices.Equal(eventIDs(got), won) {
		t.Fatalf("stored events %v, want only the winner's %v", eventIDs(got), won)
	}
}

// testAuditOtherOrganization: an organization lists only its own events,
// and a cursor of another organization's listing is refused.
func testAuditOtherOrganization(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newOrg(t, s).ID, newOrg(t, s).ID
	at := now()
	for i := range 3 {
		k := newKey(a, at)
		if err := s.CreateKey(ctx, k, event(t, a, audit.KeyCreated, keyTargetOf(k), at.Add(time.Duration(i)*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
	}
	if got := listEvents(t, s, b, audit.Query{}, 10); len(got) != 0 {
		t.Fatalf("organization b lists a's events: %v", eventIDs(got))
	}
	p, err := s.ListEvents(ctx, a, audit.Query{Now: at, Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("first page of a: %v, next %q", err, p.Next)
	}
	for _, q := range []struct {
		org string
		q   audit.Query
	}{
		{b, audit.Query{Now: at, Cursor: p.Next}},
		{a, audit.Query{Now: at, Cursor: p.Next, KeyID: newID("key_")}},
		{a, audit.Query{Now: at, Cursor: "not a cursor"}},
	} {
		got, err := s.ListEvents(ctx, q.org, q.q)
		if fault.CodeOf(err) != fault.CodeValidation || len(got.Items) != 0 {
			t.Errorf("ListEvents(%s, %+v): %d events, error %v; want a validation error", q.org, q.q, len(got.Items), err)
		}
	}
}
