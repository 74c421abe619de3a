package stackrun_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/infra/stack"
	"github.com/dotenv/apikeys/infra/stackrun"
	"github.com/dotenv/apikeys/shared/authz"
)

// functionIDs maps each authz.Function to its Lambda logical id, found by
// the stack.FunctionTag tag.
func functionIDs(t stackrun.Template) map[authz.Function]string {
	out := map[authz.Function]string{}
	for id, p := range t.OfType("AWS::Lambda::Function") {
		tags, _ := p["Tags"].([]any)
		for _, tag := range tags {
			m, _ := tag.(map[string]any)
			if m["Key"] == stack.FunctionTag {
				out[authz.Function(fmt.Sprint(m["Value"]))] = id
			}
		}
	}
	return out
}

// method returns the properties of the AWS::ApiGateway::Method for verb
// on the resource whose full path is path.
func method(t *testing.T, tpl stackrun.Template, verb, path string) map[string]any {
	t.Helper()
	res := tpl.OfType("AWS::ApiGateway::Resource")
	var pathOf func(id string) string
	pathOf = func(id string) string {
		r, ok := res[id]
		if !ok {
			return "" // the root
		}
		parent, _ := r["ParentId"].(map[string]any)
		p, _ := parent["Ref"].(string)
		return pathOf(p) + "/" + fmt.Sprint(r["PathPart"])
	}
	for _, m := range tpl.OfType("AWS::ApiGateway::Method") {
		rid, _ := m["ResourceId"].(map[string]any)
		p, _ := rid["Ref"].(string)
		if m["HttpMethod"] == verb && pathOf(p) == path {
			return m
		}
	}
	t.Fatalf("no method %s %s in the template", verb, path)
	return nil
}

func variables(tpl stackrun.Template, fn string) map[string]any {
	p := tpl.OfType("AWS::Lambda::Function")[fn]
	e, _ := p["Environment"].(map[string]any)
	v, _ := e["Variables"].(map[string]any)
	return v
}

