// Package handler serves the read side of keys: GET /v1/api-keys (a page,
// newest first), GET /v1/api-keys/{id} (with its ETag) and GET
// /v1/permissions (the catalog and route table). Tokens never appear.
package handler

import (
	"net/http"
	"strconv"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/wire"
)

// Handlers returns the show function's handlers by operation.
func Handlers(d httpapi.Deps) map[string]http.Handler {
	return map[string]http.Handler{
		"listKeys":        List(d),
		"getKey":          Get(d),
		"listPermissions": Permissions(d),
	}
}

// ListOptions reads ?limit= and ?cursor=.
func ListOptions(r *http.Request) (directory.ListOptions, error) {
	q := r.URL.Query()
	opt := directory.ListOptions{Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > directory.MaxLimit {
			return opt, fault.Invalid("limit", "must be a whole number from 1 to %d", directory.MaxLimit)
		}
		opt.Limit = n
	}
	return opt, nil
}

// List answers a page of the caller's organization's keys.
func List(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		opt, err := ListOptions(r)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		page, err := d.Keys.List(r.Context(), caller, opt)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		namer := wire.NewNamer(d.Directory.Store(), caller.OrganizationID)
		now := d.Now()
		out := wire.Page[wire.Key]{Items: make([]wire.Key, 0, len(page.Items))}
		for _, k := range page.Items {
			wk, err := namer.Key(r.Context(), k, now)
			if err != nil {
				httpapi.WriteError(w, r, d.Logger, err)
				return
			}
			out.Items = append(out.Items, wk)
		}
		if page.Next != "" {
			out.NextCursor = &page.Next
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
	}
}

// Get answers one key with its ETag.
func Get(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		k, err := d.Keys.Get(r.Context(), caller, r.PathValue("id"))
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		WriteKey(w, r, d, caller, k, http.StatusOK)
	}
}

// WriteKey answers a key (without token) with its ETag.
func WriteKey(w http.ResponseWriter, r *http.Request, d httpapi.Deps, caller authz.Principal, k *keys.Key, status int) {
	out, err := wire.NewNamer(d.Directory.Store(), caller.OrganizationID).Key(r.Context(), k, d.Now())
	if err != nil {
		httpapi.WriteError(w, r, d.Logger, err)
		return
	}
	w.Header().Set("ETag", wire.ETag(k.Version))
	httpapi.WriteJSON(w, status, out)
}

// Permissions answers the catalog, the presets and the route table.
func Permissions(d httpapi.Deps) http.HandlerFunc {
	cat := wire.NewCatalog(d.Catalog, d.Routes)
	return func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, cat)
	}
}
