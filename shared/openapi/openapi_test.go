package openapi_test

import (
	"encoding/json"
	audithandler "github.com/dotenv/apikeys/functions/audit/handler"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/shared/audit"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/webhook"
	"github.com/dotenv/apikeys/shared/wire"
)

// documentPath is docs/openapi.json, relative to this package.
const documentPath = "../../docs/openapi.json"

type object = map[string]any

// load reads and decodes the document.
func load(t *testing.T) object {
	t.Helper()
	b, err := os.ReadFile(documentPath)
	if err != nil {
		t.Fatalf("reading the document: %v", err)
	}
	var doc object
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not valid JSON: %v", documentPath, err)
	}
	return doc
}

// obj returns v[key] as an object, or nil.
func obj(v any, key string) object {
	m, _ := v.(object)
	o, _ := m[key].(object)
	return o
}

// pointer resolves a local "#/..." reference (RFC 6901).
func pointer(doc object, ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(object)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// deref follows $ref (possibly several times) to the object it names.
func deref(t *testing.T, doc object, v any) object {
	t.Helper()
	m, _ := v.(object)
	for i := 0; m != nil && i < 10; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		target, ok := pointer(doc, ref)
		if !ok {
			t.Errorf("$ref %q does not resolve", ref)
			return nil
		}
		m, _ = target.(object)
	}
	return m
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operation returns the document's operation for a route, or nil.
func operation(doc object, r authz.Route) object {
	return obj(obj(doc, "paths")[r.Pattern], strings.ToLower(r.Method))
}

// schema returns components/schemas/name, failing when it is missing.
func schema(t *testing.T, doc object, name string) object {
	t.Helper()
	s := obj(obj(obj(doc, "components"), "schemas"), name)
	if s == nil {
		t.Fatalf("components/schemas/%s is missing", name)
	}
	return s
}

func keys(m object) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func stringList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// jsonNames returns the JSON field names of a struct type, sorted.
func jsonNames(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func TestDocumentHeader(t *testing.T) {
	doc := load(t)
	if v := doc["openapi"]; v != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", v)
	}
	desc, _ := obj(doc, "info")["description"].(string)
	for _, want := range []string{"dotenv_", "base62", "once"} {
		if !strings.Contains(desc, want) {
			t.Errorf("info.description does not mention %q (token format and one-time display)", want)
		}
	}
	scheme := obj(obj(obj(doc, "components"), "securitySchemes"), "bearer")
	if scheme["type"] != "http" || scheme["scheme"] != "bearer" {
		t.Errorf("components/securitySchemes/bearer = %v, want an http bearer scheme", scheme)
	}
	sec, _ := doc["security"].([]any)
	if len(sec) != 1 || !reflect.DeepEqual(sec[0], object{"bearer": []any{}}) {
		t.Errorf("global security = %v, want [{\"bearer\": []}]", doc["security"])
	}
}

// TestEveryRouteDocumented: every route of the table is an operation of the
// document with the route's operationId, permission and function.
func TestEveryRouteDocumented(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			t.Errorf("%s %s (%s) is missing from the document", r.Method, r.Pattern, r.Operation)
			continue
		}
		if got := op["operationId"]; got != r.Operation {
			t.Errorf("%s %s: operationId = %v, want %s", r.Method, r.Pattern, got, r.Operation)
		}
		if got, ok := op["x-permission"].(string); !ok || got != r.Permission {
			t.Errorf("%s %s: x-permission = %v, want %q", r.Method, r.Pattern, op["x-permission"], r.Permission)
		}
		if got, ok := op["x-function"].(string); !ok || got != string(r.Function) {
			t.Errorf("%s %s: x-function = %v, want %q", r.Method, r.Pattern, op["x-function"], r.Function)
		}
	}
}

