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
	"strconv"
	"strings"

	"github.com/dotenv/apikeys/infra/iam"
	"github.com/dotenv/apikeys/infra/stack"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/store/dynamo/schema"
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

// checkPolicies holds every function's role to iam.Permissions: exactly
// the listed DynamoDB actions, on exactly the table ARN (plus
// `<table ARN>/index/<name>` for each index the function queries, and the
// one conditioned DeleteItem of the pending notices, and exactly the
// scoped statements, each conditioned on its partition patterns), no wildcard
// action, no `*` resource in any statement, no managed or inline policies
// besides the CDK-attached ones.
func checkPolicies(t tmpl, want map[authz.Function]iam.Access) []string {
	var errs []string
	bad := func(f authz.Function, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("%s role: ", f)+fmt.Sprintf(format, a...))
	}
	table, err := t.tableID()
	if err != nil {
		return []string{err.Error()}
	}
	tableArn := map[string]any{"Fn::GetAtt": []any{table, "Arn"}}
	indexArn := func(index string) string {
		b, _ := json.Marshal(map[string]any{"Fn::Join": []any{"", []any{tableArn, "/index/" + index}}})
		return string(b)
	}
	fns := t.ourFunctions()
	lambdas := t.ofType("AWS::Lambda::Function")
	roles := t.ofType("AWS::IAM::Role")
	policies := t.ofType("AWS::IAM::Policy")
	queueArn := map[string]any{"Fn::GetAtt": []any{t.queueID("WebhookDeliveries"), "Arn"}}
	queueActions := iam.QueueActions()
	for _, f := range append(authz.Functions(), authz.EventFunctions()...) {
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
		gotSQS := map[string]bool{}
		var indexesGranted []string
		noticesGranted := false
		var scopedGot []string
		for _, s := range statements {
			if s["Effect"] != "Allow" {
				continue
			}
			if s["Condition"] != nil {
				// A conditioned statement: on the table alone, by
				// partition key pattern; either DeleteItem of the pending
				// notices or one of the function's scoped grants.
				cb, _ := json.Marshal(s["Condition"])
				ab, _ := json.Marshal(s["Action"])
				rb, _ := json.Marshal(list(s["Resource"]))
				tb, _ := json.Marshal([]any{tableArn})
				switch {
				case string(rb) != string(tb):
					bad(f, "conditioned statement %s on %s, want the table alone", ab, rb)
				case string(ab) == `"dynamodb:DeleteItem"` &&
					string(cb) == `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["`+iam.NoticeKeys+`"]}}`:
					noticesGranted = true
				default:
					scopedGot = append(scopedGot, string(ab)+" where "+string(cb))
				}
				continue
			}
			if s["NotAction"] != nil || s["NotResource"] != nil {
				bad(f, "NotAction/NotResource statement")
			}
			var dynamo, queue bool
			for _, a := range list(s["Action"]) {
				as := fmt.Sprint(a)
				if as == "*" || strings.HasSuffix(as, ":*") || strings.Contains(as, "*") {
					bad(f, "wildcard action %q", as)
				}
				if strings.HasPrefix(strings.ToLower(as), "dynamodb:") {
					dynamo = true
					got[as] = true
				}
				if strings.HasPrefix(strings.ToLower(as), "sqs:") {
					queue = true
					gotSQS[as] = true
				}
			}
			if queue {
				rb, _ := json.Marshal(list(s["Resource"]))
				qb, _ := json.Marshal([]any{queueArn})
				if string(rb) != string(qb) {
					bad(f, "SQS statement on %s, not the deliveries queue", rb)
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
				switch string(rb) {
				case string(tb):
				case indexArn(schema.IndexGSI1):
					indexesGranted = append(indexesGranted, schema.IndexGSI1)
				case indexArn(schema.IndexGSI2):
					indexesGranted = append(indexesGranted, schema.IndexGSI2)
				default:
					bad(f, "DynamoDB statement on %s, not the table or one of its indexes", rb)
				}
			}
		}
		if got, want := slices.Sorted(maps.Keys(gotSQS)), queueActions[f]; !slices.Equal(got, want) {
			bad(f, "SQS actions %v, want exactly %v", got, want)
		}
		wantActions := want[f].Actions
		gotActions := slices.Sorted(maps.Keys(got))
		if !slices.Equal(gotActions, wantActions) {
			bad(f, "DynamoDB actions %v, want exactly %v", gotActions, wantActions)
		}
		slices.Sort(indexesGranted)
		if !slices.Equal(indexesGranted, want[f].Indexes) {
			bad(f, "indexes granted %v, want exactly %v", indexesGranted, want[f].Indexes)
		}
		var scopedWant []string
		for _, sc := range want[f].Scoped {
			ab, _ := json.Marshal(sc.Actions)
			if len(sc.Actions) == 1 {
				ab, _ = json.Marshal(sc.Actions[0])
			}
			cb, _ := json.Marshal(map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": sc.Partitions}})
			scopedWant = append(scopedWant, string(ab)+" where "+string(cb))
		}
		slices.Sort(scopedGot)
		slices.Sort(scopedWant)
		if !slices.Equal(scopedGot, scopedWant) {
			bad(f, "conditioned statements %q, want exactly %q", scopedGot, scopedWant)
		}
		if noticesGranted != want[f].DeletesNotices {
			bad(f, "DeleteItem of the pending notices granted=%v, want %v", noticesGranted, want[f].DeletesNotices)
		}
	}
	return errs
}

// queueID returns the logical id of the SQS queue whose id starts with
// prefix and is not its dead-letter queue ("" when none).
func (t tmpl) queueID(prefix string) string {
	for id := range t.ofType("AWS::SQS::Queue") {
		if strings.HasPrefix(id, prefix) && !strings.HasPrefix(id, prefix+"Dlq") {
			return id
		}
	}
	return ""
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

// checkAbuseLimits holds the stage and the WAF to the options: throttling
// of every method at the options' rate and burst; with o.WAF exactly one
// regional web ACL that allows by default and blocks, with a 429
// rate_limited problem, any source IP (never a forwarding header) past
// o.WAFRateLimit requests per stack.WAFWindowSeconds on every request
// (no scope-down), associated with the stage; without o.WAF no WAF at all.
func checkAbuseLimits(t tmpl, o stack.Options) []string {
	var errs []string
	stages := t.ofType("AWS::ApiGateway::Stage")
	if len(stages) != 1 {
		return []string{fmt.Sprintf("want 1 stage, found %d", len(stages))}
	}
	var stageID string
	for id, st := range stages {
		stageID = id
		throttled := false
		for _, ms := range list(st["MethodSettings"]) {
			m, _ := ms.(map[string]any)
			if m["HttpMethod"] == "*" && m["ResourcePath"] == "/*" &&
				m["ThrottlingRateLimit"] == o.ThrottleRate && m["ThrottlingBurstLimit"] == o.ThrottleBurst {
				throttled = true
			}
		}
		if !throttled {
			b, _ := json.Marshal(st["MethodSettings"])
			errs = append(errs, fmt.Sprintf("stage: method settings %s, want every method throttled at %v rps, burst %v", b, o.ThrottleRate, o.ThrottleBurst))
		}
	}
	acls, assocs := t.ofType("AWS::WAFv2::WebACL"), t.ofType("AWS::WAFv2::WebACLAssociation")
	if !o.WAF {
		if len(acls)+len(assocs) != 0 {
			errs = append(errs, fmt.Sprintf("WAF is off but the template has %d web ACLs and %d associations", len(acls), len(assocs)))
		}
		return errs
	}
	if len(acls) != 1 || len(assocs) != 1 {
		return append(errs, fmt.Sprintf("want 1 web ACL and 1 association, found %d and %d", len(acls), len(assocs)))
	}
	for id, acl := range acls {
		if acl["Scope"] != "REGIONAL" {
			errs = append(errs, fmt.Sprintf("web ACL scope %v, want REGIONAL", acl["Scope"]))
		}
		if def, _ := acl["DefaultAction"].(map[string]any); def["Allow"] == nil || def["Block"] != nil {
			errs = append(errs, fmt.Sprintf("web ACL default action %v, want Allow", acl["DefaultAction"]))
		}
		rateRules := 0
		for _, r := range list(acl["Rules"]) {
			rule, _ := r.(map[string]any)
			stmt, _ := rule["Statement"].(map[string]any)
			rb, _ := stmt["RateBasedStatement"].(map[string]any)
			if rb == nil {
				continue
			}
			rateRules++
			name := fmt.Sprint(rule["Name"])
			if rb["AggregateKeyType"] != "IP" || rb["ForwardedIPConfig"] != nil || rb["CustomKeys"] != nil {
				errs = append(errs, fmt.Sprintf("rule %s: aggregated by %v, want the source IP", name, rb["AggregateKeyType"]))
			}
			if rb["Limit"] != float64(o.WAFRateLimit) || rb["EvaluationWindowSec"] != float64(stack.WAFWindowSeconds) {
				errs = append(errs, fmt.Sprintf("rule %s: %v requests per %v s, want %d per %d", name, rb["Limit"], rb["EvaluationWindowSec"], o.WAFRateLimit, stack.WAFWindowSeconds))
			}
			if rb["ScopeDownStatement"] != nil {
				errs = append(errs, fmt.Sprintf("rule %s: scoped down, want every request counted", name))
			}
			action, _ := rule["Action"].(map[string]any)
			block, _ := action["Block"].(map[string]any)
			cr, _ := block["CustomResponse"].(map[string]any)
			if cr["ResponseCode"] != float64(429) {
				errs = append(errs, fmt.Sprintf("rule %s: action %v, want Block with a 429", name, rule["Action"]))
				continue
			}
			bodies, _ := acl["CustomResponseBodies"].(map[string]any)
			body, _ := bodies[fmt.Sprint(cr["CustomResponseBodyKey"])].(map[string]any)
			var p map[string]any
			if err := json.Unmarshal([]byte(fmt.Sprint(body["Content"])), &p); err != nil || p["code"] != "rate_limited" || p["status"] != float64(429) {
				errs = append(errs, fmt.Sprintf("rule %s: 429 body %v, want a rate_limited problem", name, body["Content"]))
			}
			if body["ContentType"] != "APPLICATION_JSON" {
				errs = append(errs, fmt.Sprintf("rule %s: 429 body of type %v, want APPLICATION_JSON", name, body["ContentType"]))
			}
			sent := map[string]string{}
			for _, h := range list(cr["ResponseHeaders"]) {
				m, _ := h.(map[string]any)
				sent[fmt.Sprint(m["Name"])] = fmt.Sprint(m["Value"])
			}
			origin, cors := sent["Access-Control-Allow-Origin"]
			delete(sent, "Access-Control-Allow-Origin")
			if ra, err := strconv.Atoi(sent["Retry-After"]); err != nil || ra != stack.WAFWindowSeconds || !maps.Equal(sent, stack.WAFResponseHeaders()) {
				errs = append(errs, fmt.Sprintf("rule %s: 429 headers %v, want Retry-After: %d (one window) and Cache-Control: no-store", name, sent, stack.WAFWindowSeconds))
			}
			if !cors || !strings.Contains(origin, "https://") || !strings.Contains(origin, "DomainName") {
				errs = append(errs, fmt.Sprintf("rule %s: 429 Access-Control-Allow-Origin %q, want the dashboard's origin (the distribution's domain)", name, origin))
			}
		}
		if rateRules != 1 {
			errs = append(errs, fmt.Sprintf("web ACL has %d rate-based rules, want 1", rateRules))
		}
		for aid, a := range assocs {
			if ref(a["WebACLArn"]) != id || !mentions(a["ResourceArn"], stageID) {
				b, _ := json.Marshal(a)
				errs = append(errs, fmt.Sprintf("association %s: %s, want web ACL %s on stage %s", aid, b, id, stageID))
			}
		}
	}
	sort.Strings(errs)
	return errs
}

// roleStatements returns the statements of f's role that grant DynamoDB
// actions.
func (t tmpl) roleStatements(f authz.Function) []map[string]any {
	role := ref(t.ofType("AWS::Lambda::Function")[t.ourFunctions()[f]]["Role"])
	var out []map[string]any
	for _, p := range t.ofType("AWS::IAM::Policy") {
		if !mentions(p["Roles"], role) {
			continue
		}
		doc, _ := p["PolicyDocument"].(map[string]any)
		for _, s := range list(doc["Statement"]) {
			m, _ := s.(map[string]any)
			if b, _ := json.Marshal(m["Action"]); strings.Contains(string(b), "dynamodb:") {
				out = append(out, m)
			}
		}
	}
	return out
}
