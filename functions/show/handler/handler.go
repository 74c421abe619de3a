// Package handler serves the read side of keys: GET /v1/api-keys (a page,
// newest first), GET /v1/api-keys/{id} (with its ETag) and GET
// /v1/permissions (the catalog and route table). Tokens never appear.
package handler

import (
	"net/http"

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
		"listKeys":        d.Serve(List(d)),
		"getKey":          d.Serve(Get(d)),
		"listPermissions": d.Serve(Permissions(d)),
	}
}

// ListOptions reads ?limit= (1 to directory.MaxLimit) and ?cursor=
// (httpapi.QueryInt, httpapi.QueryString), answering the errors of both at
// once.
func ListOptions(r *http.Request) (directory.ListOptions, error) {
	q := r.URL.Query()
	var fields fault.Fields
	limit, _, err := httpapi.QueryInt(q, "limit", 1, directory.MaxLimit)
	if err := fields.Check(err); err != nil {
		return directory.ListOptions{}, err
	}
	cursor, err := httpapi.QueryString(q, "cursor", httpapi.MaxCursorBytes)
	if err := fields.Check(err); err != nil {
		return directory.ListOptions{}, err
	}
	if err := fields.Err(); err != nil {
		return directory.ListOptions{}, err
	}
	return directory.ListOptions{Limit: limit, Cursor: cursor}, nil
}

// List answers a page of the caller's organization's keys.
func List(d httpapi.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		opt, err := ListOptions(r)
		if err != nil {
			return 0, nil, err
		}
		page, err := d.Keys.List(r.Context(), caller, opt)
		if err != nil {
			return 0, nil, err
		}
		namer := wire.NewNamer(d.Directory.Store(), caller.OrganizationID)
		now := d.Now()
		out := wire.Page[wire.Key]{Items: make([]wire.Key, 0, len(page.Items)), Unreadable: wire.NewUnreadable(page.Unreadable, keys.UnreadableMessage)}
		for _, k := range page.Items {
			wk, err := namer.Key(r.Context(), k, now)
			if err != nil {
				return 0, nil, err
			}
			out.Items = append(out.Items, wk)
		}
		if page.Next != "" {
			out.NextCursor = &page.Next
		}
		return http.StatusOK, out, nil
	}
}

// Get answers one key with its ETag.
func Get(d httpapi.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		k, err := d.Keys.Get(r.Context(), caller, r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return KeyAnswer(w, r, d, caller, k)
	}
}

// KeyAnswer answers a key (never its token) with its ETag.
func KeyAnswer(w http.ResponseWriter, r *http.Request, d httpapi.Deps, caller authz.Principal, k *keys.Key) (int, any, error) {
	out, err := wire.NewNamer(d.Directory.Store(), caller.OrganizationID).Key(r.Context(), k, d.Now())
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("ETag", wire.ETag(k.Version))
	return http.StatusOK, out, nil
}

// Permissions answers the catalog, the presets and the route table.
func Permissions(d httpapi.Deps) httpapi.Endpoint {
	cat := wire.NewCatalog(d.Catalog, d.Routes)
	return func(http.ResponseWriter, *http.Request, authz.Principal) (int, any, error) {
		return http.StatusOK, cat, nil
	}
}