// TestNoOperationWithoutRoute: every operation of the document is a route of
// the table, and operationIds are unique.
func TestNoOperationWithoutRoute(t *testing.T) {
	doc := load(t)
	routes := authz.NewRoutes()
	seen := map[string]string{}
	for path, item := range obj(doc, "paths") {
		for _, m := range httpMethods {
			op := obj(item, m)
			if op == nil {
				continue
			}
			if _, ok := routes.Find(strings.ToUpper(m), path); !ok {
				t.Errorf("the document has %s %s, which the route table does not", strings.ToUpper(m), path)
			}
			id, _ := op["operationId"].(string)
			if prev, dup := seen[id]; dup {
				t.Errorf("operationId %q is used by %s and %s %s", id, prev, strings.ToUpper(m), path)
			}
			seen[id] = strings.ToUpper(m) + " " + path
		}
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// TestPathParameters: the path parameters of each route are exactly the
// required "in: path" parameters of its path item and operation.
func TestPathParameters(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			continue // reported by TestEveryRouteDocumented
		}
		var want []string
		for _, m := range pathParam.FindAllStringSubmatch(r.Pattern, -1) {
			want = append(want, m[1])
		}
		sort.Strings(want)
		var got []string
		params, _ := obj(doc, "paths")[r.Pattern].(object)["parameters"].([]any)
		ops, _ := op["parameters"].([]any)
		for _, p := range append(slices.Clone(params), ops...) {
			pm := deref(t, doc, p)
			if pm["in"] != "path" {
				continue
			}
			name, _ := pm["name"].(string)
			if pm["required"] != true {
				t.Errorf("%s: path parameter %q is not required: true", r.Operation, name)
			}
			if pm["schema"] == nil {
				t.Errorf("%s: path parameter %q has no schema", r.Operation, name)
			}
			got = append(got, name)
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: path parameters = %v, want %v", r.Method, r.Pattern, got, want)
		}
	}
}

// TestSecurity: public routes remove the global bearer requirement with
// security: []; the others keep it.
func TestSecurity(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			continue
		}
		sec, has := op["security"]
		list, _ := sec.([]any)
		switch {
		case r.Public() && (!has || len(list) != 0):
			t.Errorf("%s is public: want security: [], got %v", r.Operation, sec)
		case !r.Public() && has && !reflect.DeepEqual(list, []any{object{"bearer": []any{}}}):
			t.Errorf("%s needs a token: want the global bearer security, got %v", r.Operation, sec)
		}
	}
}

// takesBody reports whether a route's handler decodes a JSON body: every
// POST and PATCH (rotate's is optional, see optionalBody).
func takesBody(r authz.Route) bool {
	return (r.Method == http.MethodPost || r.Method == http.MethodPatch) &&
		!slices.Contains([]string{"rotateWebhookSecret", "retryWebhookDelivery"}, r.Operation)
}

// optionalBody lists the operations whose body may be left out: rotate
// without a body is a rotation without a grace period.
var optionalBody = map[string]bool{"rotateKey": true}

// TestRequestBodies: routes that decode a body document an application/json
// one; the others document none.
func TestRequestBodies(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			continue
		}
		body := deref(t, doc, op["requestBody"])
		if !takesBody(r) {
			if body != nil {
				t.Errorf("%s takes no body but documents one", r.Operation)
			}
			continue
		}
		media := obj(obj(body, "content"), "application/json")
		if media == nil || deref(t, doc, media["schema"]) == nil {
			t.Errorf("%s: requestBody lacks an application/json schema", r.Operation)
		}
		if required := body["required"] == true; required == optionalBody[r.Operation] {
			t.Errorf("%s: requestBody required is %v, want %v", r.Operation, required, !optionalBody[r.Operation])
		}
	}
}

// TestErrorResponses: every route answers 500 and 503; non-public routes
// 401 and 403; routes with a body 400, 413 and 415; and every error is
// application/problem+json with the Problem schema.
func TestErrorResponses(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			continue
		}
		responses := obj(op, "responses")
		want := []string{"500", "503"}
		if !r.Public() {
			want = append(want, "401", "403")
		}
		if takesBody(r) {
			want = append(want, "400", "413", "415")
		}
		for _, s := range want {
			if responses[s] == nil {
				t.Errorf("%s %s (%s) lacks a %s response", r.Method, r.Pattern, r.Operation, s)
			}
		}
		for status, resp := range responses {
			if status[0] != '4' && status[0] != '5' {
				continue
			}
			rm := deref(t, doc, resp)
			media := obj(obj(rm, "content"), "application/problem+json")
			s, _ := media["schema"].(object)
			if s["$ref"] != "#/components/schemas/Problem" {
				t.Errorf("%s: response %s is not application/problem+json with the Problem schema", r.Operation, status)
			}
			if d, _ := rm["description"].(string); d == "" {
				t.Errorf("%s: response %s has no description", r.Operation, status)
			}
		}
	}
}

