package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/verify"
)

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header value, or "" when there is none.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Guard returns next behind the route's authentication and authorization.
// When the request's context already carries a principal (the Lambda
// adapter puts the API Gateway authorizer's there) the token is not checked
// again; otherwise the bearer token is verified with the same code as
// POST /v1/verify and the authorizer, so a request is never anonymous. The
// route's permission is then checked on the node its path names.
//
// lim limits failed authentications per client address (nil: none): a
// client whose budget is spent gets 429 before its token is read, even a
// valid one, and every 401 spends one unit. A request that authenticates
// never spends any.
func Guard(v *verify.Verifier, lim *ratelimit.Limiter, route authz.Route, logger *slog.Logger, next http.Handler) http.Handler {
	if route.Public() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := authz.FromContext(r.Context())
		if !ok {
			if wait := lim.RetryAfter(r.RemoteAddr); wait > 0 {
				WriteRateLimited(w, r, logger, wait)
				return
			}
			res, err := v.Authenticate(r.Context(), BearerToken(r.Header.Get("Authorization")))
			if err != nil {
				WriteError(w, r, logger, err)
				return
			}
			if res.Code != verify.CodeOK {
				msg := "a valid API key is required: send Authorization: Bearer <token>"
				if res.Code == verify.CodeExpired {
					msg = "the API key has expired"
				}
				lim.Failed(r.RemoteAddr)
				WriteError(w, r, logger, fault.New(fault.CodeUnauthenticated, "%s", msg))
				return
			}
			p = res.Principal()
			r = r.WithContext(authz.WithPrincipal(r.Context(), p))
		}
		d, err := v.Authorize(r.Context(), p, route.Permission, route.Check, authz.PathNode(r.PathValue))
		if errors.Is(err, fault.ErrNotFound) {
			WriteError(w, r, logger, fault.NotFound(nodeWord(r)))
			return
		}
		if err != nil {
			WriteError(w, r, logger, err)
			return
		}
		if !d.Allowed {
			WriteError(w, r, logger, Forbidden(d.Missing))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// WriteRateLimited answers 429 (code rate_limited) with a Retry-After header
// in whole seconds, at least 1.
func WriteRateLimited(w http.ResponseWriter, r *http.Request, logger *slog.Logger, wait time.Duration) {
	secs := max(1, int64((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	WriteError(w, r, logger, fault.New(fault.CodeRateLimited, "too many failed authentications from this address; retry in %d s", secs))
}

// Forbidden is the 403 naming the permission (and scope) that is missing.
func Forbidden(missing authz.Grant) error {
	return fault.New(fault.CodeForbidden, "this API key lacks the permission %s", missing)
}

func nodeWord(r *http.Request) string {
	switch authz.PathNode(r.PathValue).Level() {
	case authz.LevelTeam:
		return "team"
	case authz.LevelProject:
		return "project"
	case authz.LevelTarget:
		return "target"
	case authz.LevelEnvironment:
		return "environment"
	}
	return "resource"
}
