package bolt

import (
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// metaInitialized is the initialization marker in the meta bucket: the id
// of the organization the store was initialized with. It is written in the
// same transaction as that organization and its owner key, so a store that
// has it holds both, and a first start that died before that commit left a
// store without it (and without either), which the next start initializes.
var metaInitialized = []byte("initialized")

var _ keys.Initializer = (*Store)(nil)

// Initialized reports whether the store holds its first organization and
// owner key: the marker is there, or (a store written before the marker
// existed) at least one key is.
func (s *Store) Initialized(ctx context.Context) (bool, error) {
	var done bool
	err := s.view(ctx, "read the initialization marker", func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(metaInitialized) != nil {
			done = true
			return nil
		}
		k, _ := tx.Bucket(bucketKeys).Cursor().First()
		done = k != nil
		return nil
	})
	return done, err
}

// Initialize stores org, its owner key (Version 1) and the initialization
// marker in one transaction with events (the bootstrap's audit events):
// after a crash all of them are there or none is.
// An initialized store, an existing organization id or an existing key id
// is refused with fault.ErrConflict and nothing is written.
func (s *Store) Initialize(ctx context.Context, org *directory.Organization, owner *keys.Key, events []audit.Event) error {
	what := "initialize with organization " + org.ID
	return s.createWithOwner(ctx, what, org, owner, events, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(metaInitialized) != nil {
			return fmt.Errorf("bolt: %s: already initialized: %w", what, fault.ErrConflict)
		}
		if k, _ := tx.Bucket(bucketKeys).Cursor().First(); k != nil {
			return fmt.Errorf("bolt: %s: the store already holds keys: %w", what, fault.ErrConflict)
		}
		return nil
	}, func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaInitialized, []byte(org.ID)) })
}

// createWithOwner is Initialize and CreateOrganizationWithOwner: it checks
// the input, then in one transaction lets refusal refuse the write (its
// error, a conflict, and nothing written), refuses an existing
// organization id, stores the organization, its owner key (Version 1) and
// events, and runs also (when not nil) in the same transaction.
func (s *Store) createWithOwner(ctx context.Context, what string, org *directory.Organization, owner *keys.Key, events []audit.Event, refusal, also func(tx *bbolt.Tx) error) error {
	for i := range events {
		if err := checkEvent(&events[i]); err != nil {
			return err
		}
	}
	for _, c := range []struct{ field, id string }{{"organization.id", org.ID}, {"key.id", owner.ID}, {"key.organization_id", owner.OrganizationID}} {
		if err := checkID(c.field, c.id); err != nil {
			return err
		}
	}
	if owner.OrganizationID != org.ID {
		return fault.Invalid("key.organization_id", "must be the new organization's id")
	}
	or := &orgRecord{ID: org.ID, Name: org.Name, CreatedAt: utc(org.CreatedAt), UpdatedAt: utc(org.UpdatedAt)}
	kr := keyRecordOf(owner)
	kr.Version = 1
	v, err := encodeKey(kr)
	if err != nil {
		return err
	}
	return s.writeKey(ctx, owner.ID, what, func(tx *bbolt.Tx) (opResult, error) {
		// Every refusal comes before any write.
		if err := refusal(tx); err != nil {
			return refuse(err)
		}
		if tx.Bucket(bucketOrgs).Get([]byte(or.ID)) != nil {
			return refuse(fmt.Errorf("bolt: %s: organization exists: %w", what, fault.ErrConflict))
		}
		if err := createOrg(tx, or); err != nil {
			return opResult{}, err
		}
		// The refusals above leave createKey nothing to refuse; if it did
		// anyway, the error rolls back the organization written above.
		res, err := createKey(tx, kr, v)
		if err != nil || res.refusal != nil {
			return opResult{}, errors.Join(err, res.refusal)
		}
		if also != nil {
			if err := also(tx); err != nil {
				return opResult{}, err
			}
		}
		for i := range events {
			if err := writeEvent(tx, &events[i]); err != nil {
				return opResult{}, err
			}
		}
		return res, nil
	})
}
