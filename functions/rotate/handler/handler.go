// Package handler serves POST /v1/api-keys/{id}/rotate: a new secret for
// the same key id; the old token stops working at once.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/answer"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Handlers returns the rotate function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{"rotateKey": d.Serve(Rotate(d))}
}

// Rotate answers 200 with the key and its new token. It takes no body; an
// If-Match makes it conditional on the version the caller saw.
func Rotate(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		expected, err := wire.ParseIfMatch(r.Header.Get("If-Match"))
		if err != nil {
			return 0, nil, err
		}
		c, err := d.Keys.Rotate(r.Context(), caller, r.PathValue("id"), expected)
		if err != nil {
			return 0, nil, err
		}
		return answer.WithToken(w, r, d, caller, c, http.StatusOK)
	}
}
