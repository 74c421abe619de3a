package handler_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzExplore sends arbitrary explore requests (method, path, one header,
// body, token) through the production router, which makes the explored
// calls to itself: a client's mistake is never a 5xx nor a panic, every
// error is problem+json, and the explored key's token never comes back.
// In the inputs {TOKEN} stands for that token, {OTHER} for another key's,
// {KEY} for the explored key's id and {PRJ} for a project's id.
func FuzzExplore(f *testing.F) {
	for _, s := range []struct{ tok, method, path, hname, hvalue, body string }{
		{"{TOKEN}", "GET", "/v1/projects", "", "", ""},
		{"{TOKEN}", "GET", "/v1/projects?limit=1&cursor=x", "", "", ""},
		{"{TOKEN}", "get", "/v1/projects/{PRJ}", "if-match", `"1"`, ""},
		{"{TOKEN}", "PATCH", "/v1/projects/{PRJ}", "If-Match", "\"1\"\x01", `{"name":"x"}`},
		{"{TOKEN}", "PATCH", "/v1/projects/{PRJ}", "If-Match", "\"é\"", `{"name":"x"}`},
		{"{TOKEN}", "PATCH", "/v1/projects/{PRJ}", "If-Match", "\"1\"\x7f", `{"name":"x"}`},
		{"{TOKEN}", "PATCH", "/v1/projects/{PRJ}", "If-Match", " \t\"1\" ", `{"name":"x"}`},
		{"{TOKEN}", "POST", "/v1/teams", "Content-Type", "application/json\x1b", `{"name":"x"}`},
		{"{TOKEN}", "POST", "/v1/verify", "", "", `{"token":"{TOKEN}","permission":"projects:read"}`},
		{"{TOKEN}", "POST", "/v1/verify", "", "", `{"token":"\u0064otenv_x","x":"{TOKEN}"}`},
		{"{TOKEN}", "POST", "/v1/verify", "", "", `{"{TOKEN}":["{TOKEN}",1,null,{"a":"%64{TOKEN}"}]}`},
		{"{TOKEN}", "DELETE", "/v1/api-keys/{KEY}", "", "", ""},
		{"{TOKEN}", "GET", "/v1/api-keys/{TOKEN}", "", "", ""},
		{"{TOKEN}", "GET", "/v1/{TOKEN}", "{TOKEN}", "{TOKEN}", ""},
		{"{TOKEN}", "GET", "/v1/projects/é?x=\x00", "", "", ""},
		{"{TOKEN}", "GET", "//evil.example/v1/projects", "Host", "evil", ""},
		{"{TOKEN}", "TRACE", "/v1/../admin", "Authorization", "Bearer x", `[`},
		{"{TOKEN}", "POST", "/v1/verify", "", "", `null`},
		{"{TOKEN}", "POST", "/v1/verify", "", "", `{"token":1e999}`},
		{"{OTHER}", "GET", "/v1/projects", "", "", ""},
		{"dotenv_notatoken", "GET", "/v1/projects", "", "", ""},
		{"", "", "", "", "", ""},
	} {
		f.Add(s.tok, s.method, s.path, s.hname, s.hvalue, s.body)
	}
	fx := setup(f)
	fill := strings.NewReplacer("{TOKEN}", fx.token, "{OTHER}", fx.otherToken, "{KEY}", fx.keyID, "{PRJ}", fx.prj)
	f.Fuzz(func(t *testing.T, tok, method, path, hname, hvalue, body string) {
		otherUsed := strings.Contains(tok+method+path+hname+hvalue+body, "{OTHER}")
		tok, method, path, hname, hvalue, body = fill.Replace(tok), fill.Replace(method), fill.Replace(path), fill.Replace(hname), fill.Replace(hvalue), fill.Replace(body)
		req := map[string]any{"token": tok, "method": method, "path": path}
		if hname != "" {
			req["headers"] = map[string]string{hname: hvalue}
		}
		raw, err := json.Marshal(req)
		if err != nil {
			return // not representable as a JSON string (invalid UTF-8 is replaced, never an error)
		}
		if body != "" {
			raw = append(append(raw[:len(raw)-1], `,"body":`...), body+"}"...)
		}
		r := httptest.NewRequest("POST", "/v1/api-keys/"+fx.keyID+"/explore", strings.NewReader(string(raw)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+fx.owner)
		w := httptest.NewRecorder()
		fx.router.ServeHTTP(w, r)
		answer := w.Body.String()
		if leaksToken(answer, fx.token) || !otherUsed && leaksToken(answer, fx.otherToken) || leaksToken(answer, fx.owner) {
			t.Fatalf("explore answered %d with a token in it", w.Code)
		}
		if w.Code >= 500 {
			// The answer holds no token (checked above).
			t.Fatalf("explore answered %d: %s", w.Code, answer)
		}
		if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("error %d without problem+json: %s", w.Code, w.Header())
		}
		if w.Code == http.StatusOK {
			var res map[string]any
			dec := json.NewDecoder(w.Body)
			dec.UseNumber() // the echoed body may hold numbers beyond float64
			if err := dec.Decode(&res); err != nil || res["access"] == nil || res["access_hidden"] == nil {
				t.Fatalf("200 without a result: %.200s", answer)
			}
		}
	})
}
