// Package audit is the audit trail's domain: the Event every change of a key,
// an organization, a directory node or a webhook endpoint is recorded with, its id, the request
// source carried in the context, and the read side of the store contract.
// Stores write an event in the same atomic write as its change
// (docs/dynamodb.md, "Audit trail"), so an acknowledged change always has
// its event and an event always has its change.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Actions recorded.
const (
	KeyCreated              = "key.created"
	KeyUpdated              = "key.updated"
	KeyRotated              = "key.rotated"
	KeyPreviousTokenRevoked = "key.previous_token_revoked"
	KeyDeleted              = "key.deleted"
	// KeyRevoked: a leak report revoked the key (actor: the system, named
	// after the reporter, github or self_report).
	KeyRevoked            = "key.revoked"
	OrganizationCreated   = "organization.created"
	OrganizationRenamed   = "organization.renamed"
	OrganizationRecovered = "organization.recovered"
	// Webhook endpoints (target type TargetWebhook, named by its URL). A
	// signing secret is never recorded, only that it was rotated.
	WebhookCreated       = "webhook.created"
	WebhookUpdated       = "webhook.updated"
	WebhookSecretRotated = "webhook.secret_rotated"
	WebhookDeleted       = "webhook.deleted"
)

// TargetWebhook is the target type of a webhook endpoint's events.
const TargetWebhook = "webhook"

// Actor types.
const (
	ActorKey    = "key"
	ActorSystem = "system"
)

// Names of the system actors.
const (
	SystemBootstrap = "bootstrap"
	SystemRecovery  = "recovery"
)

// IDPrefix starts every event id.
const IDPrefix = "evt_"

// DefaultRetention is how long events are kept when nothing else is said.
const DefaultRetention = 400 * 24 * time.Hour

// Actor is who made a change: a key (ID and its name at the time) or the
// system (Name bootstrap or recovery).
type Actor struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Target is what a change was made to.
type Target struct {
	// Type is key, organization, team, project, target or environment.
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Source is where the request that made a change came from.
type Source struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// IsZero reports whether nothing is known of the source.
func (s Source) IsZero() bool { return s == Source{} }

// Change is one field's value before and after, as JSON (null when absent).
type Change struct {
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
}

// Notice is a webhook event a change announces: its type (key.created, …)
// and its JSON data (ids, names, times; never a token).
type Notice struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Event is one recorded change. It never holds a token, a digest or a hint.
type Event struct {
	ID             string            `json:"id"`
	At             time.Time         `json:"at"`
	OrganizationID string            `json:"organization_id"`
	Action         string            `json:"action"`
	Actor          Actor             `json:"actor"`
	Target         Target            `json:"target"`
	Source         *Source           `json:"source,omitempty"`
	Changes        map[string]Change `json:"changes,omitempty"`
	// Notice is what the change announces to the organization's webhooks
	// (nil: nothing). It is not part of the trail: stores write it beside
	// the event, in the same atomic write, as a pending notice (an outbox
	// entry) until the webhooks have queued it (docs/design.md, "Change
	// events").
	Notice *Notice `json:"-"`
}

// KeyID returns the id of the key the event is about ("" when its target
// is not a key): the key filter of a listing selects on it.
func (e *Event) KeyID() string {
	if e.Target.Type == ActorKey {
		return e.Target.ID
	}
	return ""
}

// Check refuses an event a store must not write: one without id,
// organization, action, time, actor or target.
func (e *Event) Check() error {
	switch {
	case !strings.HasPrefix(e.ID, IDPrefix) || len(e.ID) <= len(IDPrefix):
		return fmt.Errorf("audit: event id %q does not start with %q", e.ID, IDPrefix)
	case e.OrganizationID == "":
		return fmt.Errorf("audit: event %s has no organization", e.ID)
	case e.Action == "":
		return fmt.Errorf("audit: event %s has no action", e.ID)
	case e.At.IsZero():
		return fmt.Errorf("audit: event %s has no time", e.ID)
	case e.Actor.Type == "":
		return fmt.Errorf("audit: event %s has no actor", e.ID)
	case e.Target.Type == "" || e.Target.ID == "":
		return fmt.Errorf("audit: event %s has no target", e.ID)
	}
	return nil
}

// Set records field's change from → to (JSON-encoded; nil is null) when the
// two differ.
func (e *Event) Set(field string, from, to any) {
	f, err1 := json.Marshal(from)
	t, err2 := json.Marshal(to)
	if err1 != nil || err2 != nil || string(f) == string(t) {
		return
	}
	if e.Changes == nil {
		e.Changes = map[string]Change{}
	}
	e.Changes[field] = Change{From: f, To: t}
}

// TimeOrNil is t for a change in the API's format (UTC, milliseconds), or
// nil (JSON null) when t is zero.
func TimeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type sourceKey struct{}

// WithSource returns a context carrying the request's source; the HTTP
// plumbing sets it, the services read it when they build an event.
func WithSource(ctx context.Context, s Source) context.Context {
	return context.WithValue(ctx, sourceKey{}, s)
}

// SourceFrom returns the source carried by ctx (nil when none is known).
func SourceFrom(ctx context.Context) *Source {
	s, ok := ctx.Value(sourceKey{}).(Source)
	if !ok || s.IsZero() {
		return nil
	}
	return &s
}

// KeyActor is the actor of a change made with a key: its id and its name at
// the time.
func KeyActor(id, name string) Actor { return Actor{Type: ActorKey, ID: id, Name: name} }

// System is the actor of a change made by the service itself (name
// SystemBootstrap or SystemRecovery).
func System(name string) Actor { return Actor{Type: ActorSystem, Name: name} }
