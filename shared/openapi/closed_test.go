package openapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
)

// reachable calls f on every schema object reachable from v (following
// $ref, properties, items, additionalProperties and the combinators), each
// once, with a readable location; named collects the components/schemas
// names it passes through.
func reachable(t *testing.T, doc object, at string, v any, seen map[string]bool, named map[string]bool, f func(at string, s object)) {
	t.Helper()
	m, _ := v.(object)
	if m == nil {
		return
	}
	if ref, ok := m["$ref"].(string); ok {
		if seen[ref] {
			return
		}
		seen[ref] = true
		if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
			named[name] = true
			at = name
		}
		target, _ := pointer(doc, ref)
		reachable(t, doc, at, target, seen, named, f)
		return
	}
	f(at, m)
	for name, p := range obj(m, "properties") {
		reachable(t, doc, at+"."+name, p, seen, named, f)
	}
	reachable(t, doc, at+"[]", m["items"], seen, named, f)
	reachable(t, doc, at+".*", m["additionalProperties"], seen, named, f)
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		alts, _ := m[k].([]any)
		for i, a := range alts {
			reachable(t, doc, fmt.Sprintf("%s/%s[%d]", at, k, i), a, seen, named, f)
		}
	}
}

// answerSchemas walks every schema of every documented response.
func answerSchemas(t *testing.T, doc object, f func(at string, s object)) map[string]bool {
	t.Helper()
	seen, named := map[string]bool{}, map[string]bool{}
	for path, item := range obj(doc, "paths") {
		for _, m := range httpMethods {
			op := obj(item, m)
			for status, resp := range obj(op, "responses") {
				for media, mt := range obj(deref(t, doc, resp), "content") {
					at := fmt.Sprintf("%s %s %s %s", strings.ToUpper(m), path, status, media)
					reachable(t, doc, at, mt.(object)["schema"], seen, named, f)
				}
			}
		}
	}
	return named
}

// requestSchemas walks every schema of every documented request body.
func requestSchemas(t *testing.T, doc object) map[string]bool {
	t.Helper()
	seen, named := map[string]bool{}, map[string]bool{}
	for path, item := range obj(doc, "paths") {
		for _, m := range httpMethods {
			body := deref(t, doc, obj(item, m)["requestBody"])
			for media, mt := range obj(body, "content") {
				at := fmt.Sprintf("%s %s request %s", strings.ToUpper(m), path, media)
				reachable(t, doc, at, mt.(object)["schema"], seen, named, func(string, object) {})
			}
		}
	}
	return named
}

// TestAnswerObjectsAreClosed: every object an answer can hold says
// additionalProperties: false (a map, whose additionalProperties is a
// schema and which has no properties, is not an object with fields), so a
// generated client can trust that it knows every field and a field added
// to the code without the document fails here and in TestSchemasMatchWire.
func TestAnswerObjectsAreClosed(t *testing.T) {
	doc := load(t)
	var objects int
	answerSchemas(t, doc, func(at string, s object) {
		if s["type"] != "object" {
			return
		}
		if _, isMap := s["additionalProperties"].(object); isMap && s["properties"] == nil {
			return
		}
		objects++
		if s["additionalProperties"] != false {
			t.Errorf("%s: an answer object must say additionalProperties: false", at)
		}
	})
	if objects < 20 {
		t.Errorf("walked %d answer objects, want the 20 or more the document has", objects)
	}
}

// TestRequestAndAnswerSchemasApart: request bodies and answers share no
// schema, so what a request may leave out (a grant's
// scope, a key's fields on edit) never becomes optional in an answer, nor
// what an answer always holds required in a request.
func TestRequestAndAnswerSchemasApart(t *testing.T) {
	doc := load(t)
	requests := requestSchemas(t, doc)
	answers := answerSchemas(t, doc, func(string, object) {})
	for name := range requests {
		if answers[name] {
			t.Errorf("components/schemas/%s is used by a request body and by an answer: give the request its own schema", name)
		}
	}
	for _, want := range []string{"KeySpec", "GrantSpec", "ScopeSpec", "NodeSpec", "VerifyRequest", "ExploreRequest"} {
		if !requests[want] || answers[want] {
			t.Errorf("%s must be a request schema only (request: %v, answer: %v)", want, requests[want], answers[want])
		}
	}
}

// requiredHeader reports whether response resp declares header name with
// required: true.
func requiredHeader(t *testing.T, doc object, resp any, name string) bool {
	t.Helper()
	h := deref(t, doc, obj(deref(t, doc, resp), "headers")[name])
	return h != nil && h["required"] == true && h["schema"] != nil
}

// TestAlwaysSentHeadersRequired: the headers the server always sends are
// required in the document: Location on every 201, ETag on the key
// answers that carry one and WWW-Authenticate on every 401.
// TestClientLifecycle checks the binary sends them. Retry-After, required on
// every 429, is held by TestRateLimitedResponses.
func TestAlwaysSentHeadersRequired(t *testing.T) {
	doc := load(t)
	etag := map[string]string{"createKey": "201", "getKey": "200", "updateKey": "200", "rotateKey": "200", "revokePreviousToken": "204"}
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		if op == nil {
			continue
		}
		responses := obj(op, "responses")
		for status, resp := range responses {
			var want []string
			switch status {
			case "201":
				want = append(want, "Location")
			case "401":
				want = append(want, "WWW-Authenticate")
			}
			if etag[r.Operation] == status {
				want = append(want, "ETag")
			}
			for _, h := range want {
				if !requiredHeader(t, doc, resp, h) {
					t.Errorf("%s %s: the %s header must be declared with required: true and a schema", r.Operation, status, h)
				}
			}
		}
	}
}

// TestComponentsUsed: every response, parameter and schema component is
// referenced somewhere (405 is described in info.description: no
// operation documents the methods it does not serve).
func TestComponentsUsed(t *testing.T) {
	doc := load(t)
	refs := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case object:
			if ref, ok := v["$ref"].(string); ok {
				refs[ref] = true
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	for _, kind := range []string{"responses", "parameters", "schemas"} {
		for name := range obj(obj(doc, "components"), kind) {
			if ref := "#/components/" + kind + "/" + name; !refs[ref] {
				t.Errorf("%s is referenced by nothing: use it or drop it", ref)
			}
		}
	}
	desc, _ := obj(doc, "info")["description"].(string)
	if !strings.Contains(desc, "405") || !strings.Contains(desc, "Allow") {
		t.Errorf("info.description must describe the 405 answer and its Allow header")
	}
}

// TestInfoAndTags: the document names its license and describes every
// tag, and every operation's tags are declared.
func TestInfoAndTags(t *testing.T) {
	doc := load(t)
	if lic := obj(obj(doc, "info"), "license"); lic["name"] == nil || lic["name"] == "" || (lic["url"] == nil && lic["identifier"] == nil) {
		t.Errorf("info.license = %v, want a name and a url or SPDX identifier", lic)
	}
	tags := map[string]bool{}
	list, _ := doc["tags"].([]any)
	for _, tag := range list {
		tm, _ := tag.(object)
		name, _ := tm["name"].(string)
		tags[name] = true
		if d, _ := tm["description"].(string); d == "" {
			t.Errorf("tag %q has no description", name)
		}
	}
	for _, r := range authz.NewRoutes() {
		op := operation(doc, r)
		for _, tag := range stringList(op["tags"]) {
			if !tags[tag] {
				t.Errorf("%s uses tag %q, which the document does not declare", r.Operation, tag)
			}
		}
	}
}
