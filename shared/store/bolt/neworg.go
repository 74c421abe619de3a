package bolt

import (
	"context"
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
	what := "create organization " + org.ID + " with its owner key"
	return s.createWithOwner(ctx, what, org, owner, events, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(owner.ID)) != nil {
			return fmt.Errorf("bolt: %s: key %s exists: %w", what, owner.ID, fault.ErrConflict)
		}
		return nil
	}, nil)
}
