package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
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
func Guard(v *verify.Verifier, route authz.Route, logger *slog.Logger, next http.Handler) http.Handler {
	if route.Public() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := authz.FromContext(r.Context())
		if !ok {
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
