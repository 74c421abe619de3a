package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/verify"
)

// Deps is what the operation handlers are built from. Every runtime (the
// single binary, each Lambda function, the tests) fills it the same way.
type Deps struct {
	Keys      *keys.Service
	Directory *directory.Service
	Verifier  *verify.Verifier
	Catalog   *authz.Catalog
	Routes    authz.Routes
	Logger    *slog.Logger
	Now       func() time.Time
	// Ping checks that the store answers (healthz).
	Ping func(ctx context.Context) error
	// AuthFailures limits failed authentications per client address (the
	// guard's 401s, POST /v1/verify's failed decisions); nil limits none.
	AuthFailures *ratelimit.Limiter
}
