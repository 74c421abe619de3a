package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
)

// testKeyWitnessed: UpdateKeyWitnessed and DeleteKeyWitnessed apply only
// while the witness key is stored at the named version; otherwise they
// answer keys.ErrWitnessChanged and write nothing (no change, no event). A
// stale version of the key itself is still a conflict.
func testKeyWitnessed(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := newOrg(t, s).ID
	k, w := newKey(org, now()), newKey(org, now())
	mustCreateKey(t, s, k)
	mustCreateKey(t, s, w)
	mk := func(action string) audit.Event {
		return event(t, org, action, audit.Target{Type: audit.ActorKey, ID: k.ID, Name: k.Name}, now())
	}
	renamed := func(v int64, name string) *keys.Key {
		up := k.Clone()
		up.Name, up.Version = name, v
		return up
	}
	stale := keys.Witness{ID: w.ID, Version: 2}
	wantErr(t, "UpdateKeyWitnessed on a stale witness", s.UpdateKeyWitnessed(ctx, renamed(2, "refused"), 1, mk(audit.KeyUpdated), stale), keys.ErrWitnessChanged)
	wantErr(t, "DeleteKeyWitnessed on a stale witness", s.DeleteKeyWitnessed(ctx, k.ID, 1, mk(audit.KeyDeleted), stale), keys.ErrWitnessChanged)
	gone := keys.Witness{ID: newID("key_"), Version: 1}
	wantErr(t, "DeleteKeyWitnessed on a missing witness", s.DeleteKeyWitnessed(ctx, k.ID, 1, mk(audit.KeyDeleted), gone), keys.ErrWitnessChanged)
	if got := mustGetKey(t, s, k.ID); got.Version != 1 || got.Name != k.Name {
		t.Fatalf("key after refused witnessed writes: version %d name %q, want it unchanged", got.Version, got.Name)
	}
	wantEvents(t, s, org, 0)

	live := keys.Witness{ID: w.ID, Version: 1}
	wantErr(t, "UpdateKeyWitnessed with a stale version of the key", s.UpdateKeyWitnessed(ctx, renamed(3, "stale"), 2, mk(audit.KeyUpdated), live), fault.ErrConflict)
	if err := s.UpdateKeyWitnessed(ctx, renamed(2, "renamed"), 1, mk(audit.KeyUpdated), live); err != nil {
		t.Fatalf("UpdateKeyWitnessed on a live witness: %v", err)
	}
	if got := mustGetKey(t, s, k.ID); got.Version != 2 || got.Name != "renamed" {
		t.Fatalf("key after a witnessed update: version %d name %q", got.Version, got.Name)
	}
	if err := s.DeleteKeyWitnessed(ctx, k.ID, 2, mk(audit.KeyDeleted), live); err != nil {
		t.Fatalf("DeleteKeyWitnessed on a live witness: %v", err)
	}
	if _, err := s.GetKey(ctx, k.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetKey after a witnessed delete: %v, want not found", err)
	}
	wantEvents(t, s, org, 2)
}

// testKeyWitnessedConcurrent: two keys deleting each other, each naming
// the other as its witness, at the same moment (the last two owner keys of
// an organization): never both go, whatever the interleaving. Each round
// at most one delete applies and at least one key is left.
func testKeyWitnessedConcurrent(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	for round := range 8 {
		a, b := newKey(org, now()), newKey(org, now())
		mustCreateKey(t, s, a)
		mustCreateKey(t, s, b)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]*keys.Key{{a, b}, {b, a}} {
			wg.Go(func() {
				errs[i] = s.DeleteKeyWitnessed(t.Context(), pair[0].ID, 1, ev(), keys.Witness{ID: pair[1].ID, Version: 1})
			})
		}
		wg.Wait()
		applied := 0
		for i, err := range errs {
			switch {
			case err == nil:
				applied++
			case !errors.Is(err, keys.ErrWitnessChanged) && !errors.Is(err, fault.ErrConflict):
				t.Fatalf("round %d, delete %d: %v, want nil, a changed witness or a conflict", round, i, err)
			}
		}
		left := 0
		for _, k := range []*keys.Key{a, b} {
			if _, err := s.GetKey(t.Context(), k.ID); err == nil {
				left++
			} else if !errors.Is(err, fault.ErrNotFound) {
				t.Fatal(err)
			}
		}
		if applied > 1 || left < 1 || applied+left != 2 {
			t.Fatalf("round %d: %d deletes applied, %d of 2 keys left (errors %v); want at most one applied and one left", round, applied, left, errs)
		}
	}
}
