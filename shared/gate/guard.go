package gate

import (
	"log/slog"
	"net/http"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
)

// Guard returns next behind the route's authentication and authorization.
// When the request's context already carries a principal (the Lambda
// adapter puts the API Gateway authorizer's there) the token is not checked
// again; otherwise the bearer token is verified with the same code as
// POST /v1/verify and the authorizer, so a request is never anonymous. The
// route's permission is then checked on the node its path names.
//
// A client whose budget of failed authentications is spent gets 429 before
// its token is read, even a valid one, and every 401 spends one unit. A
// request that authenticates never spends any. Its signature is the one
// httpapi.NewRouter takes.
func (g *Gate) Guard(logger *slog.Logger) func(authz.Route, http.Handler) http.Handler {
	return func(route authz.Route, next http.Handler) http.Handler {
		if route.Public() {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := Caller{Client: r.RemoteAddr, UserAgent: r.Header.Get("User-Agent")}
			p, authenticated := authz.FromContext(r.Context())
			if authenticated {
				c.Principal = &p
			} else {
				c.Token = httpapi.BearerToken(r.Header.Get("Authorization"))
			}
			d, err := g.Route(r.Context(), c, route, r.PathValue)
			switch {
			case err != nil:
				httpapi.WriteError(w, r, logger, err)
			case d.Outcome == RateLimited:
				httpapi.WriteRateLimited(w, r, logger, d.RetryAfter)
			case d.Outcome != Allowed:
				httpapi.WriteError(w, r, logger, d.Err())
			default:
				if !authenticated {
					r = r.WithContext(authz.WithPrincipal(r.Context(), d.Principal))
				}
				// Where the request came from, for the audit events of the
				// changes it makes.
				next.ServeHTTP(w, audit.WithRequestSource(r))
			}
		})
	}
}
