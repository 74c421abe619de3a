// Package verify answers whether a token may act: it parses the token (no
// I/O for a malformed one), reads its key by primary key, compares the
// verifier's digest in constant time, checks expiry and then the grants. The
// HTTP verify route, the single binary's middleware and the Lambda authorizer
// all call it, so they cannot disagree.
package verify

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/usage"
)

// Code is the outcome of a verification.
type Code string

// The outcomes of a verification (docs/http-api.md, "Verify").
const (
	CodeOK        Code = "ok"
	CodeMalformed Code = "malformed"
	CodeNotFound  Code = "not_found"
	CodeExpired   Code = "expired"
	CodeForbidden Code = "forbidden"
	// CodeRevoked: the token is the key's, but the key was revoked (its
	// token was reported as leaked).
	CodeRevoked Code = "revoked"
	// CodeIPNotAllowed: a live key used from an address outside its
	// network allowlist (or from an unknown address, when it has one).
	CodeIPNotAllowed Code = "ip_not_allowed"
)

// Result is the outcome of authenticating a token.
type Result struct {
	Code Code
	// Key is set when Code is CodeOK (or CodeForbidden after Authorize),
	// CodeExpired, CodeRevoked and CodeIPNotAllowed (to count the denial
	// on the key, never to act as it). It may be shared with the store's
	// cache: read-only.
	Key *keys.Key
	// Previous is set when the token is the key's previous token, still
	// in its grace period (Key.Previous.ExpiresAt says until when).
	Previous bool
}

// Valid reports whether the token named a live key.
func (r Result) Valid() bool { return r.Code == CodeOK || r.Code == CodeForbidden }

// Principal returns the caller the key represents.
func (r Result) Principal() authz.Principal {
	return authz.Principal{OrganizationID: r.Key.OrganizationID, KeyID: r.Key.ID, KeyName: r.Key.Name, Access: r.Key.Access}
}

// UsageRecorder counts verifications per key (usage.Recorder). Record is
// called on the verification path, once per verification of a token that
// named a real key and matched its digest, and must not block.
type UsageRecorder interface {
	Record(id string, u usage.Use)
}

// Verifier checks tokens and decisions.
type Verifier struct {
	keys    keys.Store
	dir     directory.Store
	catalog *authz.Catalog
	now     func() time.Time
	usage   UsageRecorder
}

// New returns a Verifier. usage may be nil to record nothing.
func New(ks keys.Store, dir directory.Store, catalog *authz.Catalog, now func() time.Time, usage UsageRecorder) *Verifier {
	return &Verifier{keys: ks, dir: dir, catalog: catalog, now: now, usage: usage}
}

// Catalog returns the catalog the verifier decides with.
func (v *Verifier) Catalog() *authz.Catalog { return v.catalog }

// Authenticate checks a token: the key's current token, or its previous
// token while the grace period of the last rotation runs (docs/design.md,
// "Rotation with a grace period"). A malformed token costs no I/O; a
// well-formed one costs one read by primary key. An error is returned only
// when the store fails (never for a bad token), and never mentions the
// token. It does not check the key's network allowlist: a use of the key
// goes through AuthenticateFrom.
func (v *Verifier) Authenticate(ctx context.Context, tok string) (Result, error) {
	return v.authenticate(ctx, tok, netip.Addr{}, false)
}

// AuthenticateFrom is Authenticate for a use of the token from address
// from: a live key whose allowlist does not hold from (an invalid from is
// an unknown address, which only a key without allowlist passes) answers
// CodeIPNotAllowed, with Key set (to count the denial on the key, never to
// act as it). The check is a Contains per network of the key as the store
// decoded it.
func (v *Verifier) AuthenticateFrom(ctx context.Context, tok string, from netip.Addr) (Result, error) {
	return v.authenticate(ctx, tok, from, true)
}

