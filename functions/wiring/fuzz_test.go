package wiring_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBodies sends arbitrary bodies to every route that takes one, through
// the production router: a client mistake is never a 5xx and never a
// panic, and no answer but create's carries a token.
func FuzzBodies(f *testing.F) {
	for _, seed := range []string{
		`{"name":"a","preset":"read-only","expiration":"30d"}`,
		`{"name":"a","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"env_x"}}],"expires_at":"2030-01-01T00:00:00Z"}`,
		`{"name":"a","permissions":[{"permission":"secrets:*","scope":null}],"allow_all":false,"expiration":"never"}`,
		`{"permissions":[{"permission":"x:y","scope":{"level":"galaxy","id":""}}]}`,
		`{"name":"\u0000","expires_at":"2030-02-30T00:00:00Z"}`,
		`{"token":"dotenv_x","permission":"secrets:read","resource":{"environment":"env_x"}}`,
		`{"name":"p","team_id":"team_x"}`,
		`[`, `null`, `{"name":1e999}`, `{"a":{"b":{"c":[[[[]]]]}}}`,
	} {
		f.Add(seed, uint8(0))
	}
	e := newEnv(f)
	routes := []struct{ method, path string }{
		{"POST", "/v1/api-keys"},
		{"PATCH", "/v1/api-keys/{key}"},
		{"POST", "/v1/verify"},
		{"POST", "/v1/teams"},
		{"POST", "/v1/projects"},
		{"PATCH", "/v1/organization"},
		{"POST", "/v1/api-keys/{key}/explore"},
	}
	keyID, _ := e.newKey(`{"name":"fuzzed","preset":"read-only","expiration":"30d"}`)
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		rt := routes[int(which)%len(routes)]
		req := httptest.NewRequest(rt.method, strings.ReplaceAll(rt.path, "{key}", keyID), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.owner)
		w := httptest.NewRecorder()
		e.srv.Config.Handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q answered %d: %s", rt.method, rt.path, body, w.Code, w.Body)
		}
		if rt.path != "/v1/api-keys" && strings.Contains(w.Body.String(), `"token":"dotenv_`) {
			t.Fatalf("%s answered a token: %s", rt.path, w.Body)
		}
		if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("error without problem+json: %d %s", w.Code, w.Header())
		}
	})
}
