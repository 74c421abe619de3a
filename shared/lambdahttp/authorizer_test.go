package lambdahttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/lambdahttp"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/wiring"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// world is an organization with a hierarchy and keys, on the embedded store.
type world struct {
	deps                   wiring.Deps
	clock                  *clock
	owner                  authz.Principal
	ownerToken             string
	team, project, target  string
	env, otherEnv          string
	scopedToken, scopedKey string
	expiringToken          string
	other                  string // an allow-all token of another organization
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{clock: &clock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}}
	w.deps = wiring.NewDeps(st, wiring.Options{Now: w.clock.Now})
	ctx := context.Background()
	_, owner, err := w.deps.Keys.Bootstrap(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	w.ownerToken = owner.Token
	w.owner = authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	name := func(s string) *string { return &s }
	node := func(level authz.Level, parent authz.Node, n string, team *string) authz.Node {
		t.Helper()
		created, err := w.deps.Directory.Create(ctx, w.owner, level, parent, name(n), team)
		if err != nil {
			t.Fatalf("creating %s %s: %v", level, n, err)
		}
		return created.Path
	}
	team := node(authz.LevelTeam, authz.Node{}, "platform", nil)
	project := node(authz.LevelProject, authz.Node{}, "billing", &team.Team)
	target := node(authz.LevelTarget, project, "web", nil)
	env := node(authz.LevelEnvironment, target, "production", nil)
	other := node(authz.LevelEnvironment, target, "staging", nil)
	w.team, w.project, w.target, w.env, w.otherEnv = team.Team, project.Project, target.Target, env.Environment, other.Environment

	scoped, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{
		Name: name("CI deploy"),
		Permissions: []keys.GrantInput{
			{Permission: "environments:read", Scope: &keys.ScopeInput{Level: "environment", ID: w.env}},
			{Permission: "secrets:read", Scope: &keys.ScopeInput{Level: "environment", ID: w.env}},
		},
		PermissionsSet: true,
		Expiration:     name("never"),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.scopedToken, w.scopedKey = scoped.Token, scoped.Key.ID
	expiring, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{Name: name("short"), AllowAll: new(true), Expiration: name("30d")})
	if err != nil {
		t.Fatal(err)
	}
	w.expiringToken = expiring.Token
	_, stranger, err := w.deps.Keys.Bootstrap(ctx, "Other Inc")
	if err != nil {
		t.Fatal(err)
	}
	w.other = stranger.Token
	return w
}

// request is a REQUEST authorizer event as API Gateway sends it.
func request(method, resource, path string, params map[string]string, headers map[string]string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	mv := map[string][]string{}
	for k, v := range headers {
		mv[k] = []string{v}
	}
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:              "REQUEST",
		MethodArn:         "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/" + method + path,
		Resource:          resource,
		Path:              path,
		HTTPMethod:        method,
		Headers:           headers,
		MultiValueHeaders: mv,
		PathParameters:    params,
	}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// TestAuthorizeDecisions is the authorizer's decision table.
