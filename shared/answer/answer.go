// Package answer holds what several operations answer alike: a key with its
// ETag, a new or rotated key with its token, and the ?limit=&cursor= of a
// list. It sits below the handler packages so that no operation imports
// another's (each Lambda links only its own operation).
package answer

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

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

// Key answers a key (never its token) with its ETag; known holds the names
// of scope nodes the service call already read (nil: none), which are not
// read again.
func Key(w http.ResponseWriter, r *http.Request, d wiring.Deps, caller authz.Principal, k *keys.Key, known keys.Names) (int, any, error) {
	names, err := d.Keys.Complete(r.Context(), caller.OrganizationID, known, k)
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("ETag", wire.ETag(k.Version))
	return http.StatusOK, wire.KeyOf(k, names, d.Now()), nil
}

// WithToken answers a new or rotated key with its token, shown this once.
func WithToken(w http.ResponseWriter, r *http.Request, d wiring.Deps, caller authz.Principal, c keys.Created, status int) (int, any, error) {
	names, err := d.Keys.Complete(r.Context(), caller.OrganizationID, c.Names, c.Key)
	if err != nil {
		return 0, nil, err
	}
	out := wire.KeyOf(c.Key, names, d.Now())
	out.Token = c.Token
	w.Header().Set("ETag", wire.ETag(c.Key.Version))
	return status, out, nil
}