// TestSuccessResponses: creates answer 201, deletes 204 without a body,
// the rest 200 with a JSON body; key create/get/update/rotate carry an
// ETag, key create a Location; lists take limit and cursor; key update and
// rotate take If-Match.
func TestSuccessResponses(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			continue
		}
		responses := obj(op, "responses")
		want := "200"
		switch {
		case strings.HasPrefix(r.Operation, "create"):
			want = "201"
		case r.Method == http.MethodDelete:
			want = "204"
		case r.Operation == "reportLeak":
			want = "202" // accepted whatever the token: not an oracle
		}
		var success []string
		for s := range responses {
			if s[0] == '2' {
				success = append(success, s)
			}
		}
		if len(success) != 1 || success[0] != want {
			t.Errorf("%s: success responses = %v, want [%s]", r.Operation, success, want)
			continue
		}
		resp := deref(t, doc, responses[want])
		content := obj(resp, "content")
		if want == "204" {
			if content != nil {
				t.Errorf("%s: 204 documents a body", r.Operation)
			}
		} else if obj(obj(content, "application/json"), "schema") == nil {
			t.Errorf("%s: %s lacks an application/json schema", r.Operation, want)
		}
		headers := obj(resp, "headers")
		switch r.Operation {
		case "createKey", "getKey", "updateKey", "rotateKey", "revokePreviousToken":
			if headers["ETag"] == nil {
				t.Errorf("%s: %s lacks the ETag header", r.Operation, want)
			}
		}
		if r.Operation == "createKey" && headers["Location"] == nil {
			t.Errorf("createKey: 201 lacks the Location header")
		}
		params := map[string]bool{}
		ps, _ := op["parameters"].([]any)
		for _, p := range ps {
			pm := deref(t, doc, p)
			name, _ := pm["name"].(string)
			params[pm["in"].(string)+":"+name] = true
		}
		// The catalog and an organization's webhooks (at most 20) are one
		// page; a webhook's deliveries take limit only (the latest ones).
		if strings.HasPrefix(r.Operation, "list") && !slices.Contains([]string{"listPermissions", "listWebhooks", "listWebhookDeliveries"}, r.Operation) {
			if !params["query:limit"] || !params["query:cursor"] {
				t.Errorf("%s lacks the limit or cursor query parameter", r.Operation)
			}
		}
		if (r.Operation == "updateKey" || r.Operation == "rotateKey" || r.Operation == "revokePreviousToken") && !params["header:If-Match"] {
			t.Errorf("%s lacks the If-Match header parameter", r.Operation)
		}
	}
}

// TestRefsResolve: every $ref of the document is local and resolves.
func TestRefsResolve(t *testing.T) {
	doc := load(t)
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case object:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := pointer(doc, ref); !ok {
					t.Errorf("%s: $ref %q points to nothing", at, ref)
				}
			}
			for k, e := range v {
				walk(at+"/"+k, e)
			}
		case []any:
			for _, e := range v {
				walk(at+"[]", e)
			}
		}
	}
	walk("#", doc)
}