func TestAuthorizeDecisions(t *testing.T) {
	w := newWorld(t)
	envPath := "/v1/projects/" + w.project + "/targets/" + w.target + "/environments/"
	envResource := "/v1/projects/{project}/targets/{target}/environments/{environment}"
	envParams := func(env string) map[string]string {
		return map[string]string{"project": w.project, "target": w.target, "environment": env}
	}
	const (
		unauthorized = "Unauthorized"
		allow        = lambdahttp.EffectAllow
		deny         = lambdahttp.EffectDeny
	)
	type tc struct {
		name string
		req  events.APIGatewayCustomAuthorizerRequestTypeRequest
		want string // Allow, Deny or Unauthorized
		key  string // principalId expected on Allow/Deny
	}
	cases := []tc{
		{"no header", request("GET", "/v1/api-keys", "/v1/api-keys", nil, nil), unauthorized, ""},
		{"not bearer", request("GET", "/v1/api-keys", "/v1/api-keys", nil, map[string]string{"Authorization": "Basic " + w.ownerToken}), unauthorized, ""},
		{"garbage token", request("GET", "/v1/api-keys", "/v1/api-keys", nil, bearer("dotenv_nope")), unauthorized, ""},
		{"token with a wrong checksum", request("GET", "/v1/api-keys", "/v1/api-keys", nil, bearer(w.ownerToken[:len(w.ownerToken)-1]+"x")), unauthorized, ""},
		{"owner, create key", request("POST", "/v1/api-keys", "/v1/api-keys", nil, bearer(w.ownerToken)), allow, w.owner.KeyID},
		{"owner, lower-case header name", request("POST", "/v1/api-keys", "/v1/api-keys", nil, map[string]string{"authorization": "bearer " + w.ownerToken}), allow, w.owner.KeyID},
		{"owner, only multi-value headers", func() events.APIGatewayCustomAuthorizerRequestTypeRequest {
			r := request("DELETE", "/v1/api-keys/{id}", "/v1/api-keys/key_x", map[string]string{"id": "key_x"}, bearer(w.ownerToken))
			r.Headers = nil
			return r
		}(), allow, w.owner.KeyID},
		{"owner, unknown route", request("GET", "/v1/secrets", "/v1/secrets", nil, bearer(w.ownerToken)), deny, w.owner.KeyID},
		{"owner, unknown method", request("PUT", "/v1/api-keys", "/v1/api-keys", nil, bearer(w.ownerToken)), deny, w.owner.KeyID},
		{"scoped, its environment", request("GET", envResource, envPath+w.env, envParams(w.env), bearer(w.scopedToken)), allow, w.scopedKey},
		{"scoped, listing its target's environments", request("GET", "/v1/projects/{project}/targets/{target}/environments", "/v1/projects/"+w.project+"/targets/"+w.target+"/environments", map[string]string{"project": w.project, "target": w.target}, bearer(w.scopedToken)), allow, w.scopedKey},
		{"scoped, another environment", request("GET", envResource, envPath+w.otherEnv, envParams(w.otherEnv), bearer(w.scopedToken)), deny, w.scopedKey},
		{"scoped, deleting its environment", request("DELETE", envResource, envPath+w.env, envParams(w.env), bearer(w.scopedToken)), deny, w.scopedKey},
		{"scoped, listing keys", request("GET", "/v1/api-keys", "/v1/api-keys", nil, bearer(w.scopedToken)), deny, w.scopedKey},
		{"scoped, an environment that does not exist", request("GET", envResource, envPath+"env_missing", envParams("env_missing"), bearer(w.scopedToken)), allow, w.scopedKey},                                                                                                             // the function answers 404
		{"scoped, its environment under the wrong project", request("GET", envResource, "/v1/projects/prj_other/targets/"+w.target+"/environments/"+w.env, map[string]string{"project": "prj_other", "target": w.target, "environment": w.env}, bearer(w.scopedToken)), allow, w.scopedKey}, // the function answers 404
		{"scoped, permissions catalog (any valid token)", request("GET", "/v1/permissions", "/v1/permissions", nil, bearer(w.scopedToken)), allow, w.scopedKey},
		{"another organization's owner on this environment", request("GET", envResource, envPath+w.env, envParams(w.env), bearer(w.other)), allow, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := lambdahttp.Authorize(context.Background(), w.deps.Gate, w.deps.Logger, c.req)
			if c.want == unauthorized {
				if !errors.Is(err, lambdahttp.ErrUnauthorized) || err.Error() != "Unauthorized" {
					t.Fatalf("err = %v, want exactly Unauthorized (answer %+v)", err, resp)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := resp.PolicyDocument.Statement
			if resp.PolicyDocument.Version != "2012-10-17" || len(st) != 1 || st[0].Effect != c.want ||
				len(st[0].Resource) != 1 || st[0].Resource[0] != c.req.MethodArn || len(st[0].Action) != 1 || st[0].Action[0] != "execute-api:Invoke" {
				t.Fatalf("policy %+v, want %s on %s", resp.PolicyDocument, c.want, c.req.MethodArn)
			}
			p, err := lambdahttp.DecodePrincipal(resp.Context)
			if err != nil {
				t.Fatal(err)
			}
			if resp.PrincipalID != p.KeyID || (c.key != "" && p.KeyID != c.key) {
				t.Errorf("principalId %s, context key %s, want %s", resp.PrincipalID, p.KeyID, c.key)
			}
			for _, v := range resp.Context {
				if s, ok := v.(string); ok && strings.Contains(s, "dotenv_") {
					t.Errorf("the context carries a token: %v", resp.Context)
				}
			}
		})
	}
}

// TestAuthorizeLifecycle: rotation, expiry and deletion take effect on the
// very next authorizer call.
func TestAuthorizeLifecycle(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	route := func(tok string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
		return request("GET", "/v1/permissions", "/v1/permissions", nil, bearer(tok))
	}
	allowed := func(tok string) error {
		resp, err := lambdahttp.Authorize(ctx, w.deps.Gate, w.deps.Logger, route(tok))
		if err == nil && resp.PolicyDocument.Statement[0].Effect != lambdahttp.EffectAllow {
			t.Fatalf("effect %s", resp.PolicyDocument.Statement[0].Effect)
		}
		return err
	}
	if err := allowed(w.scopedToken); err != nil {
		t.Fatal(err)
	}
	rotated, err := w.deps.Keys.Rotate(ctx, w.owner, w.scopedKey, keys.AnyVersion, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := allowed(w.scopedToken); !errors.Is(err, lambdahttp.ErrUnauthorized) {
		t.Errorf("old token after rotation: %v", err)
	}
	if err := allowed(rotated.Token); err != nil {
		t.Errorf("new token: %v", err)
	}
	// With a grace period the replaced token is allowed until its end.
	graced, err := w.deps.Keys.Rotate(ctx, w.owner, w.scopedKey, keys.AnyVersion, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := allowed(rotated.Token); err != nil {
		t.Errorf("previous token in its grace period: %v", err)
	}
	if err := allowed(graced.Token); err != nil {
		t.Errorf("new token after a rotation with a grace period: %v", err)
	}
	w.clock.Add(time.Hour)
	if err := allowed(rotated.Token); !errors.Is(err, lambdahttp.ErrUnauthorized) {
		t.Errorf("previous token at the end of its grace period: %v", err)
	}
	if err := w.deps.Keys.Delete(ctx, w.owner, w.scopedKey); err != nil {
		t.Fatal(err)
	}
	if err := allowed(graced.Token); !errors.Is(err, lambdahttp.ErrUnauthorized) {
		t.Errorf("token of a deleted key: %v", err)
	}
	if err := allowed(w.expiringToken); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(31 * 24 * time.Hour)
	if err := allowed(w.expiringToken); !errors.Is(err, lambdahttp.ErrUnauthorized) {
		t.Errorf("expired token: %v", err)
	}
}

// TestAuthorizeNetworks: a key with a network allowlist is allowed only
// from the requestContext.identity.sourceIp API Gateway puts in the event
// (decoded here from the JSON API Gateway sends), denied (403) from
// anywhere else, and never 401: the token is genuine.
func TestAuthorizeNetworks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	restricted, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{
		Name: new("office only"), AllowAll: new(true), Expiration: new("never"),
		AllowedCIDRs: []string{"203.0.113.0/24", "2001:db8::/32"}, AllowedCIDRsSet: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	event := func(tok, sourceIP string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
		raw := `{"type":"REQUEST","methodArn":"arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/v1/permissions",
			"resource":"/v1/permissions","path":"/v1/permissions","httpMethod":"GET",
			"headers":{"Authorization":"Bearer ` + tok + `"},
			"requestContext":{"path":"/prod/v1/permissions","accountId":"123456789012","resourceId":"abc123","stage":"prod",
				"requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","identity":{"sourceIp":"` + sourceIP + `","userAgent":"curl/8.5.0"},
				"resourcePath":"/v1/permissions","httpMethod":"GET","apiId":"a1b2c3"}}`
		var req events.APIGatewayCustomAuthorizerRequestTypeRequest
		if err := json.Unmarshal([]byte(raw), &req); err != nil {
			t.Fatal(err)
		}
		return req
	}
	for _, c := range []struct {
		name, token, sourceIP, want string
	}{
		{"inside the IPv4 network", restricted.Token, "203.0.113.42", lambdahttp.EffectAllow},
		{"inside the IPv6 network", restricted.Token, "2001:db8:7::1", lambdahttp.EffectAllow},
		{"outside", restricted.Token, "198.51.100.7", lambdahttp.EffectDeny},
		{"loopback", restricted.Token, "127.0.0.1", lambdahttp.EffectDeny},
		{"IPv6 outside", restricted.Token, "2001:db9::1", lambdahttp.EffectDeny},
		{"no source address", restricted.Token, "", lambdahttp.EffectDeny},
		{"a source that is not an address", restricted.Token, "203.0.113.42, 10.0.0.1", lambdahttp.EffectDeny},
		{"an unrestricted key from anywhere", w.ownerToken, "198.51.100.7", lambdahttp.EffectAllow},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := event(c.token, c.sourceIP)
			if req.RequestContext.Identity.SourceIP != c.sourceIP {
				t.Fatalf("the event's sourceIp decoded as %q", req.RequestContext.Identity.SourceIP)
			}
			resp, err := lambdahttp.Authorize(ctx, w.deps.Gate, w.deps.Logger, req)
			if err != nil {
				t.Fatalf("err = %v, want a policy (%s)", err, c.want)
			}
			if got := resp.PolicyDocument.Statement[0].Effect; got != c.want {
				t.Fatalf("effect %s, want %s", got, c.want)
			}
			p, err := lambdahttp.DecodePrincipal(resp.Context)
			if err != nil {
				t.Fatal(err)
			}
			// The function's guard and the handlers see the allowlist too
			// (a restricted key makes only keys inside it).
			if c.token == restricted.Token && authz.FormatNetworks(p.AllowedNetworks) != "203.0.113.0/24, 2001:db8::/32" {
				t.Errorf("principal networks %v", p.AllowedNetworks)
			}
		})
	}
}
