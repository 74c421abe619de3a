package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/stdwebhook"
	"github.com/dotenv/apikeys/shared/token"
)

// Limits of what an organization may configure.
const (
	// MaxEndpoints is how many endpoints one organization may hold.
	MaxEndpoints = 20
	// MaxDescription is the longest description, in characters.
	MaxDescription = 200
	// MaxDeliveriesListed is the most deliveries one listing answers.
	MaxDeliveriesListed = 100
)

// Service manages an organization's endpoints for a caller: validation,
// the signing secret (shown once), deliveries and manual retries. The route
// table has already checked the caller's webhooks:* permission on the
// organization; the service keeps every read inside the caller's
// organization.
type Service struct {
	store  Store
	check  func(url string) error
	ids    *token.Generator
	random io.Reader
	now    func() time.Time
}

// NewService returns a Service. check validates a destination URL
// (safehttp.Options.CheckURL); ids draws endpoint and audit event ids
// (crypto/rand when nil); random draws signing secrets.
func NewService(st Store, check func(url string) error, ids *token.Generator, random io.Reader, now func() time.Time) *Service {
	if ids == nil {
		ids = token.NewGenerator()
	}
	return &Service{store: st, check: check, ids: ids, random: random, now: now}
}

// Spec is a create or edit request: nil fields are not given.
type Spec struct {
	URL         *string
	Events      *[]string
	Description *string
}

// validate records the field errors of the given fields in fe and returns
// the normalized event set (nil when not given).
func (s *Service) validate(spec Spec, fe *fault.Fields) []string {
	if spec.URL != nil {
		if err := s.check(*spec.URL); err != nil {
			fe.Add("url", fault.FieldInvalid, "%s", publicURLError(err))
		}
	}
	if spec.Description != nil && utf8.RuneCountInString(*spec.Description) > MaxDescription {
		fe.Add("description", fault.FieldOutOfRange, "is longer than %d characters", MaxDescription)
	}
	if spec.Events == nil {
		return nil
	}
	events, err := NormalizeEvents(*spec.Events)
	if err != nil {
		_ = fe.Check(err)
	}
	return events
}

