package keys

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
)

// MaxLifetimeYears bounds every expiry the API accepts: at most this many
// calendar years after the request (docs/design.md, "Limits and lifecycle
// rules"). It keeps every stored time inside what RFC 3339 and the stores
// can represent (a far offset such as "9999-12-31T23:59:59-23:59" is year
// 10000 in UTC).
const MaxLifetimeYears = 5

// LatestExpiry is the latest expiry a request made at now may ask for.
func LatestExpiry(now time.Time) time.Time {
	return now.UTC().AddDate(MaxLifetimeYears, 0, 0).Truncate(time.Millisecond)
}

// ScopeInput is a grant's scope as a request gives it: a level and a node id.
type ScopeInput struct {
	Level string
	ID    string
}

// GrantInput is one requested grant.
type GrantInput struct {
	Permission string
	// Scope is nil for organization-wide.
	Scope *ScopeInput
}

// Spec is a create or edit request. A nil field was not given. For create,
// Name, one of Permissions/Preset/AllowAll and one of
// Expiration/ExpiresAt are required; for edit, any subset.
type Spec struct {
	Name        *string
	Permissions []GrantInput
	// PermissionsSet is true when the request had a "permissions" field,
	// even an empty one.
	PermissionsSet bool
	Preset         *string
	AllowAll       *bool
	Expiration     *string
	ExpiresAt      *time.Time
	// AllowedCIDRs is the network allowlist asked for (each a CIDR or a
	// single address); AllowedCIDRsSet is true when the request had an
	// "allowed_cidrs" field, even an empty one (edit: [] clears the list).
	AllowedCIDRs    []string
	AllowedCIDRsSet bool
	// Invalid holds field errors found while converting the request (an
	// expires_at that is not a date-time); they are answered together with
	// the service's own.
	Invalid []fault.FieldError
}

// addInvalid records the conversion errors of s in fe.
func (s Spec) addInvalid(fe *fault.Fields) {
	for _, f := range s.Invalid {
		fe.Add(f.Field, f.Code, "%s", f.Message)
	}
}

// expirations maps the named choices to how far in the future they end.
var expirations = map[string]func(time.Time) time.Time{
	"never": func(time.Time) time.Time { return time.Time{} },
	"30d":   func(t time.Time) time.Time { return t.Add(30 * 24 * time.Hour) },
	"60d":   func(t time.Time) time.Time { return t.Add(60 * 24 * time.Hour) },
	"90d":   func(t time.Time) time.Time { return t.Add(90 * 24 * time.Hour) },
	"1y":    func(t time.Time) time.Time { return t.AddDate(1, 0, 0) },
}

// ValidateName checks a key or node name: 1–100 printable characters,
// without leading or trailing spaces.
func ValidateName(field, name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return fault.Invalid(field, "must be valid UTF-8")
	case strings.TrimSpace(name) == "":
		return fault.Invalid(field, "must not be empty")
	case n > 100:
		return fault.Invalid(field, "must be at most 100 characters (got %d)", n)
	case strings.TrimSpace(name) != name:
		return fault.Invalid(field, "must not start or end with spaces")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fault.Invalid(field, "must contain only printable characters")
		}
	}
	return nil
}

// expiry returns the expiry a spec asks for, or ok=false when it asks for
// none. now is the request's time.
func (s Spec) expiry(now time.Time) (at time.Time, given bool, err error) {
	switch {
	case s.Expiration != nil && s.ExpiresAt != nil:
		return time.Time{}, false, fault.Invalid("expiration", "give either expiration or expires_at, not both")
	case s.Expiration != nil:
		f, ok := expirations[*s.Expiration]
		if !ok {
			return time.Time{}, false, fault.Invalid("expiration", "must be one of never, 30d, 60d, 90d, 1y (got %q)", *s.Expiration)
		}
		return f(now).UTC().Truncate(time.Second), true, nil
	case s.ExpiresAt != nil:
		at := s.ExpiresAt.UTC().Truncate(time.Millisecond)
		if !at.After(now) {
			return time.Time{}, false, fault.InvalidAs("expires_at", fault.FieldOutOfRange, "must be in the future")
		}
		if latest := LatestExpiry(now); at.After(latest) {
			return time.Time{}, false, fault.InvalidAs("expires_at", fault.FieldOutOfRange,
				"must be at most %d years from now: the latest allowed is %s", MaxLifetimeYears, authz.FormatTime(latest))
		}
		return at, true, nil
	}
	return time.Time{}, false, nil
}

// accessChoice counts how many of permissions, preset and allow_all a spec
// sets.
func (s Spec) accessChoice() (int, error) {
	n := 0
	if s.PermissionsSet {
		if len(s.Permissions) == 0 {
			return 0, fault.Invalid("permissions", "must not be empty: choose at least one permission, a preset or allow_all")
		}
		n++
	}
	if s.Preset != nil {
		n++
	}
	if s.AllowAll != nil {
		if !*s.AllowAll && n == 0 {
			return 0, fault.Invalid("allow_all", "false grants nothing: give permissions or a preset instead")
		}
		if *s.AllowAll {
			n++
		}
	}
	if n > 1 {
		return 0, fault.Invalid("permissions", "give exactly one of permissions, preset or allow_all")
	}
	return n, nil
}

func grantField(i int, rest string) string {
	return fmt.Sprintf("permissions[%d]%s", i, rest)
}

// networks parses the spec's allowlist, in request order (so that an
// escalation refusal can name the request's index), recording every
// refusal in fe: allowed_cidrs out_of_range beyond authz.MaxNetworks
// entries, allowed_cidrs[i] invalid for an entry that is not a network
// (host bits set included: docs/security.md, "Network allowlists"). An
// empty list is nil: anywhere.
func (s Spec) networks(fe *fault.Fields) []netip.Prefix {
	if len(s.AllowedCIDRs) > authz.MaxNetworks {
		fe.Add("allowed_cidrs", fault.FieldOutOfRange, "at most %d networks (got %d)", authz.MaxNetworks, len(s.AllowedCIDRs))
		return nil
	}
	var out []netip.Prefix
	for i, c := range s.AllowedCIDRs {
		p, err := authz.ParseNetwork(c)
		if err != nil {
			fe.Add(fmt.Sprintf("allowed_cidrs[%d]", i), fault.FieldInvalid, "%s", err.Error())
			continue
		}
		out = append(out, p)
	}
	return out
}
