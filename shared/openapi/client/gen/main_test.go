package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDowngrade: each 3.1-only construct the document uses becomes its
// 3.0 equivalent, inside schemas only; the ones without an equivalent are
// errors.
func TestDowngrade(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		fails          bool
	}{
		{name: "version and license", in: `{"openapi":"3.1.0","info":{"license":{"name":"P","identifier":"MIT"}}}`,
			want: `{"openapi":"3.0.3","info":{"license":{"name":"P"}}}`},
		{name: "not 3.1", in: `{"openapi":"3.0.3"}`, fails: true},
		{name: "webhooks", in: `{"openapi":"3.1.0","webhooks":{}}`, fails: true},
		{name: "nullable type", in: `{"openapi":"3.1.0","components":{"schemas":{"A":{"type":["string","null"]}}}}`,
			want: `{"openapi":"3.0.3","components":{"schemas":{"A":{"type":"string","nullable":true}}}}`},
		{name: "two real types", in: `{"openapi":"3.1.0","components":{"schemas":{"A":{"type":["string","integer"]}}}}`, fails: true},
		{name: "oneOf with null", in: `{"openapi":"3.1.0","components":{"schemas":{"A":{"type":"object","properties":{"s":{"oneOf":[{"$ref":"#/components/schemas/B"},{"type":"null"}]}}}}}}`,
			want: `{"openapi":"3.0.3","components":{"schemas":{"A":{"type":"object","properties":{"s":{"allOf":[{"$ref":"#/components/schemas/B"}],"nullable":true}}}}}}`},
		{name: "null among three", in: `{"openapi":"3.1.0","components":{"schemas":{"A":{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}}}}`, fails: true},
		{name: "bare null", in: `{"openapi":"3.1.0","components":{"schemas":{"A":{"type":"null"}}}}`, fails: true},
		{name: "schema examples and const", in: `{"openapi":"3.1.0","components":{"schemas":{"A":{"type":"object","properties":{"examples":{"type":"string","examples":["x","y"]},"k":{"const":"ok"}}}}}}`,
			want: `{"openapi":"3.0.3","components":{"schemas":{"A":{"type":"object","properties":{"examples":{"type":"string","example":"x"},"k":{"enum":["ok"]}}}}}}`},
		{name: "header schema examples", in: `{"openapi":"3.1.0","paths":{"/":{"get":{"responses":{"200":{"headers":{"ETag":{"schema":{"type":"string","examples":["\"1\""]}}}}}}}}}`,
			want: `{"openapi":"3.0.3","paths":{"/":{"get":{"responses":{"200":{"headers":{"ETag":{"schema":{"type":"string","example":"\"1\""}}}}}}}}}`},
		{name: "media type examples untouched", in: `{"openapi":"3.1.0","paths":{"/":{"get":{"responses":{"200":{"content":{"application/json":{"examples":{"a":{"value":1}}}}}}}}}}`,
			want: `{"openapi":"3.0.3","paths":{"/":{"get":{"responses":{"200":{"content":{"application/json":{"examples":{"a":{"value":1}}}}}}}}}}`},
		{name: "closed object kept", in: `{"openapi":"3.1.0","components":{"schemas":{"A":{"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"}}}}}}`,
			want: `{"openapi":"3.0.3","components":{"schemas":{"A":{"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"}}}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc, want map[string]any
			if err := json.Unmarshal([]byte(tc.in), &doc); err != nil {
				t.Fatal(err)
			}
			err := downgrade(doc)
			if tc.fails {
				if err == nil {
					t.Fatalf("downgrade succeeded, want an error; got %v", doc)
				}
				return
			}
			if err != nil {
				t.Fatalf("downgrade: %v", err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc, want) {
				got, _ := json.Marshal(doc)
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