// TestKeySchema: Key requires exactly the JSON fields of wire.Key except
// token, which only KeyWithToken has.
func TestKeySchema(t *testing.T) {
	doc := load(t)
	// Every field of wire.Key but token is a property; the ones it omits
	// when empty (the previous token's, during a grace period) are
	// optional, the others required.
	var want, required []string
	for f := range reflect.TypeFor[wire.Key]().Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "token" {
			continue
		}
		want = append(want, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	want, required = sorted(want), sorted(required)
	key := schema(t, doc, "Key")
	if got := stringList(key["required"]); !slices.Equal(got, required) {
		t.Errorf("Key.required = %v, want the JSON fields of wire.Key it always sends: %v", got, required)
	}
	if got := keys(obj(key, "properties")); !slices.Equal(got, want) {
		t.Errorf("Key.properties = %v, want %v", got, want)
	}
	// KeyWithToken is Key plus token, spelled out: Key is closed
	// (additionalProperties: false), so an allOf of Key and {token} would
	// admit no object at all.
	withToken := schema(t, doc, "KeyWithToken")
	if withToken["additionalProperties"] != false {
		t.Errorf("KeyWithToken must say additionalProperties: false")
	}
	if got, want := stringList(withToken["required"]), append(slices.Clone(required), "token"); !slices.Equal(got, sorted(want)) {
		t.Errorf("KeyWithToken.required = %v, want Key's and token: %v", got, sorted(want))
	}
	props := obj(withToken, "properties")
	for name, p := range obj(key, "properties") {
		if !reflect.DeepEqual(props[name], p) {
			t.Errorf("KeyWithToken.properties.%s differs from Key's", name)
		}
	}
	if tok := obj(props, "token"); tok == nil || len(props) != len(obj(key, "properties"))+1 {
		t.Errorf("KeyWithToken.properties = %v, want Key's and token", keys(props))
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// TestSchemasMatchWire: the properties of each schema are exactly the JSON
// field names of its Go type, so a field added to the code must be
// documented (and one removed, undocumented).
func TestSchemasMatchWire(t *testing.T) {
	doc := load(t)
	for name, typ := range map[string]reflect.Type{
		// Request bodies.
		"KeySpec":          reflect.TypeFor[wire.KeySpec](),
		"RotateSpec":       reflect.TypeFor[wire.RotateSpec](),
		"VerifyRequest":    reflect.TypeFor[wire.VerifyRequest](),
		"NodeSpec":         reflect.TypeFor[wire.NodeSpec](),
		"OrganizationSpec": reflect.TypeFor[wire.OrganizationSpec](),
		"Resource":         reflect.TypeFor[wire.Resource](),
		"GrantSpec":        reflect.TypeFor[wire.GrantSpec](),
		"ScopeSpec":        reflect.TypeFor[wire.ScopeSpec](),
		// Responses.
		"Grant":               reflect.TypeFor[wire.Grant](),
		"MissingGrant":        reflect.TypeFor[wire.Grant](),
		"Scope":               reflect.TypeFor[wire.Scope](),
		"KeyPage":             reflect.TypeFor[wire.Page[wire.Key]](),
		"NodePage":            reflect.TypeFor[wire.Page[wire.Node]](),
		"Node":                reflect.TypeFor[wire.Node](),
		"Organization":        reflect.TypeFor[wire.Organization](),
		"VerifyResponse":      reflect.TypeFor[wire.VerifyResponse](),
		"VerifiedKey":         reflect.TypeFor[wire.VerifiedKey](),
		"Catalog":             reflect.TypeFor[wire.Catalog](),
		"CatalogGroup":        reflect.TypeFor[wire.CatalogGroup](),
		"CatalogPermission":   reflect.TypeFor[wire.CatalogPermission](),
		"CatalogWildcard":     reflect.TypeFor[wire.CatalogWildcard](),
		"CatalogPreset":       reflect.TypeFor[wire.CatalogPreset](),
		"CatalogRoute":        reflect.TypeFor[wire.CatalogRoute](),
		"ExploreRequest":      reflect.TypeFor[explorehandler.Request](),
		"ExploreResult":       reflect.TypeFor[explorehandler.Result](),
		"ExploreCallRequest":  reflect.TypeFor[explorehandler.CallRequest](),
		"ExploreCallResponse": reflect.TypeFor[explorehandler.CallResponse](),
		"ExploreSnippets":     reflect.TypeFor[explorehandler.Snippets](),
		"AccessCell":          reflect.TypeFor[explorehandler.AccessCell](),
		"AccessNode":          reflect.TypeFor[explorehandler.AccessNode](),
		"AuditEventPage":      reflect.TypeFor[audithandler.Page](),
		"AuditEvent":          reflect.TypeFor[audithandler.Event](),
		"AuditActor":          reflect.TypeFor[audit.Actor](),
		"AuditTarget":         reflect.TypeFor[audit.Target](),
		"AuditSource":         reflect.TypeFor[audit.Source](),
		"AuditChange":         reflect.TypeFor[audit.Change](),
		"Problem":             reflect.TypeFor[httpapi.Problem](),
		"KeyUsage":            reflect.TypeFor[wire.KeyUsage](),
		"UsageDay":            reflect.TypeFor[wire.UsageDay](),
		"UsageCount":          reflect.TypeFor[wire.UsageCount](),
		"FieldError":          reflect.TypeFor[fault.FieldError](),
		// Webhooks.
		"WebhookSpec":            reflect.TypeFor[wire.WebhookSpec](),
		"WebhookWithSecret":      reflect.TypeFor[wire.Webhook](),
		"WebhookList":            reflect.TypeFor[wire.WebhookList](),
		"WebhookDelivery":        reflect.TypeFor[wire.Delivery](),
		"WebhookDeliveryAttempt": reflect.TypeFor[wire.DeliveryAttempt](),
		"WebhookDeliveryList":    reflect.TypeFor[wire.DeliveryList](),
		"WebhookEvent":           reflect.TypeFor[webhook.Payload](),
		"WebhookEventData":       reflect.TypeFor[webhook.KeyData](),
		"WebhookKeyRef":          reflect.TypeFor[webhook.KeyRef](),

		// The explorer's summary of the nodes a key may not list.
		"AccessHidden":           reflect.TypeFor[explorehandler.AccessHidden](),
		"AccessHiddenPermission": reflect.TypeFor[explorehandler.AccessHiddenPermission](),
	} {
		want := jsonNames(typ)
		if got := keys(obj(schema(t, doc, name), "properties")); !slices.Equal(got, want) {
			t.Errorf("%s.properties = %v, want the JSON fields of %s: %v", name, got, typ, want)
		}
	}
}

// TestProblemCodes: every code the Problem schema lists is a code of
// package fault with its status, and each error response of an operation
// is for a status some code has.
func TestProblemCodes(t *testing.T) {
	doc := load(t)
	code := obj(obj(schema(t, doc, "Problem"), "properties"), "code")
	statuses := map[int]bool{}
	for _, c := range stringList(code["enum"]) {
		s := httpapi.StatusOf(fault.Code(c))
		if s == http.StatusInternalServerError && fault.Code(c) != fault.CodeInternal {
			t.Errorf("Problem.code lists %q, which is not a code of package fault", c)
		}
		statuses[s] = true
	}
	if len(statuses) < 11 {
		t.Errorf("Problem.code enum covers %d statuses, want the 11 of docs/http-api.md", len(statuses))
	}
	for path, item := range obj(doc, "paths") {
		for _, m := range httpMethods {
			for s := range obj(obj(item, m), "responses") {
				if s[0] != '4' && s[0] != '5' {
					continue
				}
				var n int
				for _, ch := range s {
					n = n*10 + int(ch-'0')
				}
				if !statuses[n] {
					t.Errorf("%s %s answers %s, which no error code maps to", strings.ToUpper(m), path, s)
				}
			}
		}
	}
}

// TestRateLimitedResponses: every route may answer 429 rate_limited (API
// Gateway's throttling and WAF on AWS; in the single binary every route
// that authenticates, POST /v1/verify included, after too many failed
// authentications), always with an integer Retry-After header: the single
// binary, API Gateway's throttle and the WAF rule's custom response all
// send it, so the document requires it.
func TestRateLimitedResponses(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			continue
		}
		resp := obj(obj(op, "responses"), "429")
		if resp == nil {
			t.Errorf("%s %s (%s) lacks a 429 response", r.Method, r.Pattern, r.Operation)
			continue
		}
		rm := deref(t, doc, resp)
		if d, _ := rm["description"].(string); !strings.HasPrefix(d, string(fault.CodeRateLimited)+":") {
			t.Errorf("%s: 429 description %q does not name the rate_limited code", r.Operation, d)
		}
		ra := deref(t, doc, obj(obj(rm, "headers"), "Retry-After"))
		if typ, _ := obj(ra, "schema")["type"].(string); typ != "integer" {
			t.Errorf("%s: 429 lacks an integer Retry-After header: %v", r.Operation, ra)
		}
		if ra["required"] != true {
			t.Errorf("%s: the 429's Retry-After header must be required: true", r.Operation)
		}
	}
	if httpapi.StatusOf(fault.CodeRateLimited) != http.StatusTooManyRequests {
		t.Errorf("rate_limited maps to %d", httpapi.StatusOf(fault.CodeRateLimited))
	}
}
