// Package gate is the one place a request is authenticated and authorized,
// for the three doors of the service: the guard in front of every route
// (the single binary and each Lambda function), the REST API's REQUEST
// authorizer (shared/lambdahttp) and POST /v1/verify. Each takes a token,
// or a principal already authenticated (the authorizer's, carried by API
// Gateway), finds the node the request names, authorizes it with the same
// code and gets one Decision; only how a Decision is answered differs (a
// problem+json status, an IAM policy, a verify answer).
//
// Every decision on a token that named a real key and matched its digest
// is counted on the key (verify.Verifier.RecordUse): allowed, forbidden
// (also a node of another organization, or a route the table does not
// know) or expired. A caller that came as a principal was counted by the
// door that authenticated it.
//
// Failed authentications spend the client address's budget
// (shared/ratelimit): a spent budget is decided RateLimited before the token
// is read, and a valid token never spends anything.
package gate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/verify"
)

// Outcome is what the gate decided.
type Outcome int

// The outcomes of a decision.
const (
	// Allowed: the caller may go on.
	Allowed Outcome = iota
	// RateLimited: the client spent its budget of failed authentications;
	// the token was not read (Decision.RetryAfter says for how long).
	RateLimited
	// Unauthenticated: no token, or a malformed, unknown or expired one
	// (Decision.Auth says which).
	Unauthenticated
	// Forbidden: the caller lacks Decision.Missing.
	Forbidden
	// NotFound: the node the request names is not in the caller's
	// organization, or its path disagrees with the directory. Anything of
	// another organization looks missing, never forbidden.
	NotFound
	// UnknownRoute: the route table has no such method and resource.
	UnknownRoute
	// IPNotAllowed: a live key used from an address outside its network
	// allowlist (docs/security.md, "Network allowlists"). It spends no
	// budget of failed authentications: the token is genuine.
	IPNotAllowed
)

var outcomeNames = [...]string{"allowed", "rate_limited", "unauthenticated", "forbidden", "not_found", "unknown_route", "ip_not_allowed"}

// String names the outcome (for logs).
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Caller is who asks: a token, or a principal that was already
// authenticated, and the client's address.
type Caller struct {
	// Token is the bearer token ("" when there is none).
	Token string
	// Principal, when set, was authenticated before (the API Gateway
	// authorizer's): the token is not checked again nor rate limited.
	Principal *authz.Principal
	// Client is the address failed authentications are counted for; ""
	// counts none.
	Client string
	// IP is the client's address for the key's last use ("": Client
	// without its port); UserAgent its User-Agent.
	IP, UserAgent string
	// Addr is the client's address the key's network allowlist is
	// checked against (the connection's, a trusted proxy's
	// X-Forwarded-For, API Gateway's sourceIp or verify's client_ip). The
	// zero Addr is unknown: only a key without allowlist passes.
	Addr netip.Addr
}

// ip is the client's address for the key's last use.
func (c Caller) ip() string {
	if c.IP != "" {
		return c.IP
	}
	if host, _, err := net.SplitHostPort(c.Client); err == nil {
		return host
	}
	return c.Client
}

// Decision is the gate's answer.
type Decision struct {
	Outcome Outcome
	// Auth is verify.CodeOK once authenticated, otherwise why not (on
	// Unauthenticated).
	Auth verify.Code
	// Key is the token's key (nil when the caller came as a principal).
	Key *keys.Key
	// Previous is set when the token is the key's previous token, in its
	// grace period: it acts with the key's access.
	Previous bool
	// Principal is the authenticated caller.
	Principal authz.Principal
	// Route is the route decided on (Route and Resource).
	Route authz.Route
	// Named is the node the request names.
	Named authz.Node
	// Missing is what the caller lacks (Forbidden; NotFound from
	// Permission).
	Missing authz.Grant
	// RetryAfter is how long the client must wait (RateLimited).
	RetryAfter time.Duration
	// From is the address a key was refused from (IPNotAllowed).
	From netip.Addr
}

// Gate decides with one verifier, route table and limiter.
type Gate struct {
	verifier *verify.Verifier
	routes   authz.Routes
	limiter  *ratelimit.Limiter
	// trusted are the proxies whose X-Forwarded-For the guard believes.
	trusted []netip.Prefix
}

// New returns a Gate. lim limits failed authentications per client
// address (nil: none).
func New(v *verify.Verifier, routes authz.Routes, lim *ratelimit.Limiter) *Gate {
	return &Gate{verifier: v, routes: routes, limiter: lim}
}

