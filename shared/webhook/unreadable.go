package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
)

// UnreadableMessage is the public sentence for a stored endpoint that
// cannot be decoded (show's 500).
const UnreadableMessage = "this stored webhook endpoint could not be read; delete it or contact support"

// UnreadableError is what a store's GetWebhook answers for a stored
// endpoint it cannot decode: the fields it could still read (any may be
// empty or zero) and the decoding error. It is an internal fault (500) to
// every caller but Delete, which uses ID, OrganizationID and Version to
// remove the item when the caller's organization matches. It never holds
// the endpoint's secret.
type UnreadableError struct {
	ID             string
	OrganizationID string
	Version        int64
	// Cause is the decoding error; it never holds a secret.
	Cause    error
	internal *fault.Error
	// missing: the endpoint is gone and only a listing entry names it.
	missing bool
}

// Unreadable returns the error of a stored endpoint that could not be
// decoded.
func Unreadable(id, org string, version int64, cause error) *UnreadableError {
	return &UnreadableError{ID: id, OrganizationID: org, Version: version, Cause: cause,
		internal: fault.Wrap(cause, fault.CodeInternal, UnreadableMessage)}
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("stored webhook endpoint %s (organization %s, version %d) cannot be read: %v", e.ID, e.OrganizationID, e.Version, e.Cause)
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

// deleteUnreadable deletes a stored endpoint that cannot be decoded, using
// the version the store could still read; its audit event names the id
// alone (the URL is not readable). Another organization's endpoint is not
// found; one whose version could not be read (versions start at 1) is
// refused with a conflict and must be removed by hand.
func (s *Service) deleteUnreadable(ctx context.Context, caller authz.Principal, u *UnreadableError) error {
	if u.OrganizationID != caller.OrganizationID {
		return fault.NotFound("webhook")
	}
	if u.Version < 1 && !u.missing {
		return fault.New(fault.CodeConflict, "the stored webhook endpoint cannot be read, nor its version: it cannot be deleted through the API; contact support")
	}
	ev, err := audit.New(ctx, s.ids, s.now().UTC().Truncate(time.Millisecond), caller.OrganizationID, audit.WebhookDeleted,
		audit.KeyActor(caller.KeyID, caller.KeyName), audit.Target{Type: audit.TargetWebhook, ID: u.ID})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	err = s.store.DeleteWebhook(ctx, caller.OrganizationID, u.ID, u.Version, ev)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return fault.NotFound("webhook")
	case errors.Is(err, fault.ErrConflict):
		return fault.New(fault.CodeConflict, "the stored webhook endpoint changed meanwhile: try again")
	case err != nil:
		return fmt.Errorf("webhook: deleting unreadable endpoint %s: %w", u.ID, err)
	}
	return nil
}

// deleteDangling answers the delete of an id the store does not hold: not
// found, unless the organization's listing still reports it as unreadable
// (an index entry naming a missing endpoint, on an engine with a separate
// index), which DeleteWebhook then removes, so that whatever the listing
// reports can be cleared.
func (s *Service) deleteDangling(ctx context.Context, caller authz.Principal, id string) error {
	_, broken, err := s.store.ListWebhooks(ctx, caller.OrganizationID)
	if err != nil {
		return fmt.Errorf("webhook: listing endpoints: %w", err)
	}
	if !slices.ContainsFunc(broken, func(u directory.Unreadable) bool { return u.ID == id }) {
		return fault.NotFound("webhook")
	}
	return s.deleteUnreadable(ctx, caller, &UnreadableError{ID: id, OrganizationID: caller.OrganizationID, missing: true})
}
