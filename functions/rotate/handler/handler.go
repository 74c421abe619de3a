// Package handler serves POST /v1/api-keys/{id}/rotate: a new secret for
// the same key id; the old token stops working at once.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

// Handlers returns the rotate function's handlers by operation.
func Handlers(d httpapi.Deps) map[string]http.Handler {
	return map[string]http.Handler{"rotateKey": Rotate(d)}
}

// Rotate answers 200 with the key and its new token. It takes no body; an
// If-Match makes it conditional on the version the caller saw.
func Rotate(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		expected, err := wire.ParseIfMatch(r.Header.Get("If-Match"))
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		c, err := d.Keys.Rotate(r.Context(), caller, r.PathValue("id"), expected)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		out, err := wire.NewNamer(d.Directory.Store(), caller.OrganizationID).Key(r.Context(), c.Key, d.Now())
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		out.Token = c.Token
		w.Header().Set("ETag", wire.ETag(c.Key.Version))
		httpapi.WriteJSON(w, http.StatusOK, out)
	}
}
