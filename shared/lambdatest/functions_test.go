package lambdatest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/lambdatest"
	"github.com/dotenv/apikeys/shared/secretscan/secretscantest"
	"github.com/dotenv/apikeys/shared/token"
)

// ownerPrincipal is the owner key as the store knows it, for setup.
func ownerPrincipal() authz.Principal {
	return authz.Principal{OrganizationID: env.org, KeyID: env.ownerKey, Access: authz.Access{AllowAll: true}}
}

// newKey creates a key directly in the store (setup, not under test).
func newKey(t *testing.T, name string) keys.Created {
	t.Helper()
	c, err := env.deps.Keys.Create(context.Background(), ownerPrincipal(), keys.Spec{
		Name: &name, Preset: new("read-only"), Expiration: new("30d"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func code(t *testing.T, a answer) string {
	t.Helper()
	if ct := a.headers["Content-Type"]; len(ct) != 1 || ct[0] != "application/problem+json" {
		t.Errorf("content type %v of an error", ct)
	}
	return str(a.json(t), "code")
}

// TestFunctions answers each function's success and its main failure
// through the emulator, with the authorizer in front.
func TestFunctions(t *testing.T) {
	owner := env.ownerToken
	keyRoute := func(method, resource, id string, body any) route {
		return route{method: method, resource: resource, params: map[string]string{"id": id}, body: body}
	}

	t.Run("create", func(t *testing.T) {
		a := gateway(t, owner, route{method: "POST", resource: "/v1/api-keys", body: map[string]any{"name": "reader", "preset": "read-only", "expiration": "90d"}})
		want(t, a, http.StatusCreated)
		if k := a.json(t); !strings.HasPrefix(str(k, "token"), "dotenv_") || k["allow_all"] != false {
			t.Errorf("created %s", a.body)
		}
		a = gateway(t, owner, route{method: "POST", resource: "/v1/api-keys", body: map[string]any{"preset": "read-only", "expiration": "90d"}})
		want(t, a, http.StatusBadRequest)
		if code(t, a) != "validation_failed" || !strings.Contains(a.body, `"field":"name"`) {
			t.Errorf("missing name: %s", a.body)
		}
	})

	t.Run("show", func(t *testing.T) {
		k := newKey(t, "to show")
		a := gateway(t, owner, keyRoute("GET", "/v1/api-keys/{id}", k.Key.ID, nil))
		want(t, a, http.StatusOK)
		if str(a.json(t), "name") != "to show" || a.json(t)["token"] != nil || strings.Contains(a.body, k.Token) {
			t.Errorf("shown %s", a.body)
		}
		if et := a.headers["Etag"]; len(et) != 1 || et[0] != `"1"` {
			t.Errorf("ETag %v (headers %v)", et, a.headers)
		}
		a = gateway(t, owner, route{method: "GET", resource: "/v1/api-keys", query: map[string]string{"limit": "2"}})
		want(t, a, http.StatusOK)
		if items, _ := a.json(t)["items"].([]any); len(items) != 2 || a.json(t)["next_cursor"] == nil {
			t.Errorf("page of 2: %s", a.body)
		}
		want(t, gateway(t, owner, route{method: "GET", resource: "/v1/permissions"}), http.StatusOK)
		a = gateway(t, owner, keyRoute("GET", "/v1/api-keys/{id}", "key_0000000000000000", nil))
		want(t, a, http.StatusNotFound)
		if code(t, a) != "not_found" {
			t.Errorf("unknown key: %s", a.body)
		}
	})

	t.Run("edit", func(t *testing.T) {
		k := newKey(t, "to edit")
		r := keyRoute("PATCH", "/v1/api-keys/{id}", k.Key.ID, map[string]any{"name": "edited"})
		a := gateway(t, owner, r)
		want(t, a, http.StatusOK)
		if str(a.json(t), "name") != "edited" || a.json(t)["version"] != float64(2) {
			t.Errorf("edited %s", a.body)
		}
		r.headers = map[string]string{"If-Match": `"1"`}
		a = gateway(t, owner, r)
		if a.status != http.StatusConflict && a.status != http.StatusPreconditionFailed {
			t.Fatalf("stale If-Match: %d %s", a.status, a.body)
		}
		if code(t, a) != "conflict" {
			t.Errorf("stale If-Match: %s", a.body)
		}
	})

	t.Run("rotate", func(t *testing.T) {
		k := newKey(t, "to rotate")
		a := gateway(t, owner, keyRoute("POST", "/v1/api-keys/{id}/rotate", k.Key.ID, nil))
		want(t, a, http.StatusOK)
		if tok := str(a.json(t), "token"); tok == "" || tok == k.Token || a.json(t)["rotated_at"] == nil {
			t.Errorf("rotated %s", a.body)
		}
		want(t, gateway(t, owner, keyRoute("POST", "/v1/api-keys/{id}/rotate", "key_0000000000000000", nil)), http.StatusNotFound)

		// With a grace period the replaced token still passes the
		// authorizer, until the rotate function revokes it.
		prev := str(a.json(t), "token")
		a = gateway(t, owner, keyRoute("POST", "/v1/api-keys/{id}/rotate", k.Key.ID, map[string]any{"grace_seconds": 600}))
		want(t, a, http.StatusOK)
		if a.json(t)["previous_token_expires_at"] == nil {
			t.Errorf("rotated with grace %s", a.body)
		}
		want(t, gateway(t, prev, route{method: "GET", resource: "/v1/permissions"}), http.StatusOK)
		revoke := keyRoute("DELETE", "/v1/api-keys/{id}/previous-token", k.Key.ID, nil)
		want(t, gateway(t, owner, revoke), http.StatusNoContent)
		want(t, gateway(t, prev, route{method: "GET", resource: "/v1/permissions"}), http.StatusUnauthorized)
		a = gateway(t, owner, revoke)
		want(t, a, http.StatusNotFound)
		if code(t, a) != "not_found" {
			t.Errorf("second revocation: %s", a.body)
		}
		a = gateway(t, owner, keyRoute("POST", "/v1/api-keys/{id}/rotate", k.Key.ID, map[string]any{"grace_seconds": 604801}))
		want(t, a, http.StatusBadRequest)
		if code(t, a) != "validation_failed" || !strings.Contains(a.body, `"field":"grace_seconds"`) {
			t.Errorf("grace out of range: %s", a.body)
		}
	})

	t.Run("delete", func(t *testing.T) {
		k := newKey(t, "to delete")
		r := keyRoute("DELETE", "/v1/api-keys/{id}", k.Key.ID, nil)
		a := gateway(t, owner, r)
		want(t, a, http.StatusNoContent)
		if a.body != "" {
			t.Errorf("204 with a body: %q", a.body)
		}
		a = gateway(t, owner, r)
		want(t, a, http.StatusNotFound)
		if code(t, a) != "not_found" {
			t.Errorf("second delete: %s", a.body)
		}
	})

	t.Run("verify", func(t *testing.T) {
		verify := func(body any) answer {
			r := route{method: "POST", resource: "/v1/verify", body: body}
			return proxy(t, authz.FunctionVerify, "proxy-anonymous.json", r.vars(""))
		}
		a := verify(map[string]any{"token": owner, "permission": "api_tokens:create"})
		want(t, a, http.StatusOK)
		if m := a.json(t); m["valid"] != true || m["allowed"] != true || str(m, "code") != "ok" || !strings.Contains(a.body, env.ownerKey) {
			t.Errorf("owner verified: %s", a.body)
		}
		a = verify(map[string]any{"token": "dotenv_not-a-token"})
		want(t, a, http.StatusOK)
		if m := a.json(t); m["valid"] != false || str(m, "code") != "malformed" {
			t.Errorf("malformed token: %s", a.body)
		}
		a = verify(`{"token": `)
		want(t, a, http.StatusBadRequest)
		if code(t, a) != "malformed_json" {
			t.Errorf("malformed JSON: %s", a.body)
		}
		a = proxy(t, authz.FunctionVerify, "proxy-anonymous.json", route{method: "GET", resource: "/healthz"}.vars(""))
		want(t, a, http.StatusOK)
		if str(a.json(t), "status") != "ok" {
			t.Errorf("healthz %s", a.body)
		}
	})

	t.Run("leaks", func(t *testing.T) {
		k := newKey(t, "to leak")
		report := func(resource string, body any, headers map[string]string) answer {
			r := route{method: "POST", resource: resource, body: body}
			return send(t, authz.FunctionLeaks, addHeaders(t, render(t, "proxy-anonymous.json", r.vars("")), headers))
		}
		verify := func(tok string) string {
			r := route{method: "POST", resource: "/v1/verify", body: map[string]any{"token": tok}}
			return str(proxy(t, authz.FunctionVerify, "proxy-anonymous.json", r.vars("")).json(t), "code")
		}
		// GitHub's endpoint refuses an unsigned report before reading it.
		unsigned := `[{"token":"` + k.Token + `","type":"dotenv_api_key","url":"https://github.com/o/r/blob/x/.env","source":"content"}]`
		a := report("/v1/leaks/github", unsigned, nil)
		want(t, a, http.StatusUnauthorized)
		if code(t, a) != "unauthenticated" || strings.Contains(a.body, k.Token) {
			t.Errorf("unsigned GitHub report: %s", a.body)
		}

		// A GitHub-signed report, through the function that fetched
		// GitHub's key document (GITHUB_KEYS_URL): the live token is
		// revoked, the unknown one labelled a false positive.
		leaked := newKey(t, "leaked on GitHub")
		unknown, err := token.NewGenerator().New()
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal([]map[string]string{
			{"token": leaked.Token, "type": "dotenv_api_key", "url": "https://github.com/octo/repo/blob/abc/.env", "source": "content"},
			{"token": unknown.Token, "type": "dotenv_api_key", "url": "https://github.com/octo/repo/blob/abc/ci.yml", "source": "content"},
		})
		if err != nil {
			t.Fatal(err)
		}
		// Signed by a key GitHub does not hold under the identifier: 401,
		// nothing revoked.
		impostor, err := secretscantest.NewSigner(env.github.ID)
		if err != nil {
			t.Fatal(err)
		}
		a = report("/v1/leaks/github", string(body), map[string]string{
			"Github-Public-Key-Identifier": env.github.ID,
			"Github-Public-Key-Signature":  signGitHub(t, impostor, body),
		})
		want(t, a, http.StatusUnauthorized)
		if code(t, a) != "unauthenticated" || strings.Contains(a.body, leaked.Token) {
			t.Errorf("wrongly signed GitHub report: %s", a.body)
		}
		if c := verify(leaked.Token); c != "ok" {
			t.Fatalf("after a wrongly signed report the token verifies %s, want ok (nothing processed)", c)
		}
		// A body altered after signing is wrongly signed too.
		a = report("/v1/leaks/github", string(body)+" ", map[string]string{
			"Github-Public-Key-Identifier": env.github.ID,
			"Github-Public-Key-Signature":  signGitHub(t, env.github, body),
		})
		want(t, a, http.StatusUnauthorized)

		a = report("/v1/leaks/github", string(body), map[string]string{
			"Github-Public-Key-Identifier": env.github.ID,
			"Github-Public-Key-Signature":  signGitHub(t, env.github, body),
		})
		want(t, a, http.StatusOK)
		var feedback []map[string]string
		if err := json.Unmarshal([]byte(a.body), &feedback); err != nil {
			t.Fatalf("feedback %s: %v", a.body, err)
		}
		hash := func(tok string) string { sum := sha256.Sum256([]byte(tok)); return hex.EncodeToString(sum[:]) }
		wantFeedback := []map[string]string{
			{"token_hash": hash(leaked.Token), "token_type": "dotenv_api_key", "label": "true_positive"},
			{"token_hash": hash(unknown.Token), "token_type": "dotenv_api_key", "label": "false_positive"},
		}
		if !reflect.DeepEqual(feedback, wantFeedback) || strings.Contains(a.body, leaked.Token) {
			t.Errorf("feedback %s, want %v", a.body, wantFeedback)
		}
		if c := verify(leaked.Token); c != "revoked" {
			t.Errorf("after GitHub's report the verify function answers %s, want revoked", c)
		}
		got, err := env.deps.Keys.Get(context.Background(), ownerPrincipal(), leaked.Key.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := got.Revoked; r == nil || r.Reason != keys.ReasonLeaked || r.Reporter != keys.ReporterGitHub || r.URL != "https://github.com/octo/repo/blob/abc/.env" || r.Source != "content" {
			t.Errorf("revocation %+v, want leaked, reported by GitHub with the match's url and source", r)
		}

		// The self-report.
		if c := verify(k.Token); c != "ok" {
			t.Fatalf("before the self-report: %s", c)
		}
		a = report("/v1/leaks", map[string]any{"token": k.Token, "source": "paste"}, nil)
		want(t, a, http.StatusAccepted)
		if str(a.json(t), "status") != "received" || strings.Contains(a.body, k.Token) {
			t.Errorf("self-report: %s", a.body)
		}
		if c := verify(k.Token); c != "revoked" {
			t.Errorf("after the self-report the verify function answers %s, want revoked", c)
		}
	})

	t.Run("explore", func(t *testing.T) {
		k := newKey(t, "to explore")
		r := keyRoute("POST", "/v1/api-keys/{id}/explore", k.Key.ID, map[string]any{"token": k.Token, "method": "GET", "path": "/v1/permissions"})
		a := gateway(t, owner, r)
		want(t, a, http.StatusOK)
		resp, _ := a.json(t)["response"].(map[string]any)
		if resp == nil || resp["status"] != float64(http.StatusOK) || strings.Contains(a.body, k.Token) {
			t.Errorf("explored %s", a.body)
		}
		r.body = map[string]any{"token": owner, "method": "GET", "path": "/v1/permissions"}
		a = gateway(t, owner, r)
		want(t, a, http.StatusForbidden)
		if code(t, a) != "forbidden" || strings.Contains(a.body, owner) {
			t.Errorf("another key's token: %s", a.body)
		}
	})

	t.Run("audit", func(t *testing.T) {
		k := newKey(t, "to audit")
		want(t, gateway(t, owner, keyRoute("PATCH", "/v1/api-keys/{id}", k.Key.ID, map[string]any{"name": "audited"})), http.StatusOK)
		list := route{method: "GET", resource: "/v1/audit-events", query: map[string]string{"key_id": k.Key.ID}}
		a := gateway(t, owner, list)
		want(t, a, http.StatusOK)
		items, _ := a.json(t)["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("the key's events through the audit function: %s", a.body)
		}
		ev, _ := items[0].(map[string]any)
		actor, _ := ev["actor"].(map[string]any)
		source, _ := ev["source"].(map[string]any)
		// The key was created through the service (no source); the edit
		// went through API Gateway: its source is the proxy event's
		// identity.sourceIp, User-Agent and requestId, its actor the owner
		// key named by the authorizer context.
		if ev["action"] != "key.updated" || actor["id"] != env.ownerKey || actor["name"] != keys.OwnerKeyName ||
			source["ip"] != "203.0.113.7" || source["user_agent"] != "dotenv-cli/1.4.0" || source["request_id"] != "5f1e8a44-7b2c-4d1e-9a3f-0c6d2b7e8f90" {
			t.Errorf("event %s", a.body)
		}
		list.headers = map[string]string{"Accept": "application/x-ndjson"}
		a = gateway(t, owner, list)
		want(t, a, http.StatusOK)
		if lines := strings.Split(strings.TrimSpace(a.body), "\n"); len(lines) != 2 || !strings.Contains(lines[0], `"action":"key.updated"`) {
			t.Errorf("NDJSON export: %q", a.body)
		}
		// Under the 5 MB export cap: one answer, no continuation; the
		// request id answered is API Gateway's.
		if link := http.Header(a.headers).Values("Link"); len(link) != 0 {
			t.Errorf("a small export answered Link %v", link)
		}
		if id := http.Header(a.headers).Values("X-Request-Id"); len(id) != 1 || id[0] != "5f1e8a44-7b2c-4d1e-9a3f-0c6d2b7e8f90" {
			t.Errorf("X-Request-Id %v, want API Gateway's request id", id)
		}
		list.query = map[string]string{"since": "yesterday"}
		list.headers = nil
		a = gateway(t, owner, list)
		want(t, a, http.StatusBadRequest)
		if !strings.Contains(a.body, `"field":"since"`) {
			t.Errorf("bad since: %s", a.body)
		}
	})

	t.Run("directory", func(t *testing.T) {
		teams := route{method: "POST", resource: "/v1/teams", body: map[string]any{"name": "directory-test"}}
		a := gateway(t, owner, teams)
		want(t, a, http.StatusCreated)
		id := str(a.json(t), "id")
		a = gateway(t, owner, route{method: "GET", resource: "/v1/teams/{team}", params: map[string]string{"team": id}})
		want(t, a, http.StatusOK)
		a = gateway(t, owner, teams)
		want(t, a, http.StatusConflict)
		a = gateway(t, owner, route{method: "GET", resource: "/v1/teams/{team}", params: map[string]string{"team": "team_missing"}})
		want(t, a, http.StatusNotFound)
		if code(t, a) != "not_found" {
			t.Errorf("missing team: %s", a.body)
		}
	})

	t.Run("webhooks", func(t *testing.T) {
		a := gateway(t, owner, route{method: "POST", resource: "/v1/webhooks", body: map[string]any{"url": "https://hooks.example.com/lambda", "events": []string{"key.expiring"}}})
		want(t, a, http.StatusCreated)
		id, secret := str(a.json(t), "id"), str(a.json(t), "secret")
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("create answered no signing secret: %s", a.body)
		}
		item := route{method: "GET", resource: "/v1/webhooks/{id}", params: map[string]string{"id": id}}
		a = gateway(t, owner, item)
		want(t, a, http.StatusOK)
		if strings.Contains(a.body, "whsec_") {
			t.Errorf("show answered the secret")
		}
		a = gateway(t, owner, route{method: "GET", resource: "/v1/webhooks/{id}/deliveries", params: map[string]string{"id": id}})
		want(t, a, http.StatusOK)
		// The Lambda functions run without the development switch.
		a = gateway(t, owner, route{method: "POST", resource: "/v1/webhooks", body: map[string]any{"url": "http://127.0.0.1:9/x", "events": []string{"key.expiring"}}})
		want(t, a, http.StatusBadRequest)
		item.method = "DELETE"
		want(t, gateway(t, owner, item), http.StatusNoContent)
	})
}

// TestOnlyOwnRoutes: each function mounts only its own routes.
func TestOnlyOwnRoutes(t *testing.T) {
	for _, f := range authz.Functions() {
		t.Run(string(f), func(t *testing.T) {
			for _, r := range env.deps.Routes {
				if r.Function == f {
					continue
				}
				if _, mine := env.deps.Routes.ForFunction(f).Find(r.Method, r.Pattern); mine {
					continue
				}
				rr := route{method: r.Method, resource: r.Pattern, params: map[string]string{
					"id": "key_x", "team": "team_x", "project": "prj_x", "target": "tgt_x", "environment": "env_x",
				}}
				a := proxy(t, f, "proxy-anonymous.json", rr.vars(""))
				if a.status != http.StatusNotFound && a.status != http.StatusMethodNotAllowed {
					t.Errorf("%s %s on the %s function: %d %s", r.Method, r.Pattern, f, a.status, a.body)
				}
			}
		})
	}
}

// TestWithoutAuthorizer: without an authorizer context (a route deployed
// without it, or LocalStack's community edition) the function verifies the
// bearer token itself; without a valid one it answers 401.
func TestWithoutAuthorizer(t *testing.T) {
	list := route{method: "GET", resource: "/v1/api-keys"}
	a := proxy(t, authz.FunctionShow, "proxy-no-authorizer.json", list.vars(env.ownerToken))
	want(t, a, http.StatusOK)
	if !strings.Contains(a.body, env.ownerKey) {
		t.Errorf("list without authorizer: %s", a.body)
	}
	a = proxy(t, authz.FunctionShow, "proxy-anonymous.json", list.vars(""))
	want(t, a, http.StatusUnauthorized)
	if code(t, a) != "unauthenticated" {
		t.Errorf("no token: %s", a.body)
	}
	a = proxy(t, authz.FunctionShow, "proxy-no-authorizer.json", list.vars("dotenv_bogus"))
	want(t, a, http.StatusUnauthorized)

	// A scoped key without the authorizer: the function's own guard
	// answers 403, as the authorizer would have denied.
	scoped, err := env.deps.Keys.Create(context.Background(), ownerPrincipal(), keys.Spec{
		Name: new("teams only"), Permissions: []keys.GrantInput{{Permission: "teams:read"}}, PermissionsSet: true, Expiration: new("30d"),
	})
	if err != nil {
		t.Fatal(err)
	}
	a = proxy(t, authz.FunctionShow, "proxy-no-authorizer.json", list.vars(scoped.Token))
	want(t, a, http.StatusForbidden)
}

// TestForgedProxyHeader sends the X-GoLambdaProxy-ApiGw-Context header a
// client could forge, claiming an allow-all caller of the organization: the
// function ignores it and, with no token, answers 401.
func TestForgedProxyHeader(t *testing.T) {
	vars := route{method: "GET", resource: "/v1/api-keys"}.vars("")
	vars["organization_id"] = env.org
	for _, f := range []authz.Function{authz.FunctionShow, authz.FunctionDirectory, authz.FunctionCreate} {
		r := route{method: "GET", resource: "/v1/api-keys"}
		switch f {
		case authz.FunctionDirectory:
			r = route{method: "GET", resource: "/v1/teams"}
		case authz.FunctionCreate:
			r = route{method: "POST", resource: "/v1/api-keys", body: map[string]any{"name": "forged", "allow_all": true, "expiration": "never"}}
		}
		v := r.vars("")
		v["organization_id"] = env.org
		a := proxy(t, f, "proxy-forged-header.json", v)
		want(t, a, http.StatusUnauthorized)
		if code(t, a) != "unauthenticated" {
			t.Errorf("%s: %s", f, a.body)
		}
	}
	page, err := env.deps.Keys.List(context.Background(), ownerPrincipal(), directory.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range page.Items {
		if k.Name == "forged" {
			t.Fatalf("a forged header created key %s", k.ID)
		}
	}
}

// TestAuthorizerEdges: what the authorizer answers besides Allow.
func TestAuthorizerEdges(t *testing.T) {
	list := route{method: "GET", resource: "/v1/api-keys"}
	for _, tok := range []string{"", "dotenv_bogus", env.ownerToken + "x"} {
		if _, err := authorize(t, tok, list); !unauthorized(err) {
			t.Errorf("token %q: %v, want Unauthorized", tok, err)
		}
	}
	unknown := route{method: "GET", resource: "/v1/secrets/{id}", params: map[string]string{"id": "s1"}}
	resp, err := authorize(t, env.ownerToken, unknown)
	if err != nil || effect(t, resp, unknown) != "Deny" || resp.PrincipalID != env.ownerKey {
		t.Errorf("unknown route: %+v, %v", resp, err)
	}
	// The verify function answers its own proxy routes, not others.
	a := proxy(t, authz.FunctionVerify, "proxy-no-authorizer.json", list.vars(env.ownerToken))
	want(t, a, http.StatusNotFound)
}

// TestMissingConfiguration: a function started without TABLE_NAME fails its
// init with a message naming the variable.
func TestMissingConfiguration(t *testing.T) {
	for _, f := range []authz.Function{authz.FunctionCreate, authz.FunctionExplore} {
		var envv []string
		for _, kv := range env.fnEnv {
			if !strings.HasPrefix(kv, "TABLE_NAME=") && !strings.HasPrefix(kv, "API_BASE_URL=") {
				envv = append(envv, kv)
			}
		}
		envv = append(envv, "TABLE_NAME=", "API_BASE_URL=")
		em, err := lambdatest.StartEmulator(t.Context(), lambdatest.EmulatorConfig{RIE: env.rie, Bootstrap: env.bootstraps[f], Env: envv})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		_, err = em.Invoke(ctx, render(t, "proxy-anonymous.json", route{method: "GET", resource: "/v1/api-keys"}.vars("")))
		cancel()
		// Read the logs once the emulator has exited: the function's
		// stderr reaches them through the emulator, possibly after the
		// failed invocation has answered.
		em.Close()
		logs := em.Logs()
		if err == nil {
			t.Errorf("%s started without TABLE_NAME", f)
		}
		if !strings.Contains(logs, "TABLE_NAME is not set") {
			t.Errorf("%s: the logs do not name TABLE_NAME: %s", f, logs)
		}
		if f == authz.FunctionExplore && !strings.Contains(logs, "API_BASE_URL is not set") {
			t.Errorf("explore: the logs do not name API_BASE_URL: %s", logs)
		}
	}
}

// TestMakefilePinsTheSameEmulator: make rie and these tests build the same
// aws-lambda-rie version.
func TestMakefilePinsTheSameEmulator(t *testing.T) {
	mk, err := os.ReadFile(env.root + "/functions/make.mk")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RIE_VERSION := (\S+)$`).FindSubmatch(mk)
	if m == nil || string(m[1]) != lambdatest.RIEVersion {
		t.Fatalf("functions/make.mk pins %q, lambdatest.RIEVersion is %s", m, lambdatest.RIEVersion)
	}
	if !regexp.MustCompile(`(?m)^RIE_MODULE := ` + regexp.QuoteMeta(lambdatest.RIEModule) + `$`).Match(mk) {
		t.Fatalf("functions/make.mk names another RIE module")
	}
}

// TestReportsHaveDurations: the emulator's REPORT lines parse.
func TestReportsHaveDurations(t *testing.T) {
	em := env.fn[authz.FunctionVerify]
	a := proxy(t, authz.FunctionVerify, "proxy-anonymous.json", route{method: "GET", resource: "/healthz"}.vars(""))
	want(t, a, http.StatusOK)
	reps := em.Reports()
	if len(reps) == 0 {
		t.Fatalf("no REPORT line in %s", em.Logs())
	}
	inits := 0
	for _, r := range reps {
		if r.Duration <= 0 {
			t.Errorf("report without duration: %+v", r)
		}
		if r.Init > 0 {
			inits++
		}
	}
	if inits != 1 {
		t.Errorf("%d cold starts reported, want exactly 1: %+v", inits, reps)
	}
	if d, ok := lambdatest.InitLogged(em.Logs()); !ok || d <= 0 {
		t.Errorf("no init line logged: %s", em.Logs())
	}
}

// TestNetworkAllowlistUnderTheEmulator: the verify function as the REST
// API's authorizer, with the real event (its requestContext.identity.sourceIp
// is 203.0.113.7), allows a key restricted to 203.0.113.0/24 and denies one
// restricted to 198.51.100.0/24; the allowed request reaches the function
// with the allowlist in the authorizer context, and the function's guard,
// which reads the same sourceIp, lets it through (and refuses the other
// key's context, had it come through) and holds the key to no escalation
// (a key usable from anywhere is refused).
func TestNetworkAllowlistUnderTheEmulator(t *testing.T) {
	mk := func(name, cidr string) string {
		t.Helper()
		a := gateway(t, env.ownerToken, route{method: "POST", resource: "/v1/api-keys", body: map[string]any{
			"name": name, "allow_all": true, "expiration": "never", "allowed_cidrs": []string{cidr}}})
		want(t, a, http.StatusCreated)
		return str(a.json(t), "token")
	}
	inside, outside := mk("inside", "203.0.113.0/24"), mk("outside", "198.51.100.0/24")
	list := route{method: "GET", resource: "/v1/api-keys"}
	denied, err := authorize(t, outside, list)
	if err != nil || effect(t, denied, list) != "Deny" {
		t.Fatalf("a key restricted to 198.51.100.0/24 from 203.0.113.7: %+v, %v; want Deny", denied, err)
	}
	// Had API Gateway passed it on anyway (a policy cached for another
	// address), the function's guard refuses it from the event's sourceIp.
	a := withContext(t, authz.FunctionShow, denied.Context, outside, list)
	want(t, a, http.StatusForbidden)
	if !strings.Contains(a.body, `"code":"ip_not_allowed"`) || !strings.Contains(a.body, "203.0.113.7") {
		t.Errorf("the function's own check: %s", a.body)
	}
	resp, err := authorize(t, inside, list)
	if err != nil || effect(t, resp, list) != "Allow" || resp.Context["allowed_cidrs"] != "203.0.113.0/24" {
		t.Fatalf("a key restricted to 203.0.113.0/24 from 203.0.113.7: %+v, %v; want Allow with its allowlist", resp, err)
	}
	want(t, withContext(t, authz.FunctionShow, resp.Context, inside, list), http.StatusOK)
	create := route{method: "POST", resource: "/v1/api-keys", body: map[string]any{"name": "wider", "allow_all": true, "expiration": "never"}}
	resp, err = authorize(t, inside, create)
	if err != nil || effect(t, resp, create) != "Allow" {
		t.Fatalf("create: %+v, %v", resp, err)
	}
	a = withContext(t, authz.FunctionCreate, resp.Context, inside, create)
	want(t, a, http.StatusForbidden)
	if !strings.Contains(a.body, `"field":"allowed_cidrs"`) {
		t.Errorf("a restricted key creating one usable from anywhere: %s", a.body)
	}
}
