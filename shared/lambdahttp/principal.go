package lambdahttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
)

// The keys of the authorizer context that carry the caller. API Gateway
// only accepts string, number and boolean values there, and hands them to
// the integration as strings, so the grants travel as compact JSON.
const (
	// ContextOrganizationID is the caller's organization id.
	ContextOrganizationID = "organization_id"
	// ContextKeyID is the caller's key id.
	ContextKeyID = "key_id"
	// ContextAllowAll is true for an allow-all key.
	ContextAllowAll = "allow_all"
	// ContextGrants is the key's grants as a compact JSON array of
	// authz.Grant.
	ContextGrants = "grants"
	// ContextExpiresAt is the key's expiry in RFC 3339, "" when it never
	// expires.
	ContextExpiresAt = "expires_at"
	// ContextAllowedNetworks is the key's network allowlist, its CIDRs
	// joined by commas, "" when the key may be used from anywhere.
	ContextAllowedNetworks = "allowed_cidrs"
	// ContextKeyName is the key's name (the audit trail's actor); optional.
	ContextKeyName = "key_name"
)

// ErrNoPrincipal is returned by DecodePrincipal when the authorizer context
// does not carry a caller at all (no authorizer ran for the route).
var ErrNoPrincipal = errors.New("lambdahttp: the authorizer context carries no principal")

// EncodePrincipal returns the authorizer context for a verified caller.
// DecodePrincipal turns it back into the same Principal.
func EncodePrincipal(p authz.Principal) (map[string]any, error) {
	grants := p.Grants
	if grants == nil {
		grants = []authz.Grant{}
	}
	g, err := json.Marshal(grants)
	if err != nil {
		return nil, fmt.Errorf("lambdahttp: encoding grants of %s: %w", p.KeyID, err)
	}
	exp := ""
	if !p.ExpiresAt.IsZero() {
		exp = p.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{
		ContextOrganizationID:  p.OrganizationID,
		ContextKeyID:           p.KeyID,
		ContextAllowAll:        p.AllowAll,
		ContextGrants:          string(g),
		ContextExpiresAt:       exp,
		ContextAllowedNetworks: joinNetworks(p.AllowedNetworks),
		ContextKeyName:         p.KeyName,
	}, nil
}

// DecodePrincipal reads the caller from an authorizer context as API
// Gateway delivers it in a proxy event's requestContext.authorizer (values
// as strings, or as the JSON types the authorizer returned). A context
// without organization_id and key_id (nil, or only API Gateway's own
// principalId) answers ErrNoPrincipal; a context that carries a caller but
// not a well-formed one is an error, never a principal.
func DecodePrincipal(m map[string]any) (authz.Principal, error) {
	org, hasOrg := m[ContextOrganizationID]
	key, hasKey := m[ContextKeyID]
	if !hasOrg && !hasKey {
		return authz.Principal{}, ErrNoPrincipal
	}
	var p authz.Principal
	var err error
	if p.OrganizationID, err = str(ContextOrganizationID, org); err != nil {
		return authz.Principal{}, err
	}
	if p.KeyID, err = str(ContextKeyID, key); err != nil {
		return authz.Principal{}, err
	}
	if p.OrganizationID == "" || p.KeyID == "" {
		return authz.Principal{}, errors.New("lambdahttp: authorizer context: organization_id and key_id must both be set")
	}
	if v, ok := m[ContextKeyName]; ok {
		if p.KeyName, err = str(ContextKeyName, v); err != nil {
			return authz.Principal{}, err
		}
	}
	switch v := m[ContextAllowAll].(type) {
	case bool:
		p.AllowAll = v
	case string:
		if p.AllowAll, err = strconv.ParseBool(v); err != nil {
			return authz.Principal{}, fmt.Errorf("lambdahttp: authorizer context: allow_all %q is not a boolean", v)
		}
	case nil:
		return authz.Principal{}, errors.New("lambdahttp: authorizer context: allow_all is missing")
	default:
		return authz.Principal{}, fmt.Errorf("lambdahttp: authorizer context: allow_all has type %T", v)
	}
	grants, err := str(ContextGrants, m[ContextGrants])
	if err != nil {
		return authz.Principal{}, err
	}
	if err := json.Unmarshal([]byte(grants), &p.Grants); err != nil {
		return authz.Principal{}, fmt.Errorf("lambdahttp: authorizer context: grants: %w", err)
	}
	if len(p.Grants) == 0 {
		p.Grants = nil
	}
	exp, err := str(ContextExpiresAt, m[ContextExpiresAt])
	if err != nil {
		return authz.Principal{}, err
	}
	if exp != "" {
		if p.ExpiresAt, err = time.Parse(time.RFC3339Nano, exp); err != nil {
			return authz.Principal{}, fmt.Errorf("lambdahttp: authorizer context: expires_at: %w", err)
		}
	}
	nets, err := str(ContextAllowedNetworks, m[ContextAllowedNetworks])
	if err != nil {
		return authz.Principal{}, err
	}
	if p.AllowedNetworks, err = splitNetworks(nets); err != nil {
		return authz.Principal{}, err
	}
	return p, nil
}

// joinNetworks is the context form of an allowlist.
func joinNetworks(ps []netip.Prefix) string { return strings.Join(authz.NetworkStrings(ps), ",") }

// splitNetworks reads the context form of an allowlist, which must be in
// normal form (as EncodePrincipal writes it) and within the bound.
func splitNetworks(s string) ([]netip.Prefix, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > authz.MaxNetworks {
		return nil, fmt.Errorf("lambdahttp: authorizer context: allowed_cidrs holds %d networks, at most %d", len(parts), authz.MaxNetworks)
	}
	out := make([]netip.Prefix, len(parts))
	for i, c := range parts {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("lambdahttp: authorizer context: allowed_cidrs: %w", err)
		}
		out[i] = p
	}
	if !slices.Equal(authz.NormalizeNetworks(out), out) {
		return nil, errors.New("lambdahttp: authorizer context: allowed_cidrs is not in normal form")
	}
	return out, nil
}

// str reads a context value that must be a string.
func str(name string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("lambdahttp: authorizer context: %s must be a string, not %T", name, v)
	}
	return s, nil
}
