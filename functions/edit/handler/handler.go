// Package handler serves PATCH /v1/api-keys/{id}: edit a key's name,
// permissions and expiry, honouring If-Match so no update is lost.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/answer"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the edit function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Keys} }

// Handlers returns the edit function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{"updateKey": d.Serve(Update(d))}
}

// Update answers 200 with the edited key and its new ETag; a stale If-Match
// answers 409.
func Update(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		expected, err := wire.ParseIfMatch(r.Header.Get("If-Match"))
		if err != nil {
			return 0, nil, err
		}
		body, err := httpapi.Decode[wire.KeySpec](w, r)
		if err != nil {
			return 0, nil, err
		}
		spec, err := body.Spec()
		if err != nil {
			return 0, nil, err
		}
		k, names, err := d.Keys.Update(r.Context(), caller, r.PathValue("id"), spec, expected)
		if err != nil {
			return 0, nil, err
		}
		return answer.Key(w, r, d, caller, k, names)
	}
}
