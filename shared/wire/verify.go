package wire

import "github.com/dotenv/apikeys/shared/authz"

// Resource names the node a verification asks about; ancestors of the
// deepest id given come from the directory.
type Resource struct {
	Team        string `json:"team,omitempty"`
	Project     string `json:"project,omitempty"`
	Target      string `json:"target,omitempty"`
	Environment string `json:"environment,omitempty"`
}

// Node returns the resource as a (possibly partial) node path.
func (r *Resource) Node() authz.Node {
	if r == nil {
		return authz.Node{}
	}
	return authz.Node{Team: r.Team, Project: r.Project, Target: r.Target, Environment: r.Environment}
}

// VerifyRequest is the body of POST /v1/verify. Fields tagged
// `required:"true"` are required by the strict decoder (httpapi.UnmarshalStrict)
// and listed in the schema's required list of docs/openapi.json.
type VerifyRequest struct {
	Token      string    `json:"token" required:"true"`
	Permission string    `json:"permission,omitempty"`
	Resource   *Resource `json:"resource,omitempty"`
	// ClientIP is the address the calling service's own client used,
	// checked against the key's network allowlist ("" unknown: a key with
	// an allowlist answers ip_not_allowed).
	ClientIP string `json:"client_ip,omitempty"`
}

// VerifiedKey is what a verification tells about a valid key.
type VerifiedKey struct {
	ID             string  `json:"id"`
	OrganizationID string  `json:"organization_id"`
	Name           string  `json:"name"`
	ExpiresAt      *string `json:"expires_at"`
}

// VerifyResponse is the answer of POST /v1/verify.
type VerifyResponse struct {
	Valid   bool         `json:"valid"`
	Allowed bool         `json:"allowed"`
	Code    string       `json:"code"`
	Key     *VerifiedKey `json:"key"`
	// PreviousToken is set when the token is the key's previous token,
	// still in the grace period of the last rotation, which ends at
	// PreviousTokenExpiresAt.
	PreviousToken          bool    `json:"previous_token,omitempty"`
	PreviousTokenExpiresAt *string `json:"previous_token_expires_at,omitempty"`
	Missing                *Grant  `json:"missing,omitempty"`
}
