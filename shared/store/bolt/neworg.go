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

// CreateOrganizationWithOwner stores a new organization, its owner key
// (Version 1) and events in one transaction: after a crash or a refusal
// both are there or neither is. An existing organization or key id is
// refused with fault.ErrConflict and nothing is written. Unlike Initialize
// it neither needs nor writes the initialization marker: it makes any
// organization after the first.
func (s *Store) CreateOrganizationWithOwner(ctx context.Context, org *directory.Organization, owner *keys.Key, events []audit.Event) error {
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
	what := "create organization " + org.ID + " with its owner key"
	return s.writeKey(ctx, owner.ID, what, func(tx *bbolt.Tx) (opResult, error) {
		// Both refusals come before any write.
		if tx.Bucket(bucketOrgs).Get([]byte(or.ID)) != nil {
			return refuse(fmt.Errorf("bolt: %s: organization exists: %w", what, fault.ErrConflict))
		}
		if tx.Bucket(bucketKeys).Get([]byte(kr.ID)) != nil {
			return refuse(fmt.Errorf("bolt: %s: key %s exists: %w", what, kr.ID, fault.ErrConflict))
		}
		if err := createOrg(tx, or); err != nil {
			return opResult{}, err
		}
		// The key id is free (checked above), so createKey cannot refuse;
		// if it did anyway, the error rolls back the organization.
		res, err := createKey(tx, kr, v)
		if err != nil || res.refusal != nil {
			return opResult{}, errors.Join(err, res.refusal)
		}
		for i := range events {
			if err := writeEvent(tx, &events[i]); err != nil {
				return opResult{}, err
			}
		}
		return res, nil
	})
}
