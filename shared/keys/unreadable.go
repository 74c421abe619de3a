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
// cannot decode: the fields it could still read (any may be empty or zero)
// and the decoding error. It is an internal fault (500) to every caller but
// Delete, which uses ID, OrganizationID and Version to remove the item when
// the caller's organization matches.
type UnreadableError struct {
	ID             string
	OrganizationID string
	Version        int64
	// Cause is the decoding error; it never holds a digest or a token.
	Cause    error
	internal *fault.Error
}

// Unreadable returns the error of a stored key that could not be decoded.
func Unreadable(id, org string, version int64, cause error) *UnreadableError {
	return &UnreadableError{ID: id, OrganizationID: org, Version: version, Cause: cause,
		internal: fault.Wrap(cause, fault.CodeInternal, UnreadableMessage)}
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("stored key %s (organization %s, version %d) cannot be read: %v", e.ID, e.OrganizationID, e.Version, e.Cause)
}

// Unwrap returns an internal fault wrapping the decoding error, so that
// fault.CodeOf answers internal.
func (e *UnreadableError) Unwrap() error { return e.internal }

// unreadableOf returns the UnreadableError in err's chain, or nil.
func unreadableOf(err error) *UnreadableError {
	var u *UnreadableError
	if errors.As(err, &u) {
		return u
	}
	return nil
}

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
