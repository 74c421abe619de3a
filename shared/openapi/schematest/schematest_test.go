package schematest_test

import (
	"testing"

	"github.com/dotenv/apikeys/shared/openapi/schematest"
)

// TestValidateChecksWhatTheDocumentSays: the validator holds values to
// the document's patterns, formats, bounds, closed objects and nulls, and
// finds schemas behind the $refs of responses.
func TestValidateChecksWhatTheDocumentSays(t *testing.T) {
	d, err := schematest.Load("../../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pointer, value string
		ok                   bool
	}{
		{"a change from nothing (an untyped schema accepts null)", "#/components/schemas/AuditChange", `{"from": null, "to": "x"}`, true},
		{"a node", "#/components/schemas/NodeSpec", `{"name": "web"}`, true},
		{"an empty name (minLength)", "#/components/schemas/NodeSpec", `{"name": ""}`, false},
		{"a name too long (maxLength)", "#/components/schemas/NodeSpec", `{"name": "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789x"}`, false},
		{"an undocumented field (additionalProperties: false)", "#/components/schemas/NodeSpec", `{"name": "web", "color": "red"}`, false},
		{"a time without milliseconds (pattern)", "#/components/schemas/WebhookKeyRef", `{"id": "key_1", "expires_at": "2026-12-02T00:00:00Z"}`, false},
		{"a time with milliseconds", "#/components/schemas/WebhookKeyRef", `{"id": "key_1", "expires_at": "2026-12-02T00:00:00.000Z"}`, true},
		{"an impossible date (format date-time)", "#/components/schemas/WebhookKeyRef", `{"id": "key_1", "expires_at": "2026-13-02T00:00:00.000Z"}`, false},
		{"a key id of another kind (pattern)", "#/components/schemas/WebhookKeyRef", `{"id": "wh_1"}`, false},
	}
	for _, tt := range tests {
		v, err := schematest.Decode([]byte(tt.value))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if err := d.Validate(tt.pointer, v); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
	if p := d.ResponseSchema("/v1/api-keys", "GET", 401, "application/problem+json"); p != "#/components/responses/Unauthorized/content/application~1problem+json/schema" {
		t.Errorf("the 401 of listKeys is at %q, want the shared Unauthorized response's schema", p)
	}
	if p := d.RequestSchema("/v1/teams", "POST", "application/json"); p == "" {
		t.Error("createTeam has no request schema")
	}
}
