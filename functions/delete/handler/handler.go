// Package handler serves DELETE /v1/api-keys/{id}: revoke a key at once.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the delete function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Keys} }

// Handlers returns the delete function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{"deleteKey": d.Serve(Delete(d))}
}

// Delete answers 204; a key already deleted answers 404.
func Delete(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		return http.StatusNoContent, nil, d.Keys.Delete(r.Context(), caller, r.PathValue("id"))
	}
}
