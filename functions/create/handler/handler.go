// Package handler serves POST /v1/api-keys: create a key and show its token
// once.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

// Handlers returns the create function's handlers by operation.
func Handlers(d httpapi.Deps) map[string]http.Handler {
	return map[string]http.Handler{"createKey": Create(d)}
}

// Create answers 201 with the new key and its token.
func Create(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		var body wire.KeySpec
		if err := httpapi.DecodeJSON(w, r, &body); err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		spec, err := body.Spec()
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		c, err := d.Keys.Create(r.Context(), caller, spec)
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
		w.Header().Set("Location", "/v1/api-keys/"+c.Key.ID)
		w.Header().Set("ETag", wire.ETag(c.Key.Version))
		httpapi.WriteJSON(w, http.StatusCreated, out)
	}
}
