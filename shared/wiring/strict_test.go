package wiring_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
)

// requiredByOperation is what each body-taking route requires (the
// schemas' required lists of docs/openapi.json).
var requiredByOperation = map[string][]string{
	"verifyToken":        {"token"},
	"createKey":          nil,
	"updateKey":          nil,
	"rotateKey":          nil,
	"exploreKey":         {"token", "method", "path"},
	"updateOrganization": {"name"},
	"createTeam":         {"name"}, "updateTeam": {"name"},
	"createProject": {"name"}, "updateProject": {"name"},
	"createTarget": {"name"}, "updateTarget": {"name"},
	"createEnvironment": {"name"}, "updateEnvironment": {"name"},
	// url and events are required by the service on create, after decoding.
	"createWebhook": nil, "updateWebhook": nil,
	"reportLeak": {"token"},
}

// lenientOperations take a body whose format belongs to someone else, who
// may add fields: it is not decoded strictly.
var lenientOperations = map[string]string{
	"reportGitHubLeaks": "GitHub's secret scanning partner protocol",
}

// fieldErrors returns the field and code of each entry of a problem's
// errors.
func fieldErrors(r response) []string {
	var out []string
	list, _ := r.body["errors"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		c, _ := m["code"].(string)
		msg, _ := m["message"].(string)
		if msg == "" {
			f += " (no message)"
		}
		out = append(out, f+":"+c)
	}
	return out
}

// TestEveryRouteDecodesStrictly: on every route that takes a body, through
// the production router, all field errors of a body are answered at once
// (unknown fields by their exact, case-sensitive name; each missing
// required field), and repeated names, invalid UTF-8 and trailing data are
// refused as malformed JSON.
func TestEveryRouteDecodesStrictly(t *testing.T) {
	e := newEnv(t)
	keyID, _ := e.newKey(`{"name":"strict","preset":"read-only","expiration":"30d"}`)
	hookID := e.create("/v1/webhooks", `{"url":"https://hooks.example.com/strict","events":["key.created"]}`)
	vars := strings.NewReplacer("/v1/webhooks/{id}", "/v1/webhooks/"+hookID, "{id}", keyID, "{team}", e.team, "{project}", e.project, "{target}", e.target, "{environment}", e.prod)
	seen := 0
	for _, rt := range authz.NewRoutes() {
		if (rt.Method != http.MethodPost && rt.Method != http.MethodPatch) ||
			slices.Contains([]string{"rotateWebhookSecret", "retryWebhookDelivery"}, rt.Operation) {
			continue
		}
		if _, lenient := lenientOperations[rt.Operation]; lenient {
			continue
		}
		required, ok := requiredByOperation[rt.Operation]
		if !ok {
			t.Errorf("%s takes a body: add it to requiredByOperation", rt.Operation)
			continue
		}
		seen++
		path := vars.Replace(rt.Pattern)
		t.Run(rt.Operation, func(t *testing.T) {
			if len(required) > 0 {
				r := e.do(rt.Method, path, e.owner, `{}`, nil)
				var want []string
				for _, f := range required {
					want = append(want, f+":required")
				}
				if r.status != http.StatusBadRequest || r.code() != "validation_failed" || !slices.Equal(fieldErrors(r), want) {
					t.Errorf("{} answered %d %s %v, want 400 validation_failed %v", r.status, r.code(), fieldErrors(r), want)
				}
			}
			// Case variants of known names are unknown fields; every error
			// comes at once, in body order, the missing ones last.
			r := e.do(rt.Method, path, e.owner, `{"NAME":"a","Token":"b","zz":[1]}`, nil)
			want := []string{"NAME:unknown_field", "Token:unknown_field", "zz:unknown_field"}
			for _, f := range required {
				want = append(want, f+":required")
			}
			if r.status != http.StatusBadRequest || r.code() != "validation_failed" || !slices.Equal(fieldErrors(r), want) {
				t.Errorf("case variants answered %d %s %v, want 400 validation_failed %v", r.status, r.code(), fieldErrors(r), want)
			}
			for name, body := range map[string]string{
				"duplicate name":           `{"name":"a","name":"b","token":"c","token":"d"}`,
				"duplicate escaped name":   `{"name":"a","n\u0061me":"b","token":"c","t\u006fken":"d"}`,
				"invalid UTF-8 in value":   "{\"name\":\"\xff\",\"token\":\"\xff\"}",
				"invalid UTF-8 in name":    "{\"\xc3\x28\":1}",
				"lone surrogate escape":    `{"name":"\udc00","token":"\udc00"}`,
				"trailing data":            `{"name":"a","token":"b"} x`,
				"two values":               `{} {}`,
				"not an object":            `["name"]`,
				"empty":                    ` `,
				"null":                     `null`,
				"byte order mark":          "\ufeff{}",
				"unterminated":             `{"name":"a`,
				"nested unknown duplicate": `{"zz":{"a":1,"a":2}}`,
			} {
				r := e.do(rt.Method, path, e.owner, body, nil)
				if r.status != http.StatusBadRequest || r.code() != "malformed_json" {
					t.Errorf("%s: answered %d %s, want 400 malformed_json", name, r.status, r.code())
				}
			}
		})
	}
	if seen == 0 {
		t.Fatal("no route takes a body")
	}
}

// TestWrongTypesAllAtOnce: every mistyped field of a key spec is named, with
// wrong_type, in one answer.
func TestWrongTypesAllAtOnce(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/api-keys", e.owner, `{"name":1,"permissions":[{"permission":true,"scope":{"level":2,"id":"x","Path":"y"}},{"scope":[]}],"allow_all":"yes","expiration":30,"expires_at":{}}`, nil)
	want := []string{
		"name:wrong_type",
		"permissions[0].permission:wrong_type",
		"permissions[0].scope.level:wrong_type",
		"permissions[0].scope.Path:unknown_field",
		"permissions[1].scope:wrong_type",
		"permissions[1].permission:required",
		"allow_all:wrong_type",
		"expiration:wrong_type",
		"expires_at:wrong_type",
	}
	if r.status != http.StatusBadRequest || r.code() != "validation_failed" || !slices.Equal(fieldErrors(r), want) {
		t.Errorf("answered %d %s %v, want 400 validation_failed %v", r.status, r.code(), fieldErrors(r), want)
	}
}
