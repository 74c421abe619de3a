// Package handler serves POST /v1/verify (may this token act?) and GET
// /healthz. Verification answers 200 with a decision for every well-formed
// request and never reveals whether a key exists when the token is wrong.
package handler

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/wire"
)

// Handlers returns the verify function's proxy-event handlers by operation.
func Handlers(d httpapi.Deps) authz.Handlers {
	return authz.Handlers{"verifyToken": Verify(d), "health": Health(d)}
}

// Verify answers the decision for a token, an optional permission and an
// optional resource. Buffers come from a pool: the route is on every
// request of the services that call it.
//
// Failed decisions (malformed, not_found, expired) spend the calling
// address's budget of failed authentications (d.AuthFailures) and an
// address that spent it gets 429 before its body is read: this route needs
// no credential, so without the limit it would be the cheapest way to try
// tokens. A valid token never spends anything.
func Verify(d httpapi.Deps) http.HandlerFunc {
	pool := sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
	return func(w http.ResponseWriter, r *http.Request) {
		if wait := d.AuthFailures.RetryAfter(r.RemoteAddr); wait > 0 {
			httpapi.WriteRateLimited(w, r, d.Logger, wait)
			return
		}
		buf := pool.Get().(*[]byte)
		defer func() { *buf = (*buf)[:0]; pool.Put(buf) }()
		body, err := httpapi.ReadJSONBody(w, r, (*buf)[:0])
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		req, err := decodeVerifyRequest(body)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		resp, err := Decide(r.Context(), d, req)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		if !resp.Valid {
			d.AuthFailures.Failed(r.RemoteAddr)
		}
		*buf = appendResponse(body[:0], resp)
		httpapi.WriteJSONBytes(w, http.StatusOK, append(*buf, '\n'))
	}
}

// Decide verifies a request; errors are only bad requests and store
// failures.
func Decide(ctx context.Context, d httpapi.Deps, req wire.VerifyRequest) (wire.VerifyResponse, error) {
	named := req.Resource.Node()
	if req.Permission != "" {
		if _, ok := d.Catalog.Permission(req.Permission); !ok {
			return wire.VerifyResponse{}, fault.Invalid("permission", "unknown permission %q", req.Permission)
		}
	} else if named.Level() != authz.LevelOrganization {
		return wire.VerifyResponse{}, fault.Invalid("resource", "name the permission to check on the resource")
	}
	res, err := d.Verifier.Authenticate(ctx, req.Token)
	if err != nil {
		return wire.VerifyResponse{}, err
	}
	if res.Code != verify.CodeOK {
		return wire.VerifyResponse{Code: string(res.Code)}, nil
	}
	k := res.Key
	out := wire.VerifyResponse{Valid: true, Allowed: true, Code: string(verify.CodeOK),
		Key: &wire.VerifiedKey{ID: k.ID, OrganizationID: k.OrganizationID, Name: k.Name, ExpiresAt: wire.OptTime(k.ExpiresAt)}}
	if req.Permission == "" {
		return out, nil
	}
	// The resource is always resolved, even for an organization-wide key,
	// so that another organization's resource is never "allowed".
	node, err := d.Verifier.Resolve(ctx, k.OrganizationID, named)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		node = named
	case err != nil:
		return wire.VerifyResponse{}, err
	case k.Allows(d.Catalog, req.Permission, node):
		return out, nil
	}
	out.Allowed, out.Code = false, string(verify.CodeForbidden)
	out.Missing = &wire.Grant{Permission: req.Permission}
	if l := named.Level(); l != authz.LevelOrganization {
		out.Missing.Scope = &wire.Scope{Level: l.String(), ID: named.ID()}
	}
	return out, nil
}

// Health answers 200 when the store answers, 503 otherwise.
func Health(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := d.Ping(r.Context()); err != nil {
			httpapi.WriteError(w, r, d.Logger, fault.Wrap(err, fault.CodeUnavailable, "the store does not answer"))
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}
