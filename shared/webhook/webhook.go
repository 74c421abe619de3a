// Package webhook is the organization webhooks domain: endpoints that
// subscribe to key events, the deliveries sent to them (Standard Webhooks
// signing through shared/stdwebhook, SSRF-safe sending through
// shared/safehttp), the retry schedule, the expiry sweep that turns keys
// nearing or past their expiry into notices, and the store contract every
// engine implements (docs/security.md, "Webhooks"; docs/dynamodb.md).
package webhook

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/stdwebhook"
)

// Event types an endpoint may subscribe to.
const (
	EventKeyCreated  = "key.created"
	EventKeyUpdated  = "key.updated"
	EventKeyRotated  = "key.rotated"
	EventKeyDeleted  = "key.deleted"
	EventKeyRevoked  = "key.revoked"
	EventKeyExpiring = "key.expiring"
	EventKeyExpired  = "key.expired"
)

// EventTypes returns every event type in a stable order.
func EventTypes() []string {
	return []string{EventKeyCreated, EventKeyUpdated, EventKeyRotated, EventKeyDeleted,
		EventKeyRevoked, EventKeyExpiring, EventKeyExpired}
}

// Prefixes of the ids this package mints.
const (
	EndpointIDPrefix = "wh_"
	DeliveryIDPrefix = "msg_"
)

// SecretOverlap is how long the previous signing secret keeps signing after
// a rotation: receivers get both signatures meanwhile.
const SecretOverlap = 24 * time.Hour

// Endpoint is an organization's webhook destination as stored.
type Endpoint struct {
	// ID is "wh_" + random characters.
	ID             string
	OrganizationID string
	// URL is where deliveries are POSTed (checked with safehttp when saved
	// and again when dialled).
	URL string
	// Events is the sorted, duplicate-free set of subscribed event types
	// (at least one).
	Events      []string
	Description string
	// Secret signs every delivery. It is stored because signing needs it
	// and never answered after the create or rotate-secret answer.
	Secret stdwebhook.Secret
	// PreviousSecret still signs, next to Secret, until
	// PreviousSecretExpiresAt; both are zero outside a rotation.
	PreviousSecret          stdwebhook.Secret
	PreviousSecretExpiresAt time.Time
	CreatedAt               time.Time
	UpdatedAt               time.Time
	// Version starts at 1 and grows by one with every change.
	Version int64
}

// Subscribed reports whether the endpoint wants events of type t.
func (e *Endpoint) Subscribed(t string) bool { return slices.Contains(e.Events, t) }

// Secrets returns the secrets that sign a delivery sent at now: the
// current one, then the previous one while its overlap runs.
func (e *Endpoint) Secrets(now time.Time) []stdwebhook.Secret {
	out := []stdwebhook.Secret{e.Secret}
	if e.PreviousSecret != "" && now.Before(e.PreviousSecretExpiresAt) {
		out = append(out, e.PreviousSecret)
	}
	return out
}

// Clone returns a deep copy.
func (e *Endpoint) Clone() *Endpoint {
	c := *e
	c.Events = slices.Clone(e.Events)
	return &c
}

// State is where a delivery stands.
type State string

// Delivery states.
const (
	// StatePending: an attempt is due at NextAttemptAt.
	StatePending State = "pending"
	// StateDelivered: an attempt was answered with a 2xx.
	StateDelivered State = "delivered"
	// StateFailed: every attempt of the retry window failed.
	StateFailed State = "failed"
)

// Attempt is one try at sending a delivery. Status is 0 while the attempt
// runs (it is recorded before the request is sent) and when no HTTP answer
// came (Error says why).
type Attempt struct {
	At         time.Time
	Status     int
	DurationMS int64
	Error      string
}

// Delivery is one event sent to one endpoint, with every attempt.
type Delivery struct {
	// ID is the Standard Webhooks webhook-id ("msg_…"), the same on every
	// attempt so receivers can de-duplicate.
	ID             string
	OrganizationID string
	EndpointID     string
	EventType      string
	// Payload is the JSON body, exactly as sent on every attempt:
	// {"type":…,"timestamp":…,"data":{…}}. It never holds a token.
	Payload   json.RawMessage
	CreatedAt time.Time
	Attempts  []Attempt
	State     State
	// NextAttemptAt is when the next attempt is due (zero unless pending).
	// While an attempt runs it is the attempt's lease: a dispatcher that
	// crashed mid-attempt is replaced once it passes.
	NextAttemptAt time.Time
	// GiveUpAt ends the retry window: an attempt that fails at or after it
	// leaves the delivery failed.
	GiveUpAt time.Time
	// Version starts at 1 and grows by one with every change.
	Version int64
}

// Clone returns a deep copy.
func (d *Delivery) Clone() *Delivery {
	c := *d
	c.Payload = slices.Clone(d.Payload)
	c.Attempts = slices.Clone(d.Attempts)
	return &c
}

// DeliveryRetention is how long a delivery is kept after its retry window
// closes (its GiveUpAt): DynamoDB's TTL deletes it then, the embedded store
// prunes it (Pruner). It outlasts the expiry sweep's look-back, so a pruned
// notice is never sent again (TestRetentionOutlastsTheSweep).
const DeliveryRetention = 30 * 24 * time.Hour

// PendingNotice is a change's notice (audit.Event.Notice) stored with the
// change and not yet queued for the organization's endpoints: the outbox
// entry of audit event EventID.
type PendingNotice struct {
	EventID        string
	OrganizationID string
	At             time.Time
	Notice         audit.Notice
}

