// Package wire holds the JSON shapes of the HTTP API (docs/http-api.md) and their
// conversion from and to the domain types, shared by every handler, the
// tests and the load generator.
package wire

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// Scope is a grant's scope in answers: the node's level, id and path.
// Key answers always carry the path; a verification's missing grant has
// none (verification reads no names).
type Scope struct {
	Level string `json:"level"`
	ID    string `json:"id"`
	// Path is the scope's human name ("billing / web / production").
	Path string `json:"path,omitempty"`
}

// Grant is one permission with its scope in answers (null:
// organization-wide).
type Grant struct {
	Permission string `json:"permission"`
	Scope      *Scope `json:"scope"`
}

// ScopeSpec is a grant's scope in requests: level and id, both required
// (`required:"true"`, read by httpapi.UnmarshalStrict).
type ScopeSpec struct {
	Level string `json:"level" required:"true"`
	ID    string `json:"id" required:"true"`
	// Path is accepted and ignored, so a grant read from an answer can be
	// sent back as it is.
	Path string `json:"path,omitempty"`
}

// GrantSpec is one permission with an optional scope in requests (absent
// or null: organization-wide).
type GrantSpec struct {
	Permission string     `json:"permission" required:"true"`
	Scope      *ScopeSpec `json:"scope"`
}

// KeySpec is the body of create and edit.
type KeySpec struct {
	Name        *string      `json:"name"`
	Permissions *[]GrantSpec `json:"permissions"`
	Preset      *string      `json:"preset"`
	AllowAll    *bool        `json:"allow_all"`
	Expiration  *string      `json:"expiration"`
	ExpiresAt   *string      `json:"expires_at"`
	// AllowedCIDRs are the networks the key may be used from (absent:
	// unchanged on edit, anywhere on create; [] anywhere).
	AllowedCIDRs *[]string `json:"allowed_cidrs"`
}

// Spec converts the body to the domain's request. An expires_at that is not
// an RFC 3339 date-time is recorded in the spec's Invalid, so the service
// answers it together with every other field error.
func (s KeySpec) Spec() (keys.Spec, error) {
	out := keys.Spec{Name: s.Name, Preset: s.Preset, AllowAll: s.AllowAll, Expiration: s.Expiration}
	if s.AllowedCIDRs != nil {
		out.AllowedCIDRs, out.AllowedCIDRsSet = *s.AllowedCIDRs, true
	}
	if s.Permissions != nil {
		out.PermissionsSet = true
		for _, g := range *s.Permissions {
			in := keys.GrantInput{Permission: g.Permission}
			if g.Scope != nil {
				in.Scope = &keys.ScopeInput{Level: g.Scope.Level, ID: g.Scope.ID}
			}
			out.Permissions = append(out.Permissions, in)
		}
	}
	if s.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *s.ExpiresAt)
		if err != nil {
			out.Invalid = append(out.Invalid, fault.FieldError{Field: "expires_at", Code: fault.FieldInvalid, Message: "must be an RFC 3339 date-time such as 2027-01-31T00:00:00.000Z"})
		} else {
			out.ExpiresAt = &t
		}
	}
	return out, nil
}

// RotateSpec is the optional body of POST /v1/api-keys/{id}/rotate.
type RotateSpec struct {
	// GraceSeconds keeps the replaced token working for that long (0 to
	// 604800; absent: 0, it stops at once).
	GraceSeconds int64 `json:"grace_seconds"`
}

