package httpapi

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
)

// Endpoint is one operation's logic: given the request and its caller it
// returns the success status and body (set headers such as ETag on w before
// returning), or an error that becomes problem+json.
type Endpoint func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (status int, body any, err error)

// Serve adapts an Endpoint to net/http: the caller comes from the request's
// context (put there by the Guard or the Lambda adapter), errors are written
// as problem+json, 204 carries no body, anything else is JSON.
func (d Deps) Serve(e Endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		status, body, err := e(w, r, caller)
		switch {
		case err != nil:
			WriteError(w, r, d.Logger, err)
		case status == http.StatusNoContent:
			WriteNoContent(w)
		default:
			WriteJSON(w, status, body)
		}
	}
}

// Decode reads a JSON request body into a new T with DecodeJSON's rules.
func Decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	err := DecodeJSON(w, r, &v)
	return v, err
}
