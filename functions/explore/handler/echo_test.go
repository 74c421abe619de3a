package handler_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/shared/token"
)

// escapeAll writes every character of s as a JSON \uXXXX escape.
func escapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(`\u00` + hex.EncodeToString([]byte{s[i]}))
	}
	return b.String()
}

// leaksToken reports whether text holds tok or its secret part, in any
// letter case.
func leaksToken(text, tok string) bool {
	p, err := token.Parse(tok)
	if err != nil {
		return strings.Contains(text, tok)
	}
	return strings.Contains(strings.ToLower(text), strings.ToLower(p.Verifier))
}

// TestExploreNeverEchoesTheToken: wherever a client puts the explored
// key's token (body, path, query, header, field names), and whatever
// encoding it uses, the explore answer (echoed request, snippets, the
// called route's answer, errors) holds only the placeholder.
func TestExploreNeverEchoesTheToken(t *testing.T) {
	f := setup(t)
	tok := f.token
	pct := url.QueryEscape(strings.NewReplacer("d", "%64", "_", "%5F").Replace(tok))
	b64 := base64.StdEncoding.EncodeToString([]byte(tok))
	tests := []struct {
		name                string
		keyID, tok          string // the explored key and its token (the reader's by default)
		method, path, extra string
		status              int    // of the explore answer
		called              int    // of the explored call, when status is 200
		smuggled            string // the form sent, which must not come back either
		echoed              bool   // the request and snippets must show the placeholder
	}{
		{name: "exact, in the body", method: "POST", path: "/v1/verify", extra: `,"body":{"token":"` + tok + `","permission":"projects:read"}`, status: 200, called: 200, smuggled: tok, echoed: true},
		{name: "JSON-escaped, in the body", method: "POST", path: "/v1/verify", extra: `,"body":{"token":"` + escapeAll(tok) + `","permission":"projects:read"}`, status: 200, called: 200, smuggled: escapeAll(tok), echoed: true},
		{name: "upper-case prefix, in the body", method: "POST", path: "/v1/verify", extra: `,"body":{"token":"DOTENV_` + tok[7:] + `"}`, status: 200, called: 200, smuggled: tok[7:], echoed: true},
		{name: "percent-encoded, in the body", method: "POST", path: "/v1/verify", extra: `,"body":{"token":"x","x":"` + pct + `"}`, status: 200, called: 400, smuggled: pct, echoed: true},
		{name: "base64, in the body", method: "POST", path: "/v1/verify", extra: `,"body":{"token":"x","x":"` + b64 + `"}`, status: 200, called: 400, smuggled: b64, echoed: true},
		{name: "as a body key", method: "POST", path: "/v1/verify", extra: `,"body":{"` + tok + `":1}`, status: 200, called: 400, smuggled: tok, echoed: true},
		{name: "in the query", method: "GET", path: "/v1/projects?cursor=" + tok, status: 200, called: 400, smuggled: tok, echoed: true},
		{name: "as a path id", method: "GET", path: "/v1/projects/" + tok, status: 200, called: 404, smuggled: tok, echoed: true},
		{name: "in If-Match", method: "PATCH", path: "/v1/projects/" + f.prj, extra: `,"headers":{"If-Match":"\"` + tok + `\""}`, status: 200, called: 403, smuggled: tok, echoed: true},
		{name: "in a path that is no route", method: "GET", path: "/v1/" + tok, status: 400, smuggled: tok},
		{name: "as a header name", method: "GET", path: "/v1/projects", extra: `,"headers":{"` + tok + `":"1"}`, status: 400, smuggled: tok},
		{name: "as an unknown field of the explore request", method: "GET", path: "/v1/projects", extra: `,"` + tok + `":1`, status: 400, smuggled: tok},
		// A route that reflects its input: the owner's key renames its
		// organization to its own token, and the answer holds the name.
		{name: "reflected by the called route", keyID: f.ownerKeyID, tok: f.owner, method: "PATCH", path: "/v1/organization", extra: `,"body":{"name":"` + f.owner + `"}`, status: 200, called: 200, smuggled: f.owner, echoed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			keyID, tok := f.keyID, f.token
			if tt.keyID != "" {
				keyID, tok = tt.keyID, tt.tok
			}
			body := `{"token":"` + tok + `","method":"` + tt.method + `","path":` + mustJSON(tt.path) + tt.extra + `}`
			st, res, raw := f.do("/v1/api-keys/"+keyID+"/explore", f.owner, body)
			if st != tt.status {
				t.Fatalf("explore answered %d, want %d (code %v)", st, tt.status, res["code"])
			}
			if leaksToken(raw, tok) || strings.Contains(raw, tt.smuggled) {
				t.Fatal("the explore answer holds the token")
			}
			if st != 200 {
				return
			}
			if got := res["response"].(map[string]any)["status"]; got != float64(tt.called) {
				t.Errorf("the explored call answered %v, want %d", got, tt.called)
			}
			if tt.echoed {
				req, _ := json.Marshal(res["request"])
				if !strings.Contains(string(req), explorehandler.Placeholder) {
					t.Error("the echoed request does not show the placeholder")
				}
				for lang, s := range res["snippets"].(map[string]any) {
					if strings.Count(s.(string), explorehandler.TokenVariable) < 2 {
						t.Errorf("the %s snippet does not show the placeholder where the token was", lang)
					}
				}
			}
		})
	}
}

// TestExploreSendsTheRealBody: the placeholder is only in what is echoed;
// the explored call carries the token the client put in the body.
func TestExploreSendsTheRealBody(t *testing.T) {
	f := setup(t)
	st, res, _ := f.explore(f.token, "POST", "/v1/verify", `,"body":{"token":"`+escapeAll(f.token)+`","permission":"projects:read"}`)
	if st != 200 {
		t.Fatalf("explore answered %d", st)
	}
	body, _ := res["response"].(map[string]any)["body"].(map[string]any)
	if body["valid"] != true || body["allowed"] != true {
		t.Fatalf("POST /v1/verify with the key's own token: valid %v, allowed %v", body["valid"], body["allowed"])
	}
}
