package authz

import (
	"context"
	"time"
)

// Principal is the caller of a request: a verified key of one organization
// and what it may do. The single binary's middleware and the Lambda
// authorizer build the same Principal; handlers read it with FromContext.
type Principal struct {
	OrganizationID string
	KeyID          string
	// KeyName is the key's name when it authenticated (the audit trail's
	// actor); "" when unknown.
	KeyName string
	Access
}

// Expired reports whether the principal's key has expired at now.
func (p Principal) Expired(now time.Time) bool {
	return !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, if one was authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
