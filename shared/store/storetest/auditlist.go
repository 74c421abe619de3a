package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
)

// The listing tests below place events with a fixed clock years away from
// the wall clock (Query.Now), and assume the engine keeps events for
// audit.DefaultRetention (the engines' default).

// fixedNow is the listing clock of the tests below: far from the wall
// clock, so a store that reads the wall clock instead of Query.Now lists
// nothing (the events are beyond its Until) and fails them.
var fixedNow = time.Date(2031, 3, 15, 12, 0, 0, 0, time.UTC)

// writeEvents stores evs, in order, each with a rename of org (the write
// its event is recorded with).
func writeEvents(t *testing.T, s store.Store, org string, evs []audit.Event) {
	t.Helper()
	for i, e := range evs {
		if _, err := s.RenameOrganization(t.Context(), org, fmt.Sprintf("renamed %d", i), e.At, e); err != nil {
			t.Fatalf("RenameOrganization with event %d (%s at %s): %v", i, e.Action, e.At, err)
		}
	}
}

// eventsNewestFirst returns evs sorted as a listing answers them: by time, then
// id, descending.
func eventsNewestFirst(evs []audit.Event) []audit.Event {
	out := slices.Clone(evs)
	slices.SortFunc(out, func(a, b audit.Event) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out
}

// testAuditFixedClock: a listing places its window with Query.Now, never
// the wall clock: events around a clock years away are listed at that
// clock, down to the retention horizon and not beyond (also on an engine
// whose pruner has not deleted the older ones yet), and not at the wall
// clock; a listing without Now is refused.
func testAuditFixedClock(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k := newKey(org, fixedNow)
	target := keyTargetOf(k)
	horizon := fixedNow.Add(-audit.DefaultRetention)
	ages := []time.Duration{30 * time.Minute, 10 * 24 * time.Hour, audit.DefaultRetention - time.Hour, audit.DefaultRetention + time.Hour, 500 * 24 * time.Hour}
	var evs, kept []audit.Event
	for _, age := range ages {
		e := event(t, org, audit.KeyUpdated, target, fixedNow.Add(-age))
		evs = append(evs, e)
		if !e.At.Before(horizon) {
			kept = append(kept, e)
		}
	}
	// One event after Now but within the clock skew a listing allows.
	ahead := event(t, org, audit.KeyUpdated, target, fixedNow.Add(audit.ClockSkew/2))
	evs = append(evs, ahead)
	kept = append(kept, ahead)
	writeEvents(t, s, org, evs)
	want := eventIDs(eventsNewestFirst(kept))
	for _, q := range []audit.Query{{Now: fixedNow}, {Now: fixedNow, KeyID: k.ID}} {
		if got := eventIDs(listEvents(t, s, org, q, 2)); !slices.Equal(got, want) {
			t.Errorf("listing at %s (key filter %q) = %v, want %v (the events since the horizon %s)", fixedNow, q.KeyID, got, want, horizon)
		}
	}
	// An explicit since before the horizon does not reach past it.
	if got := eventIDs(listEvents(t, s, org, audit.Query{Now: fixedNow, Since: fixedNow.AddDate(-3, 0, 0)}, 10)); !slices.Equal(got, want) {
		t.Errorf("since before the horizon listed %v, want %v", got, want)
	}
	// At the wall clock (years before), every one of them lies after Until.
	if got := listEvents(t, s, org, audit.Query{Now: time.Now()}, 10); len(got) != 0 {
		t.Errorf("listing at the wall clock shows %d events stamped around %s", len(got), fixedNow)
	}
	if p, err := s.ListEvents(t.Context(), org, audit.Query{Limit: 10}); fault.CodeOf(err) != fault.CodeInternal || len(p.Items) != 0 {
		t.Errorf("listing without Query.Now: %d events, error %v; want an internal error", len(p.Items), err)
	}
}

// testAuditMonths: events in three months (with an empty month between
// two of them and events on both sides of month boundaries) list newest
// first, each exactly once, with limit 1 and 2 across the boundaries,
// alone and with since, until, action and key_id combined.
func testAuditMonths(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	k1, k2 := newKey(org, fixedNow), newKey(org, fixedNow)
	orgTarget := audit.Target{Type: "organization", ID: org}
	type spec struct {
		at     time.Time
		action string
		target audit.Target
	}
	day := func(m time.Month, d, h, min, sec, ms int) time.Time {
		return time.Date(2031, m, d, h, min, sec, ms*int(time.Millisecond), time.UTC)
	}
	specs := []spec{
		// November 2030, then nothing in December.
		{time.Date(2030, 11, 3, 9, 0, 0, 0, time.UTC), audit.KeyCreated, keyTargetOf(k1)},
		{time.Date(2030, 11, 30, 23, 59, 59, 999e6, time.UTC), audit.KeyUpdated, keyTargetOf(k1)},
		// January 2031.
		{day(1, 1, 0, 0, 0, 0), audit.KeyCreated, keyTargetOf(k2)},
		{day(1, 14, 8, 0, 0, 0), audit.OrganizationRenamed, orgTarget},
		{day(1, 31, 23, 59, 59, 999), audit.KeyUpdated, keyTargetOf(k2)},
		// (February empty) March 2031, up to Now.
		{day(3, 1, 0, 0, 0, 0), audit.KeyUpdated, keyTargetOf(k1)},
		{day(3, 1, 0, 0, 0, 0), audit.KeyUpdated, keyTargetOf(k2)}, // same instant: ordered by id
		{day(3, 10, 12, 0, 0, 0), audit.OrganizationRenamed, orgTarget},
		{day(3, 15, 11, 0, 0, 0), audit.KeyUpdated, keyTargetOf(k1)},
	}
	var evs []audit.Event
	for _, sp := range specs {
		evs = append(evs, event(t, org, sp.action, sp.target, sp.at))
	}
	writeEvents(t, s, org, evs)
	all := eventsNewestFirst(evs)
	queries := []struct {
		name string
		q    audit.Query
		keep func(audit.Event) bool
	}{
		{"all", audit.Query{}, func(audit.Event) bool { return true }},
		{"key", audit.Query{KeyID: k1.ID}, func(e audit.Event) bool { return e.KeyID() == k1.ID }},
		{"action", audit.Query{Action: audit.KeyUpdated}, func(e audit.Event) bool { return e.Action == audit.KeyUpdated }},
		{"key and action", audit.Query{KeyID: k2.ID, Action: audit.KeyUpdated}, func(e audit.Event) bool {
			return e.KeyID() == k2.ID && e.Action == audit.KeyUpdated
		}},
		{"since and until across January", audit.Query{Since: time.Date(2030, 11, 30, 23, 59, 59, 999e6, time.UTC), Until: day(3, 1, 0, 0, 0, 0)},
			func(e audit.Event) bool {
				return !e.At.Before(time.Date(2030, 11, 30, 23, 59, 59, 999e6, time.UTC)) && e.At.Before(day(3, 1, 0, 0, 0, 0))
			}},
		{"since, until, action and key", audit.Query{Since: time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC), Until: day(3, 15, 0, 0, 0, 0), Action: audit.KeyUpdated, KeyID: k2.ID},
			func(e audit.Event) bool {
				return !e.At.Before(time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC)) && e.At.Before(day(3, 15, 0, 0, 0, 0)) && e.Action == audit.KeyUpdated && e.KeyID() == k2.ID
			}},
		{"since only, within February", audit.Query{Since: day(2, 10, 0, 0, 0, 0)}, func(e audit.Event) bool { return !e.At.Before(day(2, 10, 0, 0, 0, 0)) }},
	}
	for _, tc := range queries {
		var want []audit.Event
		for _, e := range all {
			if tc.keep(e) {
				want = append(want, e)
			}
		}
		if len(want) < 2 {
			t.Fatalf("%s: the test selects %d events: it would not page", tc.name, len(want))
		}
		for _, limit := range []int{1, 2} {
			q := tc.q
			q.Now = fixedNow
			got := listEvents(t, s, org, q, limit)
			if !slices.Equal(eventIDs(got), eventIDs(want)) {
				t.Errorf("%s, limit %d: listed %v, want %v", tc.name, limit, eventIDs(got), eventIDs(want))
				continue
			}
			for i := range want {
				if d := sameEvent(want[i], got[i]); d != "" {
					t.Errorf("%s, limit %d: event %d differs: %s", tc.name, limit, i, d)
				}
			}
		}
	}
}