// WithTrustedProxies returns a copy of g whose guard takes the client's
// address from X-Forwarded-For when the connection comes from one of the
// networks trusted (see ClientAddr). Without, the connection's address is
// the client's.
func (g *Gate) WithTrustedProxies(trusted []netip.Prefix) *Gate {
	c := *g
	c.trusted = authz.NormalizeNetworks(trusted)
	return &c
}

// RetryAfter returns how long client must wait before its next attempt
// (0: it may try now). The gate asks it itself before it reads a token.
func (g *Gate) RetryAfter(client string) time.Duration {
	if client == "" {
		return 0
	}
	return g.limiter.RetryAfter(client)
}

// authenticate returns the authenticated decision, or the final one (ok
// false) when the caller is rate limited or not authenticated.
func (g *Gate) authenticate(ctx context.Context, c Caller) (d Decision, ok bool, err error) {
	if c.Principal != nil {
		if !c.Principal.AllowsAddr(c.Addr) {
			return Decision{Outcome: IPNotAllowed, Auth: verify.CodeIPNotAllowed, Principal: *c.Principal, From: c.Addr}, false, nil
		}
		return Decision{Auth: verify.CodeOK, Principal: *c.Principal}, true, nil
	}
	if wait := g.RetryAfter(c.Client); wait > 0 {
		return Decision{Outcome: RateLimited, RetryAfter: wait}, false, nil
	}
	res, err := g.verifier.AuthenticateFrom(ctx, c.Token, c.Addr)
	if err != nil {
		return Decision{}, false, fmt.Errorf("gate: %w", err)
	}
	if res.Code == verify.CodeIPNotAllowed {
		// Counted on the key as denied, no failed authentication spent.
		g.verifier.RecordUse(res, usage.ReasonIPNotAllowed, verify.Client{IP: c.ip(), UserAgent: c.UserAgent})
		return Decision{Outcome: IPNotAllowed, Auth: res.Code, Key: res.Key, Previous: res.Previous, Principal: res.Principal(), From: c.Addr}, false, nil
	}
	if res.Code != verify.CodeOK {
		if c.Client != "" {
			g.limiter.Failed(c.Client)
		}
		switch res.Code {
		case verify.CodeExpired:
			g.verifier.RecordUse(res, usage.ReasonExpired, verify.Client{IP: c.ip(), UserAgent: c.UserAgent})
		case verify.CodeRevoked:
			g.verifier.RecordUse(res, usage.ReasonRevoked, verify.Client{IP: c.ip(), UserAgent: c.UserAgent})
		}
		return Decision{Outcome: Unauthenticated, Auth: res.Code}, false, nil
	}
	return Decision{Auth: verify.CodeOK, Key: res.Key, Previous: res.Previous, Principal: res.Principal()}, true, nil
}

// count records a decision on an authenticated token on its key: Allowed
// as allowed, anything else as forbidden. A principal's decision (no Key)
// counts nothing.
func (g *Gate) count(d Decision, c Caller) {
	if d.Key == nil {
		return
	}
	reason := usage.ReasonForbidden
	if d.Outcome == Allowed {
		reason = ""
	}
	g.verifier.RecordUse(verify.Result{Code: verify.CodeOK, Key: d.Key, Previous: d.Previous}, reason, verify.Client{IP: c.ip(), UserAgent: c.UserAgent})
}

// Route decides a call of route whose path parameters param returns (the
// node is named by the team, project, target and environment parameters).
// A store failure is an error.
func (g *Gate) Route(ctx context.Context, c Caller, route authz.Route, param func(string) string) (Decision, error) {
	d, ok, err := g.authenticate(ctx, c)
	if !ok || err != nil {
		return d, err
	}
	d, err = g.authorize(ctx, d, route, authz.PathNode(param))
	if err == nil {
		g.count(d, c)
	}
	return d, err
}

// Resource decides an API Gateway call: the route is found by the method
// and the resource pattern (as API Gateway names it), after the caller is
// authenticated, so a bad token on an unknown route is Unauthenticated.
func (g *Gate) Resource(ctx context.Context, c Caller, method, resource string, param func(string) string) (Decision, error) {
	d, ok, err := g.authenticate(ctx, c)
	if !ok || err != nil {
		return d, err
	}
	route, found := g.routes.Find(strings.ToUpper(method), resource)
	if !found {
		d.Outcome = UnknownRoute
		g.count(d, c)
		return d, nil
	}
	d, err = g.authorize(ctx, d, route, authz.PathNode(param))
	if err == nil {
		g.count(d, c)
	}
	return d, err
}

