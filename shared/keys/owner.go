package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
)

// ErrWitnessChanged is what a witnessed write answers (wrapped) when its
// witness key is no longer stored at the version the write names: the
// write is refused with nothing written, and the service checks again.
var ErrWitnessChanged = errors.New("the witness key changed")

// Witness names a key that must still be stored, at Version, for a write
// to apply: checked in the same atomic write (a DynamoDB ConditionCheck,
// or inside the bbolt transaction). A change that takes an owner key away
// names the other owner key it found as its witness, so two owner keys
// deleting or narrowing each other at the same moment cannot both pass:
// whichever commits second finds its witness changed.
type Witness struct {
	ID      string
	Version int64
}

// isOwner reports whether k is an active owner key at now: allow-all,
// never expiring, not expired and not revoked. A revoked key (its token
// reported as leaked) authenticates nothing until it is rotated, so it
// keeps no organization reachable and does not count.
func isOwner(k *Key, now time.Time) bool {
	return k.AllowAll && k.ExpiresAt.IsZero() && !k.Expired(now) && k.Revoked == nil
}

// removesOwner reports whether changing cur into next (nil: deleting it)
// takes an active owner key away at now.
func removesOwner(cur, next *Key, now time.Time) bool {
	return isOwner(cur, now) && (next == nil || !isOwner(next, now))
}

// errLastOwner is the refusal of a change that would leave the
// organization without an active owner key.
func errLastOwner() error {
	return fault.New(fault.CodeLastOwnerKey, "this is the organization's last active owner key (allow-all, never expiring, not revoked): it cannot be deleted, narrowed or given an expiry; create another allow-all key that never expires first (or rotate a revoked one), or use `edge recover`")
}

// checkOwner keeps an organization's owner: deleting (next nil), narrowing
// or giving an expiry to an active owner key (isOwner) is refused unless
// another active owner key exists at now, which it returns as the write's
// witness (nil when the change takes no owner away). The others are found
// by listing the organization's keys (bounded by the key quota); the one
// named is read again by id, so the witness is its current version.
func (s *Service) checkOwner(ctx context.Context, cur, next *Key, now time.Time) (*Witness, error) {
	if !removesOwner(cur, next, now) {
		return nil, nil
	}
	opt := directory.ListOptions{Limit: directory.MaxLimit}
	for {
		p, err := s.keys.ListKeys(ctx, cur.OrganizationID, opt)
		if err != nil {
			return nil, fmt.Errorf("keys: listing owner keys: %w", err)
		}
		for _, k := range p.Items {
			if k.ID == cur.ID || !isOwner(k, now) {
				continue
			}
			// A listing may lag (DynamoDB's GSI1): the witness is read
			// again, strongly consistent, so the write names its current
			// version.
			w, err := s.keys.GetKey(ctx, k.ID)
			if errors.Is(err, fault.ErrNotFound) || unreadableOf(err) != nil {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("keys: reading owner key %s: %w", k.ID, err)
			}
			if isOwner(w, now) {
				return &Witness{ID: w.ID, Version: w.Version}, nil
			}
		}
		if p.Next == "" {
			break
		}
		opt.Cursor = p.Next
	}
	return nil, errLastOwner()
}

// updateKey writes the change of cur into next, on w when it takes an
// owner key away.
func (s *Service) updateKey(ctx context.Context, cur, next *Key, ev audit.Event, w *Witness) error {
	if w != nil {
		return s.keys.UpdateKeyWitnessed(ctx, next, cur.Version, ev, *w)
	}
	return s.keys.UpdateKey(ctx, next, cur.Version, ev)
}

// deleteKey deletes cur, on w when it is an owner key.
func (s *Service) deleteKey(ctx context.Context, cur *Key, ev audit.Event, w *Witness) error {
	if w != nil {
		return s.keys.DeleteKeyWitnessed(ctx, cur.ID, cur.Version, ev, *w)
	}
	return s.keys.DeleteKey(ctx, cur.ID, cur.Version, ev)
}