// testAuditRotateRevokeDeleteRace: a rotation, a revocation of the previous
// token and a deletion of one key version, concurrently: exactly one is
// acknowledged, the key is in that one's state (deleted, or with its
// tokens), and the key's events are its creation and exactly the winner's
// event (no lost event, none of the losers'). Repeated so that each kind
// of change gets to win.
func testAuditRotateRevokeDeleteRace(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	const rounds = 6
	wins := map[string]int{}
	for round := range rounds {
		at := now()
		k := newKey(org, at)
		k.Previous = &keys.PreviousToken{Digest: randomDigest(), Hint: "dotenv_prev…ious", ExpiresAt: at.Add(time.Hour)}
		created := event(t, org, audit.KeyCreated, keyTargetOf(k), at)
		if err := s.CreateKey(t.Context(), k, created); err != nil {
			t.Fatal(err)
		}
		rotated := k.Clone()
		rotated.Previous = &keys.PreviousToken{Digest: k.SecretDigest, Hint: k.Hint, ExpiresAt: at.Add(2 * time.Hour)}
		rotated.SecretDigest, rotated.RotatedAt, rotated.UpdatedAt, rotated.Version = randomDigest(), at.Add(time.Millisecond), at.Add(time.Millisecond), 2
		revoked := k.Clone()
		revoked.Previous, revoked.UpdatedAt, revoked.Version = nil, at.Add(time.Millisecond), 2
		changes := []struct {
			name string
			ev   audit.Event
			key  *keys.Key // the key after it (nil: deleted)
			do   func(audit.Event) error
		}{
			{"rotate", event(t, org, audit.KeyRotated, keyTargetOf(k), at.Add(time.Millisecond)), rotated,
				func(e audit.Event) error { return s.UpdateKey(t.Context(), rotated.Clone(), 1, e) }},
			{"revoke previous", event(t, org, audit.KeyPreviousTokenRevoked, keyTargetOf(k), at.Add(time.Millisecond)), revoked,
				func(e audit.Event) error { return s.UpdateKey(t.Context(), revoked.Clone(), 1, e) }},
			{"delete", event(t, org, audit.KeyDeleted, keyTargetOf(k), at.Add(time.Millisecond)), nil,
				func(e audit.Event) error { return s.DeleteKey(t.Context(), k.ID, 1, e) }},
		}
		// Rotate the starting order so that each change is sent first in
		// some round.
		order := []int{round % 3, (round + 1) % 3, (round + 2) % 3}
		errs := make([]error, len(changes))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, i := range order {
			wg.Go(func() {
				<-start
				errs[i] = changes[i].do(changes[i].ev)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: %s and %s were both acknowledged", round, changes[winner].name, changes[i].name)
			case err == nil:
				winner = i
			case !errors.Is(err, fault.ErrConflict) && !errors.Is(err, fault.ErrNotFound):
				t.Fatalf("round %d: %s: %v, want nil, a conflict or not found", round, changes[i].name, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: none of the changes won: %v", round, errs)
		}
		w := changes[winner]
		wins[w.name]++
		if w.key == nil {
			if _, err := s.GetKey(t.Context(), k.ID); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("round %d: the delete won but GetKey answers %v", round, err)
			}
		} else {
			checkKey(t, fmt.Sprintf("round %d: GetKey after %s won", round, w.name), w.key, mustGetKey(t, s, k.ID))
		}
		got := listEvents(t, s, org, audit.Query{KeyID: k.ID}, 10)
		if want := []string{w.ev.ID, created.ID}; !slices.Equal(eventIDs(got), want) {
			t.Fatalf("round %d: the key's events are %v, want the winner's (%s) and the creation %v", round, eventIDs(got), w.name, want)
		}
	}
	t.Logf("winners over %d rounds: %v", rounds, wins)
}
