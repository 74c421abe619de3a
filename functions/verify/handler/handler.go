// Package handler serves POST /v1/verify (may this token act?) and GET
// /healthz. Verification answers 200 with a decision for every well-formed
// request and never reveals whether a key exists when the token is wrong.
package handler

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/gate"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the verify function's handlers call
// beyond the base every route has (gate, catalog, routes): none.
func Services() []wiring.Service { return nil }

// Handlers returns the verify function's proxy-event handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{"verifyToken": Verify(d), "health": Health(d)}
}

// Verify answers the decision for a token, an optional permission, an
// optional resource and the optional address of the calling service's
// client (client_ip), which a key with a network allowlist must be used
// from: without client_ip the address is unknown and such a key answers
// ip_not_allowed (the address of the calling service is not its client's). Buffers come from a pool: the route is on every
// request of the services that call it.
//
// Failed decisions (malformed, not_found, expired) spend the calling
// address's budget of failed authentications (the gate's) and an address
// that spent it gets 429 from the gate before any store read: this route
// needs no credential, so without the limit it would be the cheapest way to
// try tokens. A valid token never spends anything. The gate is the one
// place that asks the limiter, once per request.
func Verify(d wiring.Deps) http.HandlerFunc {
	pool := sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
	return func(w http.ResponseWriter, r *http.Request) {
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
		resp, wait, err := decide(r.Context(), d, gate.Caller{Client: r.RemoteAddr, UserAgent: r.Header.Get("User-Agent")}, req)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		if wait > 0 {
			httpapi.WriteRateLimited(w, r, d.Logger, wait)
			return
		}
		*buf = appendResponse(body[:0], resp)
		httpapi.WriteJSONBytes(w, http.StatusOK, append(*buf, '\n'))
	}
}

// Decide verifies a request; errors are only bad requests and store
// failures. It spends no client's budget (Verify does, for its caller).
func Decide(ctx context.Context, d wiring.Deps, req wire.VerifyRequest) (wire.VerifyResponse, error) {
	resp, _, err := decide(ctx, d, gate.Caller{}, req)
	return resp, err
}

// decide is Decide with the gate counting a failed authentication for
// c.Client; wait > 0 when its budget is spent (another request of it spent
// the last unit since Verify checked). c is the calling service's
// connection: the key's last use records its address and User-Agent.
func decide(ctx context.Context, d wiring.Deps, c gate.Caller, req wire.VerifyRequest) (_ wire.VerifyResponse, wait time.Duration, _ error) {
	named := req.Resource.Node()
	if req.Permission != "" {
		if _, ok := d.Catalog.Permission(req.Permission); !ok {
			return wire.VerifyResponse{}, 0, fault.Invalid("permission", "unknown permission %q", req.Permission)
		}
	} else if named.Level() != authz.LevelOrganization {
		return wire.VerifyResponse{}, 0, fault.Invalid("resource", "name the permission to check on the resource")
	}
	var from netip.Addr
	if req.ClientIP != "" {
		a, err := netip.ParseAddr(req.ClientIP)
		if err != nil || a.Zone() != "" {
			return wire.VerifyResponse{}, 0, fault.Invalid("client_ip", "must be an IPv4 or IPv6 address such as 203.0.113.7 or 2001:db8::1")
		}
		from = a
	}
	c.Token, c.Addr = req.Token, from
	g, err := d.Gate.Permission(ctx, c, req.Permission, named)
	if err != nil {
		return wire.VerifyResponse{}, 0, err
	}
	switch g.Outcome {
	case gate.RateLimited:
		return wire.VerifyResponse{}, g.RetryAfter, nil
	case gate.Unauthenticated, gate.IPNotAllowed:
		// ip_not_allowed is not valid either: a service that only reads
		// "valid" must refuse the call.
		return wire.VerifyResponse{Code: string(g.Auth)}, 0, nil
	}
	k := g.Key
	out := wire.VerifyResponse{Valid: true, Allowed: true, Code: string(verify.CodeOK),
		Key: &wire.VerifiedKey{ID: k.ID, OrganizationID: k.OrganizationID, Name: k.Name, ExpiresAt: wire.OptTime(k.ExpiresAt)}}
	if g.Previous && k.Previous != nil {
		out.PreviousToken, out.PreviousTokenExpiresAt = true, wire.OptTime(k.Previous.ExpiresAt)
	}
	if g.Outcome == gate.Allowed {
		return out, 0, nil
	}
	// Forbidden, or NotFound: another organization's resource (or one that
	// does not exist) is never allowed.
	out.Allowed, out.Code = false, string(verify.CodeForbidden)
	out.Missing = &wire.Grant{Permission: req.Permission}
	if l := named.Level(); l != authz.LevelOrganization {
		out.Missing.Scope = &wire.Scope{Level: l.String(), ID: named.ID()}
	}
	return out, 0, nil
}

// Health answers 200 when the store answers, 503 otherwise.
func Health(d wiring.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := d.Ping(r.Context()); err != nil {
			httpapi.WriteError(w, r, d.Logger, fault.Wrap(err, fault.CodeUnavailable, "the store does not answer"))
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}
