package gate_test

import (
	"context"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/gate"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/wiring"
)

// world is an organization with a project, a target and an environment,
// an owner, a key scoped to the environment, an expired key and another
// organization, on the embedded store.
type world struct {
	deps                 wiring.Deps
	now                  time.Time
	owner                authz.Principal
	ownerToken           string
	scopedToken          string
	expiredToken         string
	otherToken           string
	project, target, env string
}

func newWorld(t *testing.T, limits ratelimit.Config) *world {
	t.Helper()
	return newWorldCounting(t, limits, nil)
}

// newWorldCounting is newWorld with usage recorded by rec.
func newWorldCounting(t *testing.T, limits ratelimit.Config, rec verify.UsageRecorder) *world {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	w.deps = wiring.NewDeps(st, wiring.Options{Now: func() time.Time { return w.now }, AuthFailures: limits, Usage: rec})
	ctx := context.Background()
	_, owner, err := w.deps.Keys.Bootstrap(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	w.ownerToken = owner.Token
	w.owner = authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	str := func(s string) *string { return &s }
	team, err := w.deps.Directory.Create(ctx, w.owner, authz.LevelTeam, authz.Node{}, str("platform"), nil)
	if err != nil {
		t.Fatal(err)
	}
	project, err := w.deps.Directory.Create(ctx, w.owner, authz.LevelProject, authz.Node{}, str("billing"), &team.Path.Team)
	if err != nil {
		t.Fatal(err)
	}
	target, err := w.deps.Directory.Create(ctx, w.owner, authz.LevelTarget, project.Path, str("web"), nil)
	if err != nil {
		t.Fatal(err)
	}
	env, err := w.deps.Directory.Create(ctx, w.owner, authz.LevelEnvironment, target.Path, str("production"), nil)
	if err != nil {
		t.Fatal(err)
	}
	w.project, w.target, w.env = project.Path.Project, target.Path.Target, env.Path.Environment
	scoped, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{
		Name:           str("CI"),
		Permissions:    []keys.GrantInput{{Permission: "environments:read", Scope: &keys.ScopeInput{Level: "environment", ID: w.env}}},
		PermissionsSet: true,
		Expiration:     str("never"),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.scopedToken = scoped.Token
	expiring, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{Name: str("short"), AllowAll: new(true), Expiration: str("30d")})
	if err != nil {
		t.Fatal(err)
	}
	w.expiredToken = expiring.Token
	_, other, err := w.deps.Keys.Bootstrap(ctx, "Other Inc")
	if err != nil {
		t.Fatal(err)
	}
	w.otherToken = other.Token
	w.now = w.now.Add(31 * 24 * time.Hour) // the 30-day key has expired
	return w
}

func (w *world) envParams(env string) func(string) string {
	m := map[string]string{"project": w.project, "target": w.target, "environment": env}
	return func(name string) string { return m[name] }
}

// TestDecisions is the gate's decision table, for the three doors: a route
// (the guard), an API Gateway resource (the authorizer) and a permission
// (POST /v1/verify).
func TestDecisions(t *testing.T) {
	w := newWorld(t, ratelimit.Config{})
	g := w.deps.Gate
	ctx := context.Background()
	getEnv, ok := w.deps.Routes.Find(http.MethodGet, "/v1/projects/{project}/targets/{target}/environments/{environment}")
	if !ok {
		t.Fatal("no getEnvironment route")
	}
	deleteEnv, _ := w.deps.Routes.Find(http.MethodDelete, getEnv.Pattern)
	tok := func(s string) gate.Caller { return gate.Caller{Token: s} }
	owner := w.owner
	for _, tc := range []struct {
		name    string
		caller  gate.Caller
		route   authz.Route
		env     string
		outcome gate.Outcome
		auth    verify.Code
	}{
		{"no token", tok(""), getEnv, w.env, gate.Unauthenticated, verify.CodeMalformed},
		{"malformed token", tok("dotenv_nope"), getEnv, w.env, gate.Unauthenticated, verify.CodeMalformed},
		{"expired key", tok(w.expiredToken), getEnv, w.env, gate.Unauthenticated, verify.CodeExpired},
		{"owner", tok(w.ownerToken), getEnv, w.env, gate.Allowed, verify.CodeOK},
		{"principal already authenticated", gate.Caller{Principal: &owner}, getEnv, w.env, gate.Allowed, verify.CodeOK},
		{"scoped key on its environment", tok(w.scopedToken), getEnv, w.env, gate.Allowed, verify.CodeOK},
		{"scoped key without the permission", tok(w.scopedToken), deleteEnv, w.env, gate.Forbidden, verify.CodeOK},
		{"scoped key on a missing environment", tok(w.scopedToken), getEnv, "env_missing", gate.NotFound, verify.CodeOK},
		{"another organization's owner (organization-wide: the handler answers 404)", tok(w.otherToken), getEnv, w.env, gate.Allowed, verify.CodeOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := g.Route(ctx, tc.caller, tc.route, w.envParams(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tc.outcome || d.Auth != tc.auth {
				t.Errorf("Route: outcome %s (auth %q), want %s (auth %q)", d.Outcome, d.Auth, tc.outcome, tc.auth)
			}
			// The authorizer's door decides the same.
			r, err := g.Resource(ctx, tc.caller, tc.route.Method, tc.route.Pattern, w.envParams(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != d.Outcome || r.Auth != d.Auth || r.Missing != d.Missing {
				t.Errorf("Resource: %s (auth %q, missing %v), Route: %s (auth %q, missing %v)", r.Outcome, r.Auth, r.Missing, d.Outcome, d.Auth, d.Missing)
			}
		})
	}

	t.Run("unknown resource", func(t *testing.T) {
		d, err := g.Resource(ctx, tok(w.ownerToken), "GET", "/v1/nothing", w.envParams(w.env))
		if err != nil {
			t.Fatal(err)
		}
		if d.Outcome != gate.UnknownRoute {
			t.Errorf("outcome %s, want unknown_route", d.Outcome)
		}
		d, err = g.Resource(ctx, tok("dotenv_nope"), "GET", "/v1/nothing", w.envParams(w.env))
		if err != nil {
			t.Fatal(err)
		}
		if d.Outcome != gate.Unauthenticated {
			t.Errorf("a bad token on an unknown resource: outcome %s, want unauthenticated", d.Outcome)
		}
	})

	envNode := authz.Node{Project: w.project, Target: w.target, Environment: w.env}
	for _, tc := range []struct {
		name    string
		token   string
		perm    string
		node    authz.Node
		outcome gate.Outcome
	}{
		{"no permission asked", w.scopedToken, "", authz.Node{}, gate.Allowed},
		{"scoped key on its environment", w.scopedToken, "environments:read", envNode, gate.Allowed},
		{"scoped key lacks the permission", w.scopedToken, "environments:delete", envNode, gate.Forbidden},
		// Verify always resolves the node: another organization's
		// resource is never allowed, even to an organization-wide key.
		{"another organization's owner", w.otherToken, "environments:read", envNode, gate.NotFound},
		{"expired key", w.expiredToken, "environments:read", envNode, gate.Unauthenticated},
	} {
		t.Run("permission/"+tc.name, func(t *testing.T) {
			d, err := g.Permission(ctx, tok(tc.token), tc.perm, tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tc.outcome {
				t.Errorf("outcome %s, want %s", d.Outcome, tc.outcome)
			}
			if (d.Outcome == gate.Forbidden || d.Outcome == gate.NotFound) && d.Missing.Permission != tc.perm {
				t.Errorf("missing %v, want the permission %s", d.Missing, tc.perm)
			}
		})
	}
}

// TestFailedAuthenticationsAreLimited: every door that names the client
// spends its budget on a failed authentication only, and a spent budget is
// decided RateLimited before the token is read, a valid one included.
func TestFailedAuthenticationsAreLimited(t *testing.T) {
	w := newWorld(t, ratelimit.Config{Rate: 0.001, Burst: 2})
	g := w.deps.Gate
	ctx := context.Background()
	getEnv, _ := w.deps.Routes.Find(http.MethodGet, "/v1/projects/{project}/targets/{target}/environments/{environment}")
	const client = "192.0.2.7:1234"
	for range 3 {
		if d, err := g.Route(ctx, gate.Caller{Token: w.ownerToken, Client: client}, getEnv, w.envParams(w.env)); err != nil || d.Outcome != gate.Allowed {
			t.Fatalf("valid token: %v, %v", d.Outcome, err)
		}
	}
	if d, _ := g.Route(ctx, gate.Caller{Token: "dotenv_bad", Client: client}, getEnv, w.envParams(w.env)); d.Outcome != gate.Unauthenticated {
		t.Fatalf("first bad token: %s", d.Outcome)
	}
	if d, _ := g.Permission(ctx, gate.Caller{Token: "dotenv_bad", Client: client}, "", authz.Node{}); d.Outcome != gate.Unauthenticated {
		t.Fatalf("second bad token (verify's door): %s", d.Outcome)
	}
	if wait := g.RetryAfter(client); wait <= 0 {
		t.Fatalf("RetryAfter = %v after the budget was spent", wait)
	}
	d, err := g.Route(ctx, gate.Caller{Token: w.ownerToken, Client: client}, getEnv, w.envParams(w.env))
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != gate.RateLimited || d.RetryAfter <= 0 {
		t.Errorf("valid token after the budget was spent: %s (retry after %v), want rate_limited", d.Outcome, d.RetryAfter)
	}
	// Another address, and a caller without one (the authorizer), are not limited.
	for _, c := range []string{"192.0.2.8:1", ""} {
		if d, _ := g.Route(ctx, gate.Caller{Token: w.ownerToken, Client: c}, getEnv, w.envParams(w.env)); d.Outcome != gate.Allowed {
			t.Errorf("client %q: %s, want allowed", c, d.Outcome)
		}
	}
}

// TestNetworkAllowlist: at every door a key with a network allowlist is
// decided IPNotAllowed from an address outside it (and from an unknown
// one), before its permissions, whether it comes as a token or as a
// principal the authorizer already authenticated; a refusal spends no
// budget of failed authentications (the token is genuine).
func TestNetworkAllowlist(t *testing.T) {
	w := newWorld(t, ratelimit.Config{Rate: 0.001, Burst: 1})
	g := w.deps.Gate
	ctx := context.Background()
	getEnv, _ := w.deps.Routes.Find(http.MethodGet, "/v1/projects/{project}/targets/{target}/environments/{environment}")
	office, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{
		Name: new("office"), AllowAll: new(true), Expiration: new("never"),
		AllowedCIDRs: []string{"203.0.113.0/24", "2001:db8::/32"}, AllowedCIDRsSet: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	principal := authz.Principal{OrganizationID: office.Key.OrganizationID, KeyID: office.Key.ID, Access: office.Key.Access}
	const client = "192.0.2.9:1"
	for _, tc := range []struct {
		addr string // "" = unknown
		want gate.Outcome
	}{
		{"203.0.113.10", gate.Allowed},
		{"2001:db8::10", gate.Allowed},
		{"::ffff:203.0.113.10", gate.Allowed},
		{"198.51.100.1", gate.IPNotAllowed},
		{"2001:db9::1", gate.IPNotAllowed},
		{"", gate.IPNotAllowed},
	} {
		var a netip.Addr
		if tc.addr != "" {
			a = netip.MustParseAddr(tc.addr)
		}
		doors := map[string]func() (gate.Decision, error){
			"route": func() (gate.Decision, error) {
				return g.Route(ctx, gate.Caller{Token: office.Token, Client: client, Addr: a}, getEnv, w.envParams(w.env))
			},
			"resource": func() (gate.Decision, error) {
				return g.Resource(ctx, gate.Caller{Token: office.Token, Addr: a}, http.MethodGet, getEnv.Pattern, w.envParams(w.env))
			},
			"permission": func() (gate.Decision, error) {
				return g.Permission(ctx, gate.Caller{Token: office.Token, Client: client, Addr: a}, "secrets:read", authz.Node{})
			},
			"principal": func() (gate.Decision, error) {
				return g.Route(ctx, gate.Caller{Principal: &principal, Client: client, Addr: a}, getEnv, w.envParams(w.env))
			},
		}
		for door, decide := range doors {
			d, err := decide()
			if err != nil || d.Outcome != tc.want {
				t.Errorf("%s from %q: %v, %v; want %s", door, tc.addr, d.Outcome, err, tc.want)
			}
			if tc.want == gate.IPNotAllowed {
				if d.Auth != verify.CodeIPNotAllowed || fault.CodeOf(d.Err()) != fault.CodeIPNotAllowed {
					t.Errorf("%s from %q: auth %s, error %v", door, tc.addr, d.Auth, d.Err())
				}
				if tc.addr != "" && !strings.Contains(d.Err().Error(), netip.MustParseAddr(tc.addr).Unmap().String()) {
					t.Errorf("%s: the refusal does not name the address: %v", door, d.Err())
				}
			}
		}
	}
	if wait := g.RetryAfter(client); wait != 0 {
		t.Errorf("refusals spent the client's budget: retry after %v", wait)
	}
}
