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
// endpoint it cannot decode (fault.UnreadableError): an internal fault to
// every caller but Delete, which removes the item at the version the store
// could read. It never holds the endpoint's secret.
type UnreadableError = fault.UnreadableError

// Unreadable returns the error of a stored endpoint that could not be
// decoded.
func Unreadable(id, org string, version int64, cause error) *UnreadableError {
	return fault.Unreadable("webhook endpoint", UnreadableMessage, id, org, version, cause)
}

// deleteUnreadable deletes a stored endpoint that cannot be decoded, using
// the version the store could still read; its audit event names the id
// alone (the URL is not readable). Another organization's endpoint is not
// found; one whose version could not be read (versions start at 1) is
// refused with a conflict and must be removed by hand, unless dangling
// (the endpoint is gone and only a listing entry names it).
func (s *Service) deleteUnreadable(ctx context.Context, caller authz.Principal, u *UnreadableError, dangling bool) error {
	if u.OrganizationID != caller.OrganizationID {
		return fault.NotFound("webhook")
	}
	if u.Version < 1 && !dangling {
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
	return s.deleteUnreadable(ctx, caller, &UnreadableError{ID: id, OrganizationID: caller.OrganizationID}, true)
}
