package store

import (
	"fmt"
	"slices"
	"time"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// The write gate (docs/dynamodb.md, "The write gate"): every engine encodes
// an item, decodes the encoded form with the reader it uses for reads, and
// compares the result with what it was asked to store before it writes
// anything. The helpers below are the comparison and the refusal, shared so
// that every engine names fields and answers the same way.

// KeyDiff returns the stored name of the first field in which got differs
// from want ("" when none). Times are compared as instants (Equal), a nil
// and an empty grant (or network) list are the same.
func KeyDiff(want, got *keys.Key) string {
	switch {
	case got.ID != want.ID:
		return "id"
	case got.OrganizationID != want.OrganizationID:
		return "organization_id"
	case got.Name != want.Name:
		return "name"
	case got.AllowAll != want.AllowAll:
		return "allow_all"
	case !slices.Equal(got.Grants, want.Grants):
		return "permissions"
	case !slices.Equal(got.AllowedNetworks, want.AllowedNetworks):
		return "allowed_cidrs"
	case got.SecretDigest != want.SecretDigest:
		return "secret_digest"
	case got.Hint != want.Hint:
		return "hint"
	case got.CreatedBy != want.CreatedBy:
		return "created_by"
	case got.Version != want.Version:
		return "version"
	case (got.Revoked == nil) != (want.Revoked == nil):
		return "revoked"
	case got.Revoked != nil && (got.Revoked.Reason != want.Revoked.Reason || got.Revoked.Reporter != want.Revoked.Reporter ||
		got.Revoked.URL != want.Revoked.URL || got.Revoked.Source != want.Revoked.Source || !got.Revoked.At.Equal(want.Revoked.At)):
		return "revoked"
	case (got.Previous == nil) != (want.Previous == nil):
		return "prev_digest"
	}
	if f := timesDiff([]string{"expires_at", "created_at", "updated_at", "rotated_at", "last_used_at"},
		[]time.Time{want.ExpiresAt, want.CreatedAt, want.UpdatedAt, want.RotatedAt, want.LastUsedAt},
		[]time.Time{got.ExpiresAt, got.CreatedAt, got.UpdatedAt, got.RotatedAt, got.LastUsedAt}); f != "" || want.Previous == nil {
		return f
	}
	return previousDiff(want.Previous, got.Previous)
}

// previousDiff is KeyDiff for the previous token's digest, hint and expiry
// (the attributes a rotation writes).
func previousDiff(want, got *keys.PreviousToken) string {
	switch {
	case got.Digest != want.Digest:
		return "prev_digest"
	case got.Hint != want.Hint:
		return "prev_hint"
	}
	return timesDiff([]string{"prev_expires_at"}, []time.Time{want.ExpiresAt}, []time.Time{got.ExpiresAt})
}

// NodeDiff is KeyDiff for nodes.
func NodeDiff(want, got *directory.Node) string {
	switch {
	case got.ID != want.ID:
		return "id"
	case got.OrganizationID != want.OrganizationID:
		return "organization_id"
	case got.Path != want.Path:
		return "path"
	case got.Name != want.Name:
		return "name"
	}
	return timesDiff([]string{"created_at", "updated_at"},
		[]time.Time{want.CreatedAt, want.UpdatedAt}, []time.Time{got.CreatedAt, got.UpdatedAt})
}

// OrganizationDiff is KeyDiff for organizations.
func OrganizationDiff(want, got *directory.Organization) string {
	switch {
	case got.ID != want.ID:
		return "id"
	case got.Name != want.Name:
		return "name"
	}
	return timesDiff([]string{"created_at", "updated_at"},
		[]time.Time{want.CreatedAt, want.UpdatedAt}, []time.Time{got.CreatedAt, got.UpdatedAt})
}

func timesDiff(names []string, want, got []time.Time) string {
	for i := range names {
		if want[i].IsZero() != got[i].IsZero() || !want[i].Equal(got[i]) {
			return names[i]
		}
	}
	return ""
}

// NotStorable is the refusal of an item whose field would not read back as
// given. A field the request names (a key's expires_at, permissions, a
// name) answers a validation error naming it: out_of_range for a time,
// invalid otherwise. Any other field is the service's own doing and answers
// an internal error whose cause names the item and the field.
func NotStorable(kind, id, field string, cause error) error {
	switch field {
	case "expires_at":
		return fault.InvalidAs(field, fault.FieldOutOfRange, "is outside the times the store can keep (years 0000 to 9999 in UTC)")
	case "name", "permissions":
		return fault.InvalidAs(field, fault.FieldInvalid, "cannot be stored as given (it would not read back unchanged)")
	}
	if cause == nil {
		cause = fmt.Errorf("it reads back different")
	}
	return fault.Wrap(fmt.Errorf("store: refusing to write %s %s: field %s does not survive the encoding: %w", kind, id, field, cause),
		fault.CodeInternal, "internal error")
}
