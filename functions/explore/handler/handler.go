// Package handler serves POST /v1/api-keys/{id}/explore, the API Explorer's
// backend.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
)

// Config is what the explorer needs beyond the shared dependencies.
type Config struct {
	// BaseURL is this deployment's own API base URL; the explorer calls
	// nothing else.
	BaseURL string
	// Client makes the calls.
	Client *http.Client
}

// Handlers returns the explore function's handlers by operation.
func Handlers(d httpapi.Deps, cfg Config) map[string]http.Handler {
	return map[string]http.Handler{"exploreKey": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// TEMPORARY until the explorer lands (issue 6).
		httpapi.WriteError(w, r, d.Logger, fault.New(fault.CodeUnavailable, "the explorer is not available yet"))
	})}
}