// Key is the key object (docs/http-api.md). Token is set only in the responses
// to create and rotate.
type Key struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	OrganizationID string  `json:"organization_id"`
	AllowAll       bool    `json:"allow_all"`
	Permissions    []Grant `json:"permissions"`
	ExpiresAt      *string `json:"expires_at"`
	Status         string  `json:"status"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	RotatedAt      *string `json:"rotated_at"`
	LastUsedAt     *string `json:"last_used_at"`
	// LastUsedIP and LastUsedUserAgent: where the token was last used
	// from (absent when unknown).
	LastUsedIP        string  `json:"last_used_ip,omitempty"`
	LastUsedUserAgent string  `json:"last_used_user_agent,omitempty"`
	CreatedBy         *string `json:"created_by"`
	TokenHint         string  `json:"token_hint"`
	// PreviousTokenExpiresAt and PreviousTokenHint describe the token the
	// last rotation replaced, present only while its grace period runs,
	// with its last use.
	PreviousTokenExpiresAt         *string `json:"previous_token_expires_at,omitempty"`
	PreviousTokenHint              string  `json:"previous_token_hint,omitempty"`
	PreviousTokenLastUsedAt        *string `json:"previous_token_last_used_at,omitempty"`
	PreviousTokenLastUsedIP        string  `json:"previous_token_last_used_ip,omitempty"`
	PreviousTokenLastUsedUserAgent string  `json:"previous_token_last_used_user_agent,omitempty"`
	Version                        int64   `json:"version"`
	// Revocation is present when the key was revoked (status revoked,
	// unless it has also expired).
	Revocation *Revocation `json:"revocation"`
	Token      string      `json:"token,omitempty"`
	// AllowedCIDRs are the networks the key may be used from, normalized;
	// always present, [] for anywhere.
	AllowedCIDRs []string `json:"allowed_cidrs"`
}

// Revocation says why a key was revoked: reason "leaked", who reported it
// ("github" or "self_report") and what the report said.
type Revocation struct {
	Reason   string `json:"reason"`
	At       string `json:"at"`
	Reporter string `json:"reporter"`
	URL      string `json:"url,omitempty"`
	Source   string `json:"source,omitempty"`
}

// Page is a page of a listing.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
	// Unreadable lists the stored items the page skipped because they
	// could not be read; absent when there is none.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
}

// Unreadable is an item a listing skipped: its id and what to do about it.
type Unreadable struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// UnreadableMessage is the message of an unreadable node of a listing (a
// key's is keys.UnreadableMessage).
const UnreadableMessage = "this stored item could not be read; contact support"

// NewUnreadable converts a store page's unreadable items (nil when none),
// each with message unless the store gave one of its own.
func NewUnreadable(us []directory.Unreadable, message string) []Unreadable {
	if len(us) == 0 {
		return nil
	}
	out := make([]Unreadable, len(us))
	for i, u := range us {
		out[i] = Unreadable{ID: u.ID, Message: message}
		if u.Message != "" {
			out[i].Message = u.Message
		}
	}
	return out
}

// NewPage converts a store page.
func NewPage[T, U any](p directory.Page[T], conv func(T) U) Page[U] {
	out := Page[U]{Items: make([]U, 0, len(p.Items)), Unreadable: NewUnreadable(p.Unreadable, UnreadableMessage)}
	for _, it := range p.Items {
		out.Items = append(out.Items, conv(it))
	}
	if p.Next != "" {
		out.NextCursor = &p.Next
	}
	return out
}

// Time formats an instant in the API's one time format: RFC 3339 UTC with
// exactly three fraction digits ("2027-01-31T00:00:00.000Z").
func Time(t time.Time) string { return authz.FormatTime(t) }

// OptTime formats an optional instant (zero → null).
func OptTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := Time(t)
	return &s
}

// KeyOf shapes a key for an answer, its scopes named from names (the
// service's keys.Service.Names: wire reads nothing).
func KeyOf(k *keys.Key, names keys.Names, now time.Time) Key {
	out := Key{
		ID: k.ID, Name: k.Name, OrganizationID: k.OrganizationID, AllowAll: k.AllowAll,
		Permissions: make([]Grant, 0, len(k.Grants)),
		ExpiresAt:   OptTime(k.ExpiresAt), Status: k.Status(now),
		CreatedAt: Time(k.CreatedAt), UpdatedAt: Time(k.UpdatedAt),
		RotatedAt: OptTime(k.RotatedAt), LastUsedAt: OptTime(k.LastUsedAt),
		LastUsedIP: k.LastUsedIP, LastUsedUserAgent: k.LastUsedUserAgent,
		TokenHint: k.Hint, Version: k.Version,
	}
	if k.CreatedBy != "" {
		out.CreatedBy = &k.CreatedBy
	}
	if r := k.Revoked; r != nil {
		out.Revocation = &Revocation{Reason: r.Reason, At: Time(r.At), Reporter: r.Reporter, URL: r.URL, Source: r.Source}
	}
	if p := k.PreviousAt(now); p != nil {
		out.PreviousTokenExpiresAt, out.PreviousTokenHint = OptTime(p.ExpiresAt), p.Hint
		out.PreviousTokenLastUsedAt = OptTime(p.LastUsedAt)
		out.PreviousTokenLastUsedIP, out.PreviousTokenLastUsedUserAgent = p.LastUsedIP, p.LastUsedUserAgent
	}
	out.AllowedCIDRs = authz.NetworkStrings(k.AllowedNetworks)
	for _, g := range k.Grants {
		wg := Grant{Permission: g.Permission}
		if l := g.Scope.Level(); l != authz.LevelOrganization {
			wg.Scope = &Scope{Level: l.String(), ID: g.Scope.ID(), Path: names.Path(g.Scope)}
		}
		out.Permissions = append(out.Permissions, wg)
	}
	return out
}

// ETag is the entity tag of a key version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ParseIfMatch returns the version an If-Match header asks for:
// keys.AnyVersion when absent or "*".
func ParseIfMatch(h string) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return keys.AnyVersion, nil
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fault.InvalidAs("If-Match", fault.FieldOutOfRange, "must be the ETag of a version from 1 to %d", int64(math.MaxInt64))
	}
	if err != nil || v < 1 {
		return 0, fault.Invalid("If-Match", "must be the ETag of the key, such as \"3\"")
	}
	return v, nil
}
