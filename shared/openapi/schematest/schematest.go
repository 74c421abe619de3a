// Package schematest holds the schemas of docs/openapi.json as JSON Schema
// 2020-12, the dialect of OpenAPI 3.1, for tests: a value is validated
// against a schema of the document by its JSON pointer with
// santhosh-tekuri/jsonschema (every keyword of the dialect: types and type
// lists, required, closed objects, enum, const, oneOf, patterns,
// minimum/maximum, lengths, and formats asserted: date-time, date, ipv4…),
// the validator kin-openapi itself uses for OpenAPI 3.1 schemas. The
// document's own $refs resolve within it.
package schematest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// base is the URL the document is known by to the compiler.
const base = "urn:apikeys:openapi.json"

// Document is docs/openapi.json with its schemas compiled on demand.
type Document struct {
	// Raw is the document decoded (numbers as json.Number).
	Raw      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}

// Load reads the document at path.
func Load(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schematest: reading the document: %w", err)
	}
	v, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("schematest: decoding %s: %w", path, err)
	}
	raw, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schematest: %s is not a JSON object", path)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(base, raw); err != nil {
		return nil, fmt.Errorf("schematest: adding the document: %w", err)
	}
	return &Document{Raw: raw, compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
}

// Decode decodes JSON as the validator wants it (numbers as json.Number).
func Decode(b []byte) (any, error) { return jsonschema.UnmarshalJSON(bytes.NewReader(b)) }

// Validate validates v (from Decode) against the schema at pointer, a
// JSON pointer into the document such as "#/components/schemas/Key".
func (d *Document) Validate(pointer string, v any) error {
	s, err := d.schema(pointer)
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func (d *Document) schema(pointer string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.compiled[pointer]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(base + pointer)
	if err != nil {
		return nil, fmt.Errorf("schematest: compiling %s: %w", pointer, err)
	}
	d.compiled[pointer] = s
	return s, nil
}

// Get returns the value at pointer ("#/a/b"), following a $ref found on
// the way (a response, request body or parameter defined once in
// components), and the pointer it was found at.
func (d *Document) Get(pointer string) (any, string) {
	var cur any = d.Raw
	at := "#"
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, ""
		}
		if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
			if cur, at = d.Get(ref); cur == nil {
				return nil, ""
			}
			m, _ = cur.(map[string]any)
		}
		name := strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		cur, at = m[name], at+"/"+tok
		if cur == nil {
			return nil, ""
		}
	}
	if m, ok := cur.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#/") && len(m) == 1 {
			return d.Get(ref)
		}
	}
	return cur, at
}

// Escape escapes one JSON pointer token ("/v1/teams" → "~1v1~1teams").
func Escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// ResponseSchema returns the pointer of the schema of path's method
// answering status with mediaType ("" when the document has none).
func (d *Document) ResponseSchema(path, method string, status int, mediaType string) string {
	return d.mediaSchema(fmt.Sprintf("#/paths/%s/%s/responses/%d/content/%s", Escape(path), strings.ToLower(method), status, Escape(mediaType)))
}

// RequestSchema returns the pointer of the schema of path's method's
// request body in mediaType ("" when the document has none).
func (d *Document) RequestSchema(path, method, mediaType string) string {
	return d.mediaSchema(fmt.Sprintf("#/paths/%s/%s/requestBody/content/%s", Escape(path), strings.ToLower(method), Escape(mediaType)))
}

func (d *Document) mediaSchema(media string) string {
	v, at := d.Get(media)
	if m, ok := v.(map[string]any); !ok || m["schema"] == nil {
		return ""
	}
	return at + "/schema"
}
