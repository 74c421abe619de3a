package openapi_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
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
		typ, ok := requestTypes[r.Operation]
		if !ok {
			t.Errorf("%s takes a body: add its Go type to requestTypes", r.Operation)
			continue
		}
		body := deref(t, doc, op["requestBody"])
		s := obj(obj(obj(body, "content"), "application/json"), "schema")
		checkRequestSchema(t, doc, r.Operation, s, typ)
	}
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