// Pruner deletes the deliveries whose retry window closed before an
// instant, with their index entries (the embedded store, run by
// shared/retention).
type Pruner interface {
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
}

// Store keeps endpoints and deliveries and finds the work of the sweep and
// the dispatcher through indexes, never by scanning. Every change is
// conditional on the stored Version (fault.ErrConflict for a stale writer,
// fault.ErrNotFound when missing), so two dispatchers never both claim one
// attempt. An endpoint's change and its audit event are one atomic write:
// a refused change stores no event.
type Store interface {
	// CreateWebhook stores a new endpoint with Version 1
	// (fault.ErrConflict if the id exists), and ev.
	CreateWebhook(ctx context.Context, e *Endpoint, ev audit.Event) error
	// GetWebhook returns the organization's endpoint id, or
	// fault.ErrNotFound (also for another organization's endpoint). A
	// stored endpoint that cannot be decoded answers an *UnreadableError
	// with the id, organization and version still read from the item
	// (logged by the store).
	GetWebhook(ctx context.Context, org, id string) (*Endpoint, error)
	// ListWebhooks returns the organization's endpoints, oldest first,
	// and the stored endpoints it skipped because they could not be
	// decoded (logged by the store with their id): one broken endpoint
	// never takes down the listing.
	ListWebhooks(ctx context.Context, org string) ([]*Endpoint, []directory.Unreadable, error)
	// UpdateWebhook replaces the endpoint when the stored Version equals
	// expectedVersion, and stores ev.
	UpdateWebhook(ctx context.Context, e *Endpoint, expectedVersion int64, ev audit.Event) error
	// DeleteWebhook removes the endpoint when the stored Version equals
	// expectedVersion, and stores ev. Its deliveries stay until they expire.
	// An endpoint that cannot be decoded is removed too, at the version
	// still read from the item (fault.ErrConflict when none could be
	// read). On an engine with a separate listing index, a missing
	// endpoint that entries of the organization's index still name has
	// them removed: whatever ListWebhooks reports can be deleted.
	DeleteWebhook(ctx context.Context, org, id string, expectedVersion int64, ev audit.Event) error

	// CreateDelivery stores d with Version 1 unless a delivery with its id
	// exists, and reports whether it wrote: a notice enqueued twice under
	// the same id is stored once.
	CreateDelivery(ctx context.Context, d *Delivery) (bool, error)
	// GetDelivery returns delivery id of endpoint, or fault.ErrNotFound.
	GetDelivery(ctx context.Context, endpoint, id string) (*Delivery, error)
	// ListDeliveries returns an endpoint's latest deliveries, newest first,
	// and the stored deliveries it skipped because they could not be
	// decoded (logged by the store with their id): at most limit of both
	// together.
	ListDeliveries(ctx context.Context, endpoint string, limit int) ([]*Delivery, []directory.Unreadable, error)
	// UpdateDelivery replaces the delivery's attempts, state, next attempt
	// and retry window when the stored Version equals expectedVersion.
	UpdateDelivery(ctx context.Context, d *Delivery, expectedVersion int64) error
	// DueDeliveries reads the next page of the pending deliveries whose
	// NextAttemptAt is not after now, in (NextAttemptAt, ID) order, starting
	// after after, reading at most limit index entries (through an index).
	DueDeliveries(ctx context.Context, now time.Time, after Position, limit int) (Page[*Delivery], error)

	// PendingNotices reads the next page of the notices stored with
	// changes at or before before and not deleted yet, in (At, EventID)
	// order, starting after after, reading at most limit index entries
	// (through an index, never a scan).
	PendingNotices(ctx context.Context, before time.Time, after Position, limit int) (Page[PendingNotice], error)
	// DeleteNotice removes a pending notice once its deliveries are
	// queued; a missing one is not an error.
	DeleteNotice(ctx context.Context, n PendingNotice) error

	// ExpiringKeys reads the next page of the keys whose expiry lies in
	// [from, to), in (ExpiresAt, ID) order, starting after after, reading
	// at most limit index entries (through an index of keys by expiry).
	// Many keys may share one expiry instant (the index spans every
	// organization): only the position, never the instant alone, says
	// where the next page starts.
	ExpiringKeys(ctx context.Context, from, to time.Time, after Position, limit int) (Page[*keys.Key], error)
}

// Position is a place in an index listing ordered by an instant, then an
// id: a page read after it starts at the first entry strictly after it.
// The zero Position is the start of the listing.
type Position struct {
	At time.Time
	ID string
}

// IsZero reports whether p is the start of a listing.
func (p Position) IsZero() bool { return p.ID == "" && p.At.IsZero() }

// Page is one page of an index listing (ExpiringKeys, PendingNotices,
// DueDeliveries). An index entry whose item was deleted since, or does
// not decode (logged by the store), is skipped, yet counts toward the
// limit and moves Next: a short page does not mean the listing ended.
type Page[T any] struct {
	// Items are the readable items of the entries read, in index order.
	Items []T
	// Next is the position of the last entry read: the next page starts
	// after it. It is the zero Position when no entry was read.
	Next Position
	// More is false once the listing is exhausted; when true, more
	// entries may follow (a page that read limit entries says true even
	// if none is left, and the next page is then empty with More false).
	More bool
}
