package openapi_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	leakshandler "github.com/dotenv/apikeys/functions/leaks/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

// requestTypes is the Go type each body-taking operation decodes its body
// into.
var requestTypes = map[string]reflect.Type{
	"verifyToken":        reflect.TypeFor[wire.VerifyRequest](),
	"createKey":          reflect.TypeFor[wire.KeySpec](),
	"updateKey":          reflect.TypeFor[wire.KeySpec](),
	"rotateKey":          reflect.TypeFor[wire.RotateSpec](),
	"exploreKey":         reflect.TypeFor[explorehandler.Request](),
	"updateOrganization": reflect.TypeFor[wire.OrganizationSpec](),
	"createTeam":         reflect.TypeFor[wire.NodeSpec](),
	"updateTeam":         reflect.TypeFor[wire.NodeSpec](),
	"createProject":      reflect.TypeFor[wire.NodeSpec](),
	"updateProject":      reflect.TypeFor[wire.NodeSpec](),
	"createTarget":       reflect.TypeFor[wire.NodeSpec](),
	"updateTarget":       reflect.TypeFor[wire.NodeSpec](),
	"createEnvironment":  reflect.TypeFor[wire.NodeSpec](),
	"updateEnvironment":  reflect.TypeFor[wire.NodeSpec](),
	"createWebhook":      reflect.TypeFor[wire.WebhookSpec](),
	"updateWebhook":      reflect.TypeFor[wire.WebhookSpec](),
	"reportLeak":         reflect.TypeFor[leakshandler.SelfReportBody](),
}

// lenientBodies are the bodies the strict decoder does not read: their
// format belongs to someone else, who may add fields.
var lenientBodies = map[string]string{
	"reportGitHubLeaks": "GitHub's secret scanning partner protocol: a JSON array whose objects GitHub may extend",
}

// TestRequestSchemasRequireWhatTheDecoderRequires: for every request body,
// and every object nested in it, the schema's required list is exactly the
// fields the strict decoder requires (httpapi.RequiredFields) and the
// schema refuses additional properties as the decoder does, so the
// document and the code cannot drift apart.
func TestRequestSchemasRequireWhatTheDecoderRequires(t *testing.T) {
	doc := load(t)
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil || !takesBody(r) {
			continue
		}
		if _, lenient := lenientBodies[r.Operation]; lenient {
			continue
		}
		typ, ok := requestTypes[r.Operation]
		if !ok {
			t.Errorf("%s takes a body: add its Go type to requestTypes", r.Operation)
			continue
		}
		body := deref(t, doc, op["requestBody"])
		s := obj(obj(obj(body, "content"), "application/json"), "schema")
		checkRequestSchema(t, doc, r.Operation, serviceRequires(t, doc, r.Operation, s), typ)
	}
}

// serviceRequired are the fields an operation's service (not the decoder)
// requires: the body's Go type is shared with an operation where they are
// optional, so the schema is allOf [that type's schema, {required}], and
// a missing one answers validation_failed with field code required all
// the same (TestClientLifecycle in shared/openapi/client sends them).
var serviceRequired = map[string][]string{
	"createKey":     {"name"},          // optional on updateKey
	"createProject": {"team_id"},       // refused on every other node body
	"createWebhook": {"events", "url"}, // optional on updateWebhook
}

// serviceRequires checks that s is allOf [$ref, {required:
// serviceRequired[op]}] when op has service-required fields (and a plain
// schema when not), and returns the part the decoder's type describes.
func serviceRequires(t *testing.T, doc object, op string, s object) any {
	t.Helper()
	want := serviceRequired[op]
	all, isAll := deref(t, doc, s)["allOf"].([]any)
	if !isAll {
		if want != nil {
			t.Errorf("%s: the body schema must be allOf [the shared schema, {required: %v}]", op, want)
		}
		return s
	}
	var base any
	var extra []string
	for _, part := range all {
		p, _ := part.(object)
		switch {
		case p["$ref"] != nil && base == nil:
			base = p
		case len(p) == 1 && p["required"] != nil:
			extra = append(extra, stringList(p["required"])...)
		default:
			t.Errorf("%s: an allOf part of the body schema may only be the shared $ref or {required: [...]}, got %v", op, keys(p))
		}
	}
	sort.Strings(extra)
	if !slices.Equal(extra, sorted(want)) {
		t.Errorf("%s: the body schema adds required %v, want %v (serviceRequired)", op, extra, sorted(want))
	}
	props := obj(deref(t, doc, base), "properties")
	for _, f := range extra {
		if props[f] == nil {
			t.Errorf("%s: requires %q, which its schema does not have", op, f)
		}
	}
	return base
}

// checkRequestSchema compares schema s at path at with Go type typ, then
// their members, elements and alternatives.
func checkRequestSchema(t *testing.T, doc object, at string, s any, typ reflect.Type) {
	t.Helper()
	m := deref(t, doc, s)
	if m == nil {
		return
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if alts, ok := m["oneOf"].([]any); ok {
		for _, alt := range alts {
			if a := deref(t, doc, alt); a["type"] != "null" {
				checkRequestSchema(t, doc, at, a, typ)
			}
		}
		return
	}
	switch typ.Kind() {
	case reflect.Slice:
		if typ.Elem().Kind() != reflect.Uint8 { // json.RawMessage: any value
			checkRequestSchema(t, doc, at+"[]", m["items"], typ.Elem())
		}
	case reflect.Map:
		checkRequestSchema(t, doc, at+".*", m["additionalProperties"], typ.Elem())
	case reflect.Struct:
		want := httpapi.RequiredFields(typ)
		sort.Strings(want)
		if got := stringList(m["required"]); !slices.Equal(got, want) {
			t.Errorf("%s (%s): the schema requires %v, the decoder %v", at, typ, got, want)
		}
		if m["additionalProperties"] != false {
			t.Errorf("%s (%s): the schema must say additionalProperties: false (the decoder refuses unknown fields)", at, typ)
		}
		props := obj(m, "properties")
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if p, ok := props[name]; ok {
				checkRequestSchema(t, doc, at+"."+name, p, f.Type)
			} else {
				t.Errorf("%s (%s): the schema lacks property %q", at, typ, name)
			}
		}
	}
}
