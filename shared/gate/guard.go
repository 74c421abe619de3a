package gate

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
)

// Guard returns next behind the route's authentication and authorization.
// When the request's context already carries a principal (the Lambda
// adapter puts the API Gateway authorizer's there) the token is not checked
// again; otherwise the bearer token is verified with the same code as
// POST /v1/verify and the authorizer, so a request is never anonymous. The
// route's permission is then checked on the node its path names.
//
// A client whose budget of failed authentications is spent gets 429 before
// its token is read, even a valid one, and every 401 spends one unit. A
// request that authenticates never spends any. A key with a network
// allowlist is refused (403 ip_not_allowed) from an address outside it
// (ClientAddr). Its signature is the one httpapi.NewRouter takes.
func (g *Gate) Guard(logger *slog.Logger) func(authz.Route, http.Handler) http.Handler {
	return func(route authz.Route, next http.Handler) http.Handler {
		if route.Public() {
			if route.Function == authz.FunctionVerify {
				// verify and healthz change nothing the audit trail
				// records: the verification hot path stays untouched.
				return next
			}
			// No authentication (the leak reports: possession is proof),
			// but the changes they make are recorded with their source.
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, g.withSource(w, r))
			})
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The source first: every answer, a refusal included, carries
			// the request id.
			r = g.withSource(w, r)
			c := Caller{Client: r.RemoteAddr, UserAgent: r.Header.Get("User-Agent"), Addr: ClientAddr(r, g.trusted)}
			p, authenticated := authz.FromContext(r.Context())
			if authenticated {
				c.Principal = &p
			} else {
				c.Token = httpapi.BearerToken(r.Header.Get("Authorization"))
			}
			d, err := g.Route(r.Context(), c, route, r.PathValue)
			switch {
			case err != nil:
				httpapi.WriteError(w, r, logger, err)
			case d.Outcome == RateLimited:
				httpapi.WriteRateLimited(w, r, logger, d.RetryAfter)
			case d.Outcome != Allowed:
				httpapi.WriteError(w, r, logger, d.Err())
			default:
				if !authenticated {
					r = r.WithContext(authz.WithPrincipal(r.Context(), d.Principal))
				}
				next.ServeHTTP(w, r)
			}
		})
	}
}

// withSource puts where r came from in its context, for the audit events
// of the changes it makes (unless the Lambda adapter already did, with API
// Gateway's request id): its User-Agent, its request id (its X-Request-Id
// when short and printable, a generated one otherwise: audit.RequestIDOf),
// answered in the X-Request-Id header, and its client address as the
// network allowlist sees it (ClientAddr: behind a trusted proxy, the
// client, not the proxy).
func (g *Gate) withSource(w http.ResponseWriter, r *http.Request) *http.Request {
	if audit.SourceFrom(r.Context()) != nil {
		return r
	}
	s := audit.SourceOf(r, "")
	if a := ClientAddr(r, g.trusted); a.IsValid() {
		s.IP = a.String()
	}
	w.Header().Set(audit.RequestIDHeader, s.RequestID)
	return r.WithContext(audit.WithSource(r.Context(), s))
}

// RequestAddr is ClientAddr with the gate's trusted proxies: the address
// the guard checks a key's network allowlist against.
func (g *Gate) RequestAddr(r *http.Request) netip.Addr { return ClientAddr(r, g.trusted) }

// ClientAddr returns the address a request comes from, which a key's
// network allowlist is checked against (docs/security.md, "Network
// allowlists"): the connection's (RemoteAddr, "ip:port" in net/http, a
// bare address from the Lambda adapter, which sets API Gateway's sourceIp)
// unless the connection comes from a trusted proxy. Then X-Forwarded-For
// (every header line, in order) is read from the right: the first address
// that is not a trusted proxy is the client, so a client cannot choose its
// address by sending the header itself (what it sent is on the left).
// When every address of the header is trusted the leftmost is the client;
// without the header the proxy itself is. An entry that is not an address
// makes the client unknown (the zero Addr), which only a key without
// allowlist passes. IPv4-mapped addresses are unmapped.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	remote := parseRemote(r.RemoteAddr)
	if len(trusted) == 0 || !inAny(trusted, remote) {
		return remote
	}
	hops := r.Header.Values("X-Forwarded-For")
	client := remote
	for i := len(hops) - 1; i >= 0; i-- {
		line := hops[i]
		for line != "" {
			var hop string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				hop, line = line[j+1:], line[:j]
			} else {
				hop, line = line, ""
			}
			a, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil || a.Zone() != "" {
				return netip.Addr{}
			}
			client = a.Unmap()
			if !inAny(trusted, client) {
				return client
			}
		}
	}
	return client
}

// parseRemote reads RemoteAddr: "ip:port", "[ipv6]:port" or a bare
// address; anything else is unknown (the zero Addr).
func parseRemote(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap()
	}
	return netip.Addr{}
}

// inAny reports whether a lies in one of ps.
func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
