package httpapi

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
)

// Endpoint is one operation's logic: given the request and its caller it
// returns the success status and body (set headers such as ETag on w before
// returning), or an error that becomes problem+json.
type Endpoint func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (status int, body any, err error)

// Decode reads a JSON request body into a new T with DecodeJSON's rules.
func Decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	err := DecodeJSON(w, r, &v)
	return v, err
}