// publicURLError is the message of a refused URL without the package
// prefix.
func publicURLError(err error) string {
	msg := err.Error()
	const prefix = "safehttp: destination not allowed: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}

// NormalizeEvents checks a subscription (at least one known event type)
// and returns it sorted without duplicates.
func NormalizeEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, fault.InvalidAs("events", fault.FieldRequired, "subscribe to at least one event type")
	}
	known := EventTypes()
	var fe fault.Fields
	for i, e := range events {
		if !slices.Contains(known, e) {
			fe.Add(fmt.Sprintf("events[%d]", i), fault.FieldInvalid, "unknown event type %q", e)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	out := slices.Clone(events)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Create stores a new endpoint and returns it with its signing secret,
// which is answered this once.
func (s *Service) Create(ctx context.Context, caller authz.Principal, spec Spec) (*Endpoint, error) {
	var fe fault.Fields
	if spec.URL == nil {
		fe.Add("url", fault.FieldRequired, "is required")
	}
	if spec.Events == nil {
		fe.Add("events", fault.FieldRequired, "is required")
	}
	events := s.validate(spec, &fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	existing, broken, err := s.store.ListWebhooks(ctx, caller.OrganizationID)
	if err != nil {
		return nil, fmt.Errorf("webhook: listing endpoints: %w", err)
	}
	if len(existing)+len(broken) >= MaxEndpoints {
		return nil, fault.New(fault.CodeConflict, "the organization already has %d webhook endpoints", MaxEndpoints)
	}
	id, err := s.ids.RandomID(EndpointIDPrefix, 24)
	if err != nil {
		return nil, fmt.Errorf("webhook: drawing an id: %w", err)
	}
	secret, err := stdwebhook.NewSecret(s.random)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	e := &Endpoint{
		ID: id, OrganizationID: caller.OrganizationID, URL: *spec.URL, Events: events,
		Secret: secret, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if spec.Description != nil {
		e.Description = *spec.Description
	}
	ev, err := s.event(ctx, caller, now, audit.WebhookCreated, e)
	if err != nil {
		return nil, err
	}
	ev.Set("url", nil, auditURL(e.URL))
	ev.Set("events", nil, e.Events)
	ev.Set("description", nil, e.Description)
	if err := s.store.CreateWebhook(ctx, e, ev); err != nil {
		return nil, fmt.Errorf("webhook: storing endpoint: %w", err)
	}
	return e, nil
}

// auditURL is an endpoint's URL as the audit trail records it: without its
// query, which may carry the receiver's own secret (the trail is read with
// audit_log:read, which need not include webhooks:read): "?…" stands for
// it.
func auditURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	hadQuery := u.RawQuery != "" || u.ForceQuery
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	if hadQuery {
		return u.String() + "?…"
	}
	return u.String()
}

// event builds the audit event of a change the caller makes to endpoint e
// (named by its URL; never its secret), with the request's source.
func (s *Service) event(ctx context.Context, caller authz.Principal, at time.Time, action string, e *Endpoint) (audit.Event, error) {
	ev, err := audit.New(ctx, s.ids, at, caller.OrganizationID, action, audit.KeyActor(caller.KeyID, caller.KeyName),
		audit.Target{Type: audit.TargetWebhook, ID: e.ID, Name: auditURL(e.URL)})
	if err != nil {
		return audit.Event{}, fmt.Errorf("webhook: %w", err)
	}
	return ev, nil
}

// Get returns the caller's organization's endpoint id. A stored endpoint
// that cannot be decoded answers an internal fault (an UnreadableError);
// another organization's answers not found.
func (s *Service) Get(ctx context.Context, caller authz.Principal, id string) (*Endpoint, error) {
	e, err := s.store.GetWebhook(ctx, caller.OrganizationID, id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("webhook")
	}
	if u := fault.UnreadableOf(err); u != nil && u.OrganizationID != caller.OrganizationID {
		return nil, fault.NotFound("webhook")
	}
	return e, err
}

// List returns the caller's organization's endpoints, oldest first, and
// the ones the store could not read (reported, not hidden: each can be
// deleted by id, which frees its place among the MaxEndpoints).
func (s *Service) List(ctx context.Context, caller authz.Principal) ([]*Endpoint, []directory.Unreadable, error) {
	es, broken, err := s.store.ListWebhooks(ctx, caller.OrganizationID)
	if err != nil {
		return nil, nil, fmt.Errorf("webhook: listing endpoints: %w", err)
	}
	return es, broken, nil
}

// Update changes the given fields of an endpoint.
func (s *Service) Update(ctx context.Context, caller authz.Principal, id string, spec Spec) (*Endpoint, error) {
	var fe fault.Fields
	events := s.validate(spec, &fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return s.change(ctx, caller, id, audit.WebhookUpdated, func(e *Endpoint) error {
		if spec.URL != nil {
			e.URL = *spec.URL
		}
		if events != nil {
			e.Events = events
		}
		if spec.Description != nil {
			e.Description = *spec.Description
		}
		return nil
	})
}

// RotateSecret draws a new signing secret; the old one keeps signing next
// to it for SecretOverlap. The endpoint is returned with the new secret,
// answered this once.
func (s *Service) RotateSecret(ctx context.Context, caller authz.Principal, id string) (*Endpoint, error) {
	secret, err := stdwebhook.NewSecret(s.random)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, caller, id, audit.WebhookSecretRotated, func(e *Endpoint) error {
		e.PreviousSecret = e.Secret
		e.PreviousSecretExpiresAt = e.UpdatedAt.Add(SecretOverlap)
		e.Secret = secret
		return nil
	})
}

// change applies edit to a copy of the stored endpoint and writes it with
// its audit event (action; the url, events and description that changed,
// from → to), conditional on the version read.
func (s *Service) change(ctx context.Context, caller authz.Principal, id, action string, edit func(*Endpoint) error) (*Endpoint, error) {
	old, err := s.Get(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	e := old.Clone()
	e.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := edit(e); err != nil {
		return nil, err
	}
	if e.PreviousSecret != "" && !e.UpdatedAt.Before(e.PreviousSecretExpiresAt) {
		e.PreviousSecret, e.PreviousSecretExpiresAt = "", time.Time{}
	}
	e.Version = old.Version + 1
	ev, err := s.event(ctx, caller, e.UpdatedAt, action, e)
	if err != nil {
		return nil, err
	}
	if action == audit.WebhookUpdated && e.URL == old.URL && slices.Equal(e.Events, old.Events) && e.Description == old.Description {
		return old, nil // an edit that changes nothing writes and records nothing
	}
	from, to := auditURL(old.URL), auditURL(e.URL)
	if old.URL != e.URL && from == to {
		to += " (query changed)"
	}
	ev.Set("url", from, to)
	ev.Set("events", old.Events, e.Events)
	ev.Set("description", old.Description, e.Description)
	if err := s.store.UpdateWebhook(ctx, e, old.Version, ev); err != nil {
		return nil, fmt.Errorf("webhook: updating endpoint %s: %w", id, err)
	}
	return e, nil
}

// Delete removes an endpoint; its pending deliveries are dropped when the
// dispatcher finds it gone. An endpoint the store cannot decode is deleted
// at the version it could still read (deleteUnreadable); an id the
// listing reports although its endpoint is missing (a dangling index
// entry of an engine with a separate index) is cleared from the listing.
func (s *Service) Delete(ctx context.Context, caller authz.Principal, id string) error {
	e, err := s.store.GetWebhook(ctx, caller.OrganizationID, id)
	if u := fault.UnreadableOf(err); u != nil {
		return s.deleteUnreadable(ctx, caller, u, false)
	}
	if errors.Is(err, fault.ErrNotFound) {
		return s.deleteDangling(ctx, caller, id)
	}
	if err != nil {
		return err
	}
	ev, err := s.event(ctx, caller, s.now().UTC().Truncate(time.Millisecond), audit.WebhookDeleted, e)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(ctx, caller.OrganizationID, id, e.Version, ev); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return fault.NotFound("webhook")
		}
		return fmt.Errorf("webhook: deleting endpoint %s: %w", id, err)
	}
	return nil
}

// Deliveries returns an endpoint's latest deliveries, newest first, and
// the ones the store could not read (reported, not hidden).
func (s *Service) Deliveries(ctx context.Context, caller authz.Principal, id string, limit int) ([]*Delivery, []directory.Unreadable, error) {
	if _, err := s.Get(ctx, caller, id); err != nil {
		return nil, nil, err
	}
	if limit <= 0 || limit > MaxDeliveriesListed {
		limit = MaxDeliveriesListed
	}
	ds, broken, err := s.store.ListDeliveries(ctx, id, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("webhook: listing deliveries of %s: %w", id, err)
	}
	return ds, broken, nil
}

// Retry re-queues a delivery at once with the same webhook-id and a new
// retry window. A delivery whose attempt is running is refused
// (fault.ErrConflict).
func (s *Service) Retry(ctx context.Context, caller authz.Principal, id, delivery string) (*Delivery, error) {
	if _, err := s.Get(ctx, caller, id); err != nil {
		return nil, err
	}
	d, err := s.store.GetDelivery(ctx, id, delivery)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("delivery")
	}
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if d.Running(now) {
		return nil, fault.New(fault.CodeConflict, "an attempt of this delivery is running")
	}
	n := d.Clone()
	n.State = StatePending
	n.NextAttemptAt = now
	n.GiveUpAt = now.Add(RetryWindow)
	n.Version = d.Version + 1
	if err := s.store.UpdateDelivery(ctx, n, d.Version); err != nil {
		return nil, fmt.Errorf("webhook: re-queuing delivery %s: %w", delivery, err)
	}
	return n, nil
}

// Running reports whether an attempt of the delivery is in flight at now:
// its last attempt has no outcome yet and its lease has not passed.
func (d *Delivery) Running(now time.Time) bool {
	if d.State != StatePending || len(d.Attempts) == 0 {
		return false
	}
	last := d.Attempts[len(d.Attempts)-1]
	return last.Status == 0 && last.Error == "" && now.Before(d.NextAttemptAt)
}
