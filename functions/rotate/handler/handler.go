// Package handler serves POST /v1/api-keys/{id}/rotate (a new secret for
// the same key id; the old token stops at once or, with a grace period,
// at the end of it) and DELETE /v1/api-keys/{id}/previous-token (the grace
// period ends at once).
package handler

import (
	"fmt"
	"io"
	"net/http"

	"github.com/dotenv/apikeys/shared/answer"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the rotate function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Keys} }

// Handlers returns the rotate function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{
		"rotateKey":           d.Serve(Rotate(d)),
		"revokePreviousToken": d.Serve(RevokePrevious(d)),
	}
}

// Rotate answers 200 with the key and its new token. The body is optional:
// {"grace_seconds": N} keeps the replaced token working for N seconds
// (absent or empty: 0). An If-Match makes it conditional on the version
// the caller saw.
func Rotate(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		expected, err := wire.ParseIfMatch(r.Header.Get("If-Match"))
		if err != nil {
			return 0, nil, err
		}
		spec, err := decodeRotate(w, r)
		if err != nil {
			return 0, nil, err
		}
		grace, err := keys.GraceSeconds(spec.GraceSeconds)
		if err != nil {
			return 0, nil, err
		}
		c, err := d.Keys.Rotate(r.Context(), caller, r.PathValue("id"), expected, grace)
		if err != nil {
			return 0, nil, err
		}
		return answer.WithToken(w, r, d, caller, c, http.StatusOK)
	}
}

// decodeRotate reads the optional rotate body. A request without a body
// (nothing sent, with or without a Content-Type) is the zero spec;
// anything else is read by the strict decoder, like every other body (a
// blank one is malformed JSON there).
func decodeRotate(w http.ResponseWriter, r *http.Request) (wire.RotateSpec, error) {
	var spec wire.RotateSpec
	if r.Body == nil || r.Body == http.NoBody {
		return spec, nil
	}
	if r.Header.Get("Content-Type") == "" {
		var one [1]byte
		n, err := io.ReadFull(r.Body, one[:])
		if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			return spec, nil
		}
		if n == 0 {
			return spec, fault.Wrap(fmt.Errorf("rotate: reading body: %w", err), fault.CodeMalformedJSON, "the body could not be read")
		}
	}
	b, err := httpapi.ReadJSONBody(w, r, nil)
	if err != nil {
		return spec, err
	}
	if len(b) == 0 {
		return spec, nil
	}
	if err := httpapi.UnmarshalStrict(b, &spec); err != nil {
		return spec, err
	}
	return spec, nil
}

// RevokePrevious answers 204 once the key's previous token stopped
// working, with the ETag of the key's new version; 404 when no grace
// period runs. An If-Match makes it conditional on the version the caller
// saw.
func RevokePrevious(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		expected, err := wire.ParseIfMatch(r.Header.Get("If-Match"))
		if err != nil {
			return 0, nil, err
		}
		k, err := d.Keys.RevokePrevious(r.Context(), caller, r.PathValue("id"), expected)
		if err != nil {
			return 0, nil, err
		}
		w.Header().Set("ETag", wire.ETag(k.Version))
		return http.StatusNoContent, nil, nil
	}
}
