package stack_test

// Checks over a synthesized CloudFormation template, as plain Go over its
// JSON. They return findings instead of failing the test so that
// TestChecksCatchRegressions can run them on a mutated template and expect
// findings.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/dotenv/apikeys/infra/stack"
	"github.com/dotenv/apikeys/shared/authz"
)

// tmpl is a template's JSON.
type tmpl map[string]any

func (t tmpl) resources() map[string]map[string]any {
	out := map[string]map[string]any{}
	rs, _ := t["Resources"].(map[string]any)
	for id, r := range rs {
		out[id], _ = r.(map[string]any)
	}
	return out
}

// ofType returns logical id → Properties of the resources of one type.
func (t tmpl) ofType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range t.resources() {
		if r["Type"] == typ {
			p, _ := r["Properties"].(map[string]any)
			out[id] = p
		}
	}
	return out
}

func (t tmpl) clone() tmpl {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	var c tmpl
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return c
}

// ref returns the logical id of {"Ref": id} or {"Fn::GetAtt": [id, ...]}.
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

// list turns a CloudFormation "one or many" value into a slice.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// mentions reports whether v (any JSON) references logical id id.
func mentions(v any, id string) bool {
	b, _ := json.Marshal(v)
	return strings.Contains(string(b), `"Ref":"`+id+`"`) || strings.Contains(string(b), `"Fn::GetAtt":["`+id+`"`)
}

// ourFunctions maps each authz.Function to its Lambda logical id, found by
// the stack.FunctionTag tag.
func (t tmpl) ourFunctions() map[authz.Function]string {
	out := map[authz.Function]string{}
	for id, p := range t.ofType("AWS::Lambda::Function") {
		for _, tag := range list(p["Tags"]) {
			m, _ := tag.(map[string]any)
			if m["Key"] == stack.FunctionTag {
				out[authz.Function(fmt.Sprint(m["Value"]))] = id
			}
		}
	}
	return out
}

func (t tmpl) tableID() (string, error) {
	ids := slices.Collect(maps.Keys(t.ofType("AWS::DynamoDB::Table")))
	if len(ids) != 1 {
		return "", fmt.Errorf("want 1 AWS::DynamoDB::Table, found %d", len(ids))
	}
	return ids[0], nil
}

// checkPolicies holds every function's role to stack.Permissions: exactly
// the listed DynamoDB actions, on exactly the table ARN (plus
// `<table ARN>/index/*` for functions that query an index), no wildcard
// action, no `*` resource in any statement, no managed or inline policies
// besides the CDK-attached ones.
func checkPolicies(t tmpl, want map[authz.Function]stack.Access) []string {
	var errs []string
	bad := func(f authz.Function, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("%s role: ", f)+fmt.Sprintf(format, a...))
	}
	table, err := t.tableID()
	if err != nil {
		return []string{err.Error()}
	}
	tableArn := map[string]any{"Fn::GetAtt": []any{table, "Arn"}}
	indexArn := map[string]any{"Fn::Join": []any{"", []any{tableArn, "/index/*"}}}
	fns := t.ourFunctions()
	lambdas := t.ofType("AWS::Lambda::Function")
	roles := t.ofType("AWS::IAM::Role")
	policies := t.ofType("AWS::IAM::Policy")
	for _, f := range authz.Functions() {
		fid, ok := fns[f]
		if !ok {
			bad(f, "function not found")
			continue
		}
		role := ref(lambdas[fid]["Role"])
		rp, ok := roles[role]
		if !ok {
			bad(f, "role %q not in the template", role)
			continue
		}
		if rp["ManagedPolicyArns"] != nil || rp["Policies"] != nil {
			bad(f, "has managed or inline role policies: %v %v", rp["ManagedPolicyArns"], rp["Policies"])
		}
		var statements []map[string]any
		for _, p := range policies {
			attached := false
			for _, r := range list(p["Roles"]) {
				attached = attached || ref(r) == role
			}
			if !attached {
				continue
			}
			doc, _ := p["PolicyDocument"].(map[string]any)
			for _, s := range list(doc["Statement"]) {
				m, _ := s.(map[string]any)
				statements = append(statements, m)
			}
		}
		got := map[string]bool{}
		indexGranted := false
		for _, s := range statements {
			if s["Effect"] != "Allow" {
				continue
			}
			if s["NotAction"] != nil || s["NotResource"] != nil {
				bad(f, "NotAction/NotResource statement")
			}
			var dynamo bool
			for _, a := range list(s["Action"]) {
				as := fmt.Sprint(a)
				if as == "*" || strings.HasSuffix(as, ":*") || strings.Contains(as, "*") {
					bad(f, "wildcard action %q", as)
				}
				if strings.HasPrefix(strings.ToLower(as), "dynamodb:") {
					dynamo = true
					got[as] = true
				}
			}
			for _, r := range list(s["Resource"]) {
				if r == "*" {
					bad(f, "statement on resource *")
				}
				if !dynamo {
					continue
				}
				rb, _ := json.Marshal(r)
				tb, _ := json.Marshal(tableArn)
				ib, _ := json.Marshal(indexArn)
				switch string(rb) {
				case string(tb):
				case string(ib):
					indexGranted = true
				default:
					bad(f, "DynamoDB statement on %s, not the table or its indexes", rb)
				}
			}
		}
		wantActions := want[f].Actions
		gotActions := slices.Sorted(maps.Keys(got))
		if !slices.Equal(gotActions, wantActions) {
			bad(f, "DynamoDB actions %v, want exactly %v", gotActions, wantActions)
		}
		if indexGranted != want[f].Indexes {
			bad(f, "index ARN granted=%v, want %v", indexGranted, want[f].Indexes)
		}
	}
	return errs
}

