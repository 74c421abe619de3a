package keys

import (
	"context"
	"errors"
	"fmt"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
)

// UnreadableMessage is the public sentence for a stored key that cannot be
// decoded (the list answer's "unreadable" entries and show's 500).
const UnreadableMessage = "this stored key could not be read; delete it or contact support"

// UnreadableError is what a store's GetKey answers for a stored key it
// cannot decode (fault.UnreadableError): an internal fault to every caller
// but Delete, which removes the item at the version the store could read.
type UnreadableError = fault.UnreadableError

// Unreadable returns the error of a stored key that could not be decoded.
func Unreadable(id, org string, version int64, cause error) *UnreadableError {
	return fault.Unreadable("key", UnreadableMessage, id, org, version, cause)
}

// unreadableOf returns the UnreadableError in err's chain, or nil.
func unreadableOf(err error) *UnreadableError { return fault.UnreadableOf(err) }

// foreignUnreadable reports whether err is an unreadable key that does not
// belong to org: it answers not found, like any other organization's key.
func foreignUnreadable(err error, org string) bool {
	u := unreadableOf(err)
	return u != nil && u.OrganizationID != org
}

// deleteUnreadable deletes a stored key that cannot be decoded, using the
// version the store could still read. The caller has checked that the key
// belongs to its organization. A key whose version could not be read is
// refused with a conflict by the store and must be removed by hand.
func (s *Service) deleteUnreadable(ctx context.Context, caller authz.Principal, u *UnreadableError) error {
	ev, err := s.event(ctx, caller, s.now(), audit.KeyDeleted, audit.Target{Type: audit.ActorKey, ID: u.ID})
	if err != nil {
		return err
	}
	err = s.keys.DeleteKey(ctx, u.ID, u.Version, ev)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return fault.NotFound("API key")
	case errors.Is(err, fault.ErrConflict):
		return fault.New(fault.CodeConflict, "the key keeps changing: try again")
	case err != nil:
		return fmt.Errorf("keys: deleting unreadable key: %w", err)
	}
	return nil
}