// TestStackMutationsFail holds the run to the template: each mutation of
// the synthesized template (the kind of regression a stack change could
// bring) must make the lifecycle fail, at the step that shows it.
func TestStackMutationsFail(t *testing.T) {
	fns := functionIDs(env.asm.Template)
	if want := len(authz.Functions()) + len(authz.EventFunctions()); len(fns) != want {
		t.Fatalf("found %d tagged functions, want %d", len(fns), want)
	}
	mutations := []struct {
		name   string
		mutate func(t *testing.T, tpl stackrun.Template)
		want   string
	}{
		{"DELETE /v1/api-keys/{id} loses its authorizer", func(t *testing.T, tpl stackrun.Template) {
			m := method(t, tpl, "DELETE", "/v1/api-keys/{id}")
			m["AuthorizationType"] = "NONE"
			delete(m, "AuthorizerId")
		}, "delete: DELETE /v1/api-keys/{id}: the gateway ran no authorizer"},
		{"the rotate function's TABLE_NAME names another table", func(t *testing.T, tpl stackrun.Template) {
			variables(tpl, fns[authz.FunctionRotate])["TABLE_NAME"] = "apikeys"
		}, "rotate: POST /v1/api-keys/"},
		{"explore's API_BASE_URL names another stage", func(t *testing.T, tpl stackrun.Template) {
			v := variables(tpl, fns[authz.FunctionExplore])
			join := v["API_BASE_URL"].(map[string]any)["Fn::Join"].([]any)
			parts := join[1].([]any)
			parts[len(parts)-1] = "/v1"
		}, "explore: the explored call answered 404"},
		{"the directory function points at the show asset", func(t *testing.T, tpl stackrun.Template) {
			lambdas := tpl.OfType("AWS::Lambda::Function")
			lambdas[fns[authz.FunctionDirectory]]["Code"] = lambdas[fns[authz.FunctionShow]]["Code"]
		}, "create team: POST /v1/teams: the directory function runs the show program"},
		{"the edit function points at the show asset", func(t *testing.T, tpl stackrun.Template) {
			lambdas := tpl.OfType("AWS::Lambda::Function")
			lambdas[fns[authz.FunctionEdit]]["Code"] = lambdas[fns[authz.FunctionShow]]["Code"]
		}, "rename key: PATCH /v1/api-keys/{id}: the edit function runs the show program"},
		{"PATCH /v1/api-keys/{id} integrates the show function", func(t *testing.T, tpl stackrun.Template) {
			m := method(t, tpl, "PATCH", "/v1/api-keys/{id}")
			b, err := json.Marshal(m["Integration"])
			if err != nil {
				t.Fatal(err)
			}
			var integ map[string]any
			if err := json.Unmarshal([]byte(strings.ReplaceAll(string(b), `"`+fns[authz.FunctionEdit]+`"`, `"`+fns[authz.FunctionShow]+`"`)), &integ); err != nil {
				t.Fatal(err)
			}
			m["Integration"] = integ
		}, "rename key: PATCH /v1/api-keys/{id}: answered by " + fns[authz.FunctionShow]},
		{"the distribution loses its viewer-request function", func(t *testing.T, tpl stackrun.Template) {
			for _, d := range tpl.OfType("AWS::CloudFront::Distribution") {
				delete(d["DistributionConfig"].(map[string]any)["DefaultCacheBehavior"].(map[string]any), "FunctionAssociations")
			}
		}, "dashboard deep link: GET /dashboard/organizations/api-keys/"},
		{"the authorizer caches decisions for 300 s", func(t *testing.T, tpl stackrun.Template) {
			for _, a := range tpl.OfType("AWS::ApiGateway::Authorizer") {
				a["AuthorizerResultTtlInSeconds"] = 300.0
				a["IdentitySource"] = "method.request.header.Authorization,context.httpMethod,context.resourcePath,context.path"
			}
		}, "old token after rotate: GET /v1/projects/"},
	}
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			tpl := env.asm.Template.Clone()
			mu.mutate(t, tpl)
			d := deploy(t, tpl)
			err := lifecycle(t.Context(), d, tpl, bootstrap(t, d))
			if err == nil {
				t.Fatalf("the lifecycle passed on the mutated template; want a failure with %q", mu.want)
			}
			if !strings.Contains(err.Error(), mu.want) {
				t.Fatalf("the lifecycle failed, but not where the mutation shows (want %q): %v", mu.want, err)
			}
			t.Logf("failed as expected: %v", err)
		})
	}
}

// TestKeyQuotaFromTemplate: the key quota the template gives the create
// function (MAX_KEYS_PER_ORGANIZATION, -c maxKeysPerOrganization) is the
// one it enforces: with a quota of 2, the owner key and one more fill the
// organization and the next create answers 409 key_quota_exceeded.
func TestKeyQuotaFromTemplate(t *testing.T) {
	tpl := env.asm.Template.Clone()
	vars := variables(tpl, functionIDs(tpl)[authz.FunctionCreate])
	if vars["MAX_KEYS_PER_ORGANIZATION"] != "1000" {
		t.Fatalf("create's MAX_KEYS_PER_ORGANIZATION=%v, want the default 1000 in the template", vars["MAX_KEYS_PER_ORGANIZATION"])
	}
	vars["MAX_KEYS_PER_ORGANIZATION"] = "2"
	d := deploy(t, tpl)
	owner := client{d: d, token: bootstrap(t, d)}
	body := map[string]any{"name": "quota", "expiration": "30d",
		"permissions": []map[string]any{{"permission": "api_tokens:read"}}}
	if _, err := owner.expect(t.Context(), "second key", 201, "POST", "/v1/api-keys", body); err != nil {
		t.Fatal(err)
	}
	a, err := owner.expect(t.Context(), "third key", 409, "POST", "/v1/api-keys", body)
	if err != nil {
		t.Fatal(err)
	}
	if a.str("code") != "key_quota_exceeded" {
		t.Errorf("third key: %s, want key_quota_exceeded", a.body)
	}
}