// apiPaths maps each AWS::ApiGateway::Resource logical id to its full path
// ("" for the root, reached through Fn::GetAtt RootResourceId).
func (t tmpl) apiPaths() map[string]string {
	res := t.ofType("AWS::ApiGateway::Resource")
	paths := map[string]string{}
	var pathOf func(id string, depth int) string
	pathOf = func(id string, depth int) string {
		if p, ok := paths[id]; ok {
			return p
		}
		r, ok := res[id]
		if !ok || depth > 32 {
			return "?"
		}
		parent := ""
		if m, _ := r["ParentId"].(map[string]any); m["Ref"] != nil {
			parent = pathOf(ref(m), depth+1)
		}
		paths[id] = parent + "/" + fmt.Sprint(r["PathPart"])
		return paths[id]
	}
	for id := range res {
		pathOf(id, 0)
	}
	return paths
}

// checkRoutes holds the API to the route table: every route present with
// its method, integrated with its function, behind the one authorizer
// (CUSTOM) unless it is public (NONE); nothing else but CORS preflights
// (OPTIONS, MOCK, NONE).
func checkRoutes(t tmpl, routes authz.Routes) []string {
	var errs []string
	auths := slices.Collect(maps.Keys(t.ofType("AWS::ApiGateway::Authorizer")))
	if len(auths) != 1 {
		return []string{fmt.Sprintf("want 1 authorizer, found %d", len(auths))}
	}
	fns := t.ourFunctions()
	paths := t.apiPaths()
	seen := map[string]bool{}
	for id, m := range t.ofType("AWS::ApiGateway::Method") {
		path := "/"
		if rid := ref(m["ResourceId"]); paths[rid] != "" {
			path = paths[rid]
		}
		method := fmt.Sprint(m["HttpMethod"])
		integ, _ := m["Integration"].(map[string]any)
		if method == "OPTIONS" {
			if integ["Type"] != "MOCK" || m["AuthorizationType"] != "NONE" {
				errs = append(errs, fmt.Sprintf("OPTIONS %s (%s) is not a plain CORS preflight", path, id))
			}
			continue
		}
		r, ok := routes.Find(method, path)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s %s is not in the route table", method, path))
			continue
		}
		key := method + " " + path
		seen[key] = true
		if fid := fns[r.Function]; fid == "" || !mentions(integ["Uri"], fid) || integ["Type"] != "AWS_PROXY" {
			errs = append(errs, fmt.Sprintf("%s: not a proxy integration of the %s function", key, r.Function))
		}
		if r.Public() {
			if m["AuthorizationType"] != "NONE" || m["AuthorizerId"] != nil {
				errs = append(errs, fmt.Sprintf("%s: public route has authorization %v", key, m["AuthorizationType"]))
			}
		} else if m["AuthorizationType"] != "CUSTOM" || ref(m["AuthorizerId"]) != auths[0] {
			errs = append(errs, fmt.Sprintf("%s: authorization %v with authorizer %v, want CUSTOM with %s",
				key, m["AuthorizationType"], m["AuthorizerId"], auths[0]))
		}
	}
	for _, r := range routes {
		if !seen[r.Method+" "+r.Pattern] {
			errs = append(errs, fmt.Sprintf("%s %s (%s) is missing", r.Method, r.Pattern, r.Operation))
		}
	}
	sort.Strings(errs)
	return errs
}