func (g *Gate) authorize(ctx context.Context, d Decision, route authz.Route, named authz.Node) (Decision, error) {
	d.Route, d.Named = route, named
	a, err := g.verifier.Authorize(ctx, d.Principal, route.Permission, route.Check, named)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		d.Outcome = NotFound
	case err != nil:
		return Decision{}, fmt.Errorf("gate: %s %s: %w", route.Method, route.Pattern, err)
	case !a.Allowed:
		d.Outcome, d.Missing = Forbidden, a.Missing
	default:
		d.Outcome = Allowed
	}
	return d, nil
}

// Permission decides POST /v1/verify's question: may the caller use perm
// on the node named ("" perm: is the caller authenticated)? The node is
// resolved even for an organization-wide key, so that another
// organization's node is never allowed: it is NotFound, with Missing set
// as for Forbidden.
func (g *Gate) Permission(ctx context.Context, c Caller, perm string, named authz.Node) (Decision, error) {
	d, ok, err := g.authenticate(ctx, c)
	if !ok || err != nil {
		return d, err
	}
	d.Named = named
	if perm == "" {
		g.count(d, c)
		return d, nil
	}
	node, err := g.verifier.Resolve(ctx, d.Principal.OrganizationID, named)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		d.Outcome, d.Missing = NotFound, authz.Grant{Permission: perm, Scope: named}
	case err != nil:
		return Decision{}, fmt.Errorf("gate: %w", err)
	case d.Principal.Allows(g.verifier.Catalog(), perm, node):
		d.Outcome = Allowed
	default:
		d.Outcome, d.Missing = Forbidden, authz.Grant{Permission: perm, Scope: node}
	}
	g.count(d, c)
	return d, nil
}

// Err is the error an HTTP answer gives for a decision that is neither
// Allowed (nil) nor RateLimited (answered with Retry-After, see
// httpapi.WriteRateLimited).
func (d Decision) Err() error {
	switch d.Outcome {
	case Allowed:
		return nil
	case Unauthenticated:
		switch d.Auth {
		case verify.CodeExpired:
			return fault.New(fault.CodeUnauthenticated, "the API key has expired")
		case verify.CodeRevoked:
			return fault.New(fault.CodeUnauthenticated, "the API key was revoked because its token was reported as leaked: rotate the key to get a new token")
		}
		return fault.New(fault.CodeUnauthenticated, "a valid API key is required: send Authorization: Bearer <token>")
	case Forbidden:
		return d.forbidden()
	case IPNotAllowed:
		if !d.From.IsValid() {
			return fault.New(fault.CodeIPNotAllowed, "this API key may only be used from its allowed networks, and the client's address is unknown")
		}
		return fault.New(fault.CodeIPNotAllowed, "this API key may not be used from %s: it is outside the key's allowed networks", d.From.Unmap())
	case NotFound:
		return fault.NotFound(nodeWord(d.Named))
	case RateLimited:
		return fault.New(fault.CodeRateLimited, "too many failed authentications from this address")
	}
	return fault.NotFound("route")
}

// forbidden is the refusal of a Forbidden decision. A key that holds the
// permission, but only on other or narrower scopes than the one the route
// needs, is told so ("holds X only on project P; this route needs it on
// the whole organization"), not that it lacks X.
func (d Decision) forbidden() error {
	perm, need := d.Missing.Permission, d.Missing.Scope
	held := d.Principal.HeldElsewhere(perm, need)
	if len(held) == 0 {
		return fault.New(fault.CodeForbidden, "this API key lacks the permission %s", d.Missing)
	}
	where := make([]string, len(held))
	for i, n := range held {
		where[i] = authz.ScopeString(n)
	}
	return fault.New(fault.CodeForbidden, "this API key holds %s only on %s; this route needs it on %s", perm, strings.Join(where, ", "), authz.ScopeString(need))
}

func nodeWord(n authz.Node) string {
	switch n.Level() {
	case authz.LevelTeam:
		return "team"
	case authz.LevelProject:
		return "project"
	case authz.LevelTarget:
		return "target"
	case authz.LevelEnvironment:
		return "environment"
	}
	return "resource"
}
