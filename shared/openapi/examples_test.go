package openapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/openapi/schematest"
)

// mediaHasExample reports whether a media type object, or the schema it
// names, carries an example.
func mediaHasExample(t *testing.T, doc object, media object) bool {
	if media["example"] != nil || len(obj(media, "examples")) > 0 {
		return true
	}
	s := deref(t, doc, media["schema"])
	ex, _ := s["examples"].([]any)
	return len(ex) > 0
}

// TestEveryBodyHasAnExample: every operation's request body and every 2xx
// answer with a body shows a whole example (on its schema or its media
// type), and every parameter an example value, so a reader and a mock
// server see a real one.
func TestEveryBodyHasAnExample(t *testing.T) {
	doc := load(t)
	for path, item := range obj(doc, "paths") {
		for _, m := range httpMethods {
			op := obj(item, m)
			if op == nil {
				continue
			}
			id, _ := op["operationId"].(string)
			if rb := deref(t, doc, op["requestBody"]); rb != nil {
				for mt, media := range obj(rb, "content") {
					if !mediaHasExample(t, doc, media.(object)) {
						t.Errorf("%s (%s %s): the %s request body has no example", id, strings.ToUpper(m), path, mt)
					}
				}
			}
			for status, r := range obj(op, "responses") {
				if !strings.HasPrefix(status, "2") {
					continue
				}
				for mt, media := range obj(deref(t, doc, r), "content") {
					if !mediaHasExample(t, doc, media.(object)) {
						t.Errorf("%s: the %s %s answer has no example", id, status, mt)
					}
				}
			}
			params, _ := op["parameters"].([]any)
			itemParams, _ := item.(object)["parameters"].([]any)
			for _, p := range slices.Concat(params, itemParams) {
				prm := deref(t, doc, p)
				if prm["example"] == nil && len(obj(prm, "examples")) == 0 {
					t.Errorf("%s: the %s parameter %s has no example", id, prm["in"], prm["name"])
				}
			}
		}
	}
}

// TestExamplesValidate: every example in the document — a schema's
// examples, a media type's or a parameter's example — is valid against
// its schema for the JSON Schema 2020-12 validator the client test uses
// (patterns, formats, bounds and closed objects included).
func TestExamplesValidate(t *testing.T) {
	d, err := schematest.Load(documentPath)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	check := func(at, schemaAt string, v any) {
		t.Helper()
		checked++
		// Round-trip through the validator's decoding (numbers as json.Number).
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		dv, err := schematest.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		if err := d.Validate(schemaAt, dv); err != nil {
			t.Errorf("the example at %s does not match its schema: %v", at, err)
		}
	}
	var walk func(at string, parentKey string, v any)
	walk = func(at, parentKey string, v any) {
		switch v := v.(type) {
		case map[string]any:
			// A schema's examples: a list of values (not under
			// properties, where "examples" would be a property name).
			if ex, ok := v["examples"].([]any); ok && parentKey != "properties" {
				for i, e := range ex {
					check(fmt.Sprintf("%s/examples/%d", at, i), at, e)
				}
			}
			// A media type's or a parameter's example(s), of its schema.
			if _, ok := v["schema"].(map[string]any); ok && parentKey != "properties" {
				if e, ok := v["example"]; ok {
					check(at+"/example", at+"/schema", e)
				}
				for name, e := range obj(v, "examples") {
					if val, ok := e.(map[string]any)["value"]; ok {
						check(at+"/examples/"+name, at+"/schema", val)
					}
				}
			}
			for k, x := range v {
				walk(at+"/"+schematest.Escape(k), k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", at, i), "", x)
			}
		}
	}
	for _, section := range []string{"paths", "components"} {
		walk("#/"+section, "", d.Raw[section])
	}
	if checked < 50 {
		t.Errorf("checked %d examples, want the document's (at least 50)", checked)
	}
}
