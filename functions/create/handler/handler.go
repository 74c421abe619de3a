// Package handler serves POST /v1/api-keys: create a key and show its token
// once.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/wire"
)

// Handlers returns the create function's handlers by operation.
func Handlers(d httpapi.Deps) map[string]http.Handler {
	return map[string]http.Handler{"createKey": d.Serve(Create(d))}
}

// Create answers 201 with the new key and its token.
func Create(d httpapi.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		body, err := httpapi.Decode[wire.KeySpec](w, r)
		if err != nil {
			return 0, nil, err
		}
		spec, err := body.Spec()
		if err != nil {
			return 0, nil, err
		}
		c, err := d.Keys.Create(r.Context(), caller, spec)
		if err != nil {
			return 0, nil, err
		}
		w.Header().Set("Location", "/v1/api-keys/"+c.Key.ID)
		return WithToken(w, r, d, caller, c, http.StatusCreated)
	}
}

// WithToken answers a new or rotated key with its token, shown this once.
func WithToken(w http.ResponseWriter, r *http.Request, d httpapi.Deps, caller authz.Principal, c keys.Created, status int) (int, any, error) {
	out, err := wire.NewNamer(d.Directory.Store(), caller.OrganizationID).Key(r.Context(), c.Key, d.Now())
	if err != nil {
		return 0, nil, err
	}
	out.Token = c.Token
	w.Header().Set("ETag", wire.ETag(c.Key.Version))
	return status, out, nil
}
