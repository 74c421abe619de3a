package wiring

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/gate"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/webhook"
)

// Deps is what the operation handlers are built from. Every runtime (the
// single binary, each Lambda function, the tests) fills it the same way
// (New): the base always, each service only when asked for (Service; nil
// otherwise): a Lambda function builds the services its operation calls.
type Deps struct {
	// Keys manages keys (service Keys).
	Keys *keys.Service
	// Directory manages teams and projects (service Directory).
	Directory *directory.Service
	// Audit reads the audit trail, the store's events (service Audit).
	Audit audit.Reader
	// Webhooks manages the organization's webhook endpoints (service
	// Webhooks).
	Webhooks *webhook.Service
	Verifier *verify.Verifier
	Catalog  *authz.Catalog
	Routes   authz.Routes
	Logger   *slog.Logger
	Now      func() time.Time
	// Ping checks that the store answers (healthz).
	Ping func(ctx context.Context) error
	// Gate authenticates and authorizes every request (the guard of each
	// route, the Lambda authorizer, POST /v1/verify).
	Gate *gate.Gate
	// AuthFailures is the gate's limiter of failed authentications per
	// client address (the guard's 401s, POST /v1/verify's failed
	// decisions); nil limits none.
	AuthFailures *ratelimit.Limiter
	// Usage reads the usage counted per key (GET /v1/api-keys/{id}/usage;
	// service Usage).
	Usage usage.Store
}

// Serve adapts an Endpoint to net/http: the caller comes from the request's
// context (put there by the gate's Guard or the Lambda adapter), errors are
// written as problem+json, 204 carries no body, anything else is JSON.
func (d Deps) Serve(e httpapi.Endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		status, body, err := e(w, r, caller)
		switch {
		case err != nil:
			httpapi.WriteError(w, r, d.Logger, err)
		case status == http.StatusNoContent:
			httpapi.WriteNoContent(w)
		default:
			httpapi.WriteJSON(w, status, body)
		}
	}
}
