// Package handler serves the read side of keys: GET /v1/api-keys (a page,
// newest first), GET /v1/api-keys/{id} (with its ETag), GET
// /v1/api-keys/{id}/usage (its verifications per day) and GET
// /v1/permissions (the catalog and route table). Tokens never appear.
package handler

import (
	"fmt"
	"net/http"

	"github.com/dotenv/apikeys/shared/answer"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the show function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Keys, wiring.Usage} }

// Handlers returns the show function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{
		"listKeys":        d.Serve(List(d)),
		"getKey":          d.Serve(Get(d)),
		"getKeyUsage":     d.Serve(Usage(d)),
		"listPermissions": d.Serve(Permissions(d)),
	}
}

// List answers a page of the caller's organization's keys.
func List(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		opt, err := answer.ListOptions(r)
		if err != nil {
			return 0, nil, err
		}
		page, err := d.Keys.List(r.Context(), caller, opt)
		if err != nil {
			return 0, nil, err
		}
		names, err := d.Keys.Names(r.Context(), caller.OrganizationID, page.Items...)
		if err != nil {
			return 0, nil, err
		}
		now := d.Now()
		out := wire.Page[wire.Key]{Items: make([]wire.Key, 0, len(page.Items)), Unreadable: wire.NewUnreadable(page.Unreadable, keys.UnreadableMessage)}
		for _, k := range page.Items {
			out.Items = append(out.Items, wire.KeyOf(k, names, now))
		}
		if page.Next != "" {
			out.NextCursor = &page.Next
		}
		return http.StatusOK, out, nil
	}
}

// Get answers one key with its ETag.
func Get(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		k, err := d.Keys.Get(r.Context(), caller, r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return answer.Key(w, r, d, caller, k, nil)
	}
}

// Usage answers a key's verifications allowed and denied per UTC day over
// the last usage.Days days, and its last uses. Another organization's key
// is not found, as for Get.
func Usage(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		k, err := d.Keys.Get(r.Context(), caller, r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		now := d.Now()
		from, to := usage.Window(now)
		days, err := d.Usage.KeyUsage(r.Context(), k.ID, from, to)
		if err != nil {
			return 0, nil, fmt.Errorf("show: usage of key %s: %w", k.ID, err)
		}
		return http.StatusOK, wire.KeyUsageOf(k, days, now), nil
	}
}

// Permissions answers the catalog, the presets and the route table.
func Permissions(d wiring.Deps) httpapi.Endpoint {
	cat := wire.NewCatalog(d.Catalog, d.Routes)
	return func(http.ResponseWriter, *http.Request, authz.Principal) (int, any, error) {
		return http.StatusOK, cat, nil
	}
}
