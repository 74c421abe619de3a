// Package handler serves POST /v1/api-keys: create a key and show its token
// once.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/answer"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the create function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Keys} }

// Handlers returns the create function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{"createKey": d.Serve(Create(d))}
}

// Create answers 201 with the new key and its token.
func Create(d wiring.Deps) httpapi.Endpoint {
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
		return answer.WithToken(w, r, d, caller, c, http.StatusCreated)
	}
}
