// Package keys is the API key domain: the Key, its lifecycle rules (create,
// show, edit, rotate, delete), verification, and the store contract for keys.
package keys

import (
	"context"
	"net/netip"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/token"
)

// ExpiringSoon is how close to its expiry a key is flagged.
const ExpiringSoon = 7 * 24 * time.Hour

// Key is an API key as stored. It never holds the token, only the digest of
// its verifier.
type Key struct {
	// ID is "key_" + the token's selector.
	ID             string
	OrganizationID string
	Name           string
	// Access is what the key may do and until when.
	authz.Access
	// SecretDigest is the SHA-256 digest of the current verifier.
	SecretDigest token.Digest
	// Hint lets people recognise the token ("dotenv_AbCd…wxyz").
	Hint      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// RotatedAt, LastUsedAt are zero when it never happened.
	RotatedAt  time.Time
	LastUsedAt time.Time
	// LastUsedIP and LastUsedUserAgent say where the current token was
	// last used from ("" when unknown).
	LastUsedIP, LastUsedUserAgent string
	// CreatedBy is the id of the key that created this one ("" for an
	// organization's bootstrap key).
	CreatedBy string
	// Revoked is set when the key's token was reported as leaked (nil
	// otherwise); rotating the key clears it.
	Revoked *Revocation
	// Previous is the token the last rotation replaced while its grace
	// period runs (it has exactly the key's access), nil otherwise. It may
	// be kept past its ExpiresAt, when it no longer verifies: use
	// PreviousAt to ask whether it is live.
	Previous *PreviousToken
	// Version starts at 1 and grows by one with every change (edit,
	// rotate, revoking the previous token); last-used updates do not
	// change it.
	Version int64
}

// MaxGrace is the longest grace period a rotation may give the token it
// replaces.
const MaxGrace = 7 * 24 * time.Hour

// PreviousToken is the token a rotation with a grace period replaced. It
// keeps verifying, with the key's access, until ExpiresAt (exclusive): a
// read-time check, never a background job (docs/design.md, "Rotation with
// a grace period").
type PreviousToken struct {
	// Digest is the SHA-256 digest of the previous verifier.
	Digest token.Digest
	// Hint lets people recognise the previous token.
	Hint string
	// ExpiresAt is the instant the previous token stops verifying.
	ExpiresAt time.Time
	// LastUsedAt, LastUsedIP and LastUsedUserAgent describe the previous
	// token's last use (zero when unknown).
	LastUsedAt        time.Time
	LastUsedIP        string
	LastUsedUserAgent string
}

// PreviousAt returns the previous token when its grace period still runs
// at now, nil otherwise.
func (k *Key) PreviousAt(now time.Time) *PreviousToken {
	if k.Previous == nil || !now.Before(k.Previous.ExpiresAt) {
		return nil
	}
	return k.Previous
}

// Status is the key's status at now: "expired", "revoked", "active" or
// "expiring_soon". An expired key says expired even if it was revoked
// before: it can only be deleted.
func (k *Key) Status(now time.Time) string {
	switch {
	case k.Expired(now):
		return "expired"
	case k.Revoked != nil:
		return "revoked"
	case k.ExpiresAt.IsZero():
		return "active"
	case k.ExpiresAt.Sub(now) <= ExpiringSoon:
		return "expiring_soon"
	}
	return "active"
}

// Expired reports whether the key has expired at now.
func (k *Key) Expired(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// Clone returns a deep copy, for callers that change a key read from a store.
func (k *Key) Clone() *Key {
	c := *k
	c.Grants = append([]authz.Grant(nil), k.Grants...)
	if k.Revoked != nil {
		r := *k.Revoked
		c.Revoked = &r
	}
	if k.Previous != nil {
		p := *k.Previous
		c.Previous = &p
	}
	c.AllowedNetworks = append([]netip.Prefix(nil), k.AllowedNetworks...)
	return &c
}

// Store keeps keys. Every change is conditional on the stored Version so a
// stale writer gets fault.ErrConflict instead of overwriting. Every change
// but TouchKey writes its audit event in the same atomic write: a refused
// or failed change writes no event (docs/dynamodb.md, "Audit trail").
type Store interface {
	// CreateKey stores a new key with Version 1 (fault.ErrConflict if the
	// id exists), and ev in the same atomic write.
	CreateKey(ctx context.Context, k *Key, ev audit.Event) error
	// CreateOrganizationWithOwner stores a new organization, its owner
	// key (with Version 1) and events in one atomic write: after a crash
	// or a refusal both are there or neither is (fault.ErrConflict,
	// nothing written, when the organization or the key exists).
	CreateOrganizationWithOwner(ctx context.Context, org *directory.Organization, owner *Key, events []audit.Event) error
	// GetKey returns a key by id, strongly consistent, or
	// fault.ErrNotFound. The result may be shared with other callers:
	// treat it as read-only and Clone it before changing it.
	GetKey(ctx context.Context, id string) (*Key, error)
	// ListKeys returns an organization's keys, newest first. A cursor
	// from another organization is refused with a validation error.
	ListKeys(ctx context.Context, org string, opt directory.ListOptions) (directory.Page[*Key], error)
	// CountKeys returns how many keys the organization has, counting no
	// further than atMost: the answer is min(count, atMost), so the cost is
	// bounded whatever the organization's size. It may lag a concurrent
	// create (DynamoDB counts an eventually consistent index).
	CountKeys(ctx context.Context, org string, atMost int) (int, error)
	// UpdateKey replaces the key's name, access, digest, hint, UpdatedAt,
	// RotatedAt, the previous token's digest, hint and expiry (all of the
	// previous token removed when Previous is nil, its last use when
	// Previous.LastUsedAt is zero) and Version when the stored Version equals
	// expectedVersion (fault.ErrConflict otherwise, fault.ErrNotFound when
	// missing). It never changes LastUsedAt, CreatedAt or CreatedBy. ev is
	// written in the same atomic write, and only when the key is.
	UpdateKey(ctx context.Context, k *Key, expectedVersion int64, ev audit.Event) error
	// DeleteKey removes the key when the stored Version equals
	// expectedVersion (fault.ErrConflict otherwise, fault.ErrNotFound when
	// missing), writing ev in the same atomic write.
	DeleteKey(ctx context.Context, id string, expectedVersion int64, ev audit.Event) error
	// UpdateKeyWitnessed is UpdateKey, applied only when the witness key
	// is still stored at w.Version, checked in the same atomic write
	// (ErrWitnessChanged, nothing written, otherwise).
	UpdateKeyWitnessed(ctx context.Context, k *Key, expectedVersion int64, ev audit.Event, w Witness) error
	// DeleteKeyWitnessed is DeleteKey on the same condition.
	DeleteKeyWitnessed(ctx context.Context, id string, expectedVersion int64, ev audit.Event, w Witness) error
	// TouchKey sets LastUsedAt to now when the stored LastUsedAt still
	// equals prev (zero for never), and reports whether it wrote. A lost
	// race is not an error: another verification recorded the use.
	TouchKey(ctx context.Context, id string, prev, now time.Time) (bool, error)
}