func (v *Verifier) authenticate(ctx context.Context, tok string, from netip.Addr, checkFrom bool) (Result, error) {
	p, err := token.Parse(tok)
	if err != nil {
		return Result{Code: CodeMalformed}, nil
	}
	k, err := v.keys.GetKey(ctx, p.KeyID())
	if err != nil {
		var unreadable *keys.UnreadableError
		if errors.Is(err, fault.ErrNotFound) || errors.As(err, &unreadable) {
			// Hash anyway so an unknown selector costs what a wrong
			// verifier costs. A stored key that cannot be decoded fails
			// closed, as not found (the store has logged it).
			p.Matches(token.Digest{})
			return Result{Code: CodeNotFound}, nil
		}
		return Result{}, fmt.Errorf("verify: reading key: %w", err)
	}
	// The verifier is hashed once and compared in constant time with the
	// current digest and, while its grace period runs, the previous one.
	// A previous token past its instant fails here, at read time.
	d := p.Digest()
	now := v.now()
	previous := false
	if !d.Equal(k.SecretDigest) {
		prev := k.PreviousAt(now)
		if prev == nil || !d.Equal(prev.Digest) {
			return Result{Code: CodeNotFound}, nil
		}
		previous = true
	}
	if k.Expired(now) {
		return Result{Code: CodeExpired, Key: k}, nil
	}
	if k.Revoked != nil {
		return Result{Code: CodeRevoked, Key: k}, nil
	}
	if checkFrom && !k.AllowsAddr(from) {
		return Result{Code: CodeIPNotAllowed, Key: k, Previous: previous}, nil
	}
	return Result{Code: CodeOK, Key: k, Previous: previous}, nil
}

// Client is where a verification came from, as the door that verified
// sees it (for the key's last use).
type Client struct {
	IP, UserAgent string
}

// RecordUse counts the decision on a verification whose token matched
// res.Key: reason "" for allowed, otherwise why it was denied. A result
// without a key (malformed or unknown token) is not attributable and
// counts nothing.
func (v *Verifier) RecordUse(res Result, reason usage.Reason, c Client) {
	if v.usage == nil || res.Key == nil {
		return
	}
	now := v.now()
	u := usage.Use{Reason: reason, Previous: res.Previous, At: now, IP: c.IP, UserAgent: c.UserAgent, Stored: res.Key.LastUsedAt}
	switch {
	case reason == usage.ReasonExpired, reason == usage.ReasonRevoked, reason == usage.ReasonIPNotAllowed:
		// Counted, but an expired or revoked key's last use stays its
		// last authenticated one, and so does a key's refused from
		// outside its networks.
		u.Stored = now
	case res.Previous && res.Key.Previous != nil:
		u.Stored, u.PreviousDigest = res.Key.Previous.LastUsedAt, res.Key.Previous.Digest
	}
	v.usage.Record(res.Key.ID, u)
}

// Decision is the outcome of an authorization check.
type Decision struct {
	Allowed bool
	// Missing names what was needed when not allowed.
	Missing authz.Grant
}

// Authorize decides whether principal p may use permission perm on the
// node whose ids the request names (any of its levels; ancestors missing
// from named are read from the directory). A node that does not exist in
// p's organization, or whose path disagrees with named, answers
// fault.ErrNotFound. check is authz.CheckNode or authz.CheckReach.
func (v *Verifier) Authorize(ctx context.Context, p authz.Principal, perm string, check authz.Check, named authz.Node) (Decision, error) {
	switch check {
	case authz.CheckPublic, authz.CheckAuthenticated:
		return Decision{Allowed: true}, nil
	}
	if p.Expired(v.now()) {
		return Decision{Missing: authz.Grant{Permission: perm, Scope: named}}, nil
	}
	if p.OrganizationWide(v.catalog, perm) {
		// Allowed on every node; whether the node exists is the handler's
		// business (it answers 404).
		return Decision{Allowed: true}, nil
	}
	node, err := v.Resolve(ctx, p.OrganizationID, named)
	if err != nil {
		return Decision{}, err
	}
	var ok bool
	if check == authz.CheckReach {
		ok = p.Reaches(v.catalog, perm, node)
	} else {
		ok = p.Allows(v.catalog, perm, node)
	}
	if ok {
		return Decision{Allowed: true}, nil
	}
	return Decision{Missing: authz.Grant{Permission: perm, Scope: node}}, nil
}

// Resolve returns the full path of the deepest node named, read from the
// directory, after checking that it lies in org and agrees with every id
// named. The organization (zero Node) resolves to itself without I/O.
func (v *Verifier) Resolve(ctx context.Context, org string, named authz.Node) (authz.Node, error) {
	if named.Level() == authz.LevelOrganization {
		return authz.Node{}, nil
	}
	n, err := v.dir.GetNode(ctx, org, named.ID())
	if err != nil {
		return authz.Node{}, fmt.Errorf("verify: resolving %s %s: %w", named.Level(), named.ID(), err)
	}
	if n.Level() != named.Level() || !n.Path.Consistent(named) {
		return authz.Node{}, fmt.Errorf("verify: %s %s is not at that path: %w", named.Level(), named.ID(), fault.ErrNotFound)
	}
	return n.Path, nil
}
