package wiring_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// serve sends one request through the production router and checks what
// every answer must satisfy: never a 5xx, an error is always problem+json
// with its code and status, and no answer but create's or rotate's carries
// a token.
func (e *env) serve(t *testing.T, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	req.URL = &url.URL{Path: path}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		req.URL = &url.URL{Path: path[:i], RawQuery: path[i+1:]}
	}
	req.RequestURI = req.URL.RequestURI()
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.owner)
	for k, v := range hdr {
		req.Header[k] = []string{v}
	}
	w := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(w, req)
	if w.Code >= 500 {
		t.Fatalf("%s %s answered %d: %s", method, req.URL.Path, w.Code, w.Body)
	}
	if method != "POST" || (req.URL.Path != "/v1/api-keys" && !strings.HasSuffix(req.URL.Path, "/rotate")) {
		if strings.Contains(w.Body.String(), `"token":"dotenv_`) {
			t.Fatalf("%s %s answered a token", method, req.URL.Path)
		}
	}
	if w.Code >= 400 {
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: error %d without problem+json: %s", method, req.URL.Path, w.Code, ct)
		}
		var p struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || p.Code == "" {
			t.Fatalf("%s %s: %d answered a problem without status or code: %s", method, req.URL.Path, w.Code, w.Body)
		}
	}
	return w
}

// problemNames reports whether an answer is a 400 whose errors name field.
func problemNames(w *httptest.ResponseRecorder, field string) bool {
	var p struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	if w.Code != 400 || json.Unmarshal(w.Body.Bytes(), &p) != nil {
		return false
	}
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// variant rewrites a body the way careless or hostile clients do; 0 keeps
// it.
func variant(body string, v uint8) string {
	switch v % 7 {
	case 1: // names and values in upper case
		return strings.ToUpper(body)
	case 2: // the first member repeated
		if i := strings.IndexByte(body, ','); strings.HasPrefix(body, "{") && i > 0 {
			return body[:i] + "," + body[1:]
		}
	case 3: // invalid UTF-8 in the middle
		return body[:len(body)/2] + "\xff" + body[len(body)/2:]
	case 4: // trailing data
		return body + " {}"
	case 5: // every name escaped
		return strings.ReplaceAll(body, `{"`, `{"\u0020`)
	case 6: // a lone surrogate
		return strings.Replace(body, `":"`, `":"\udc00`, 1)
	}
	return body
}

// FuzzBodies sends arbitrary bodies, and variants of them, to every route
// that takes one, through the production router: a client mistake is
// never a 5xx and never a panic, errors are problem+json, and no answer
// but create's carries a token.
func FuzzBodies(f *testing.F) {
	for _, seed := range []string{
		`{"name":"a","preset":"read-only","expiration":"30d"}`,
		`{"name":"a","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"env_x"}}],"expires_at":"2030-01-01T00:00:00Z"}`,
		`{"name":"a","permissions":[{"permission":"secrets:*","scope":null}],"allow_all":false,"expiration":"never"}`,
		`{"permissions":[{"permission":"x:y","scope":{"level":"galaxy","id":""}}]}`,
		`{"name":"\u0000","expires_at":"2030-02-30T00:00:00Z"}`,
		`{"token":"dotenv_x","permission":"secrets:read","resource":{"environment":"env_x"}}`,
		`{"name":"p","team_id":"team_x"}`,
		`{"NAME":"a","Preset":"read-only"}`,
		`{"name":"a","name":"b"}`,
		`{"name":"a","n\u0061me":"b"}`,
		"{\"name\":\"\xff\"}",
		"{\"\xff\":1}",
		`{"name":"\ud800"}`,
		`{"token":"x","method":"GET","path":"/v1/teams","headers":{"A":"b","A":"c"},"body":{"x":1,"x":2}}`,
		`{"name":"a"}}`,
		`[`, `null`, `{"name":1e999}`, `{"a":{"b":{"c":[[[[]]]]}}}`, `{"name":-0.0e-0}`,
	} {
		f.Add(seed, uint8(0), uint8(0))
	}
	e := newEnv(f)
	routes := []struct{ method, path string }{
		{"POST", "/v1/api-keys"},
		{"PATCH", "/v1/api-keys/{key}"},
		{"POST", "/v1/verify"},
		{"POST", "/v1/teams"},
		{"PATCH", "/v1/teams/{team}"},
		{"POST", "/v1/projects"},
		{"POST", "/v1/projects/{project}/targets"},
		{"PATCH", "/v1/organization"},
		{"POST", "/v1/api-keys/{key}/explore"},
	}
	keyID, _ := e.newKey(`{"name":"fuzzed","preset":"read-only","expiration":"30d"}`)
	vars := strings.NewReplacer("{key}", keyID, "{team}", e.team, "{project}", e.project)
	f.Fuzz(func(t *testing.T, body string, which, v uint8) {
		rt := routes[int(which)%len(routes)]
		e.serve(t, rt.method, vars.Replace(rt.path), variant(body, v), nil)
	})
}

// FuzzListQuery sends arbitrary limit and cursor values to every list
// route: never a 5xx; a limit that is not a whole number from 1 to 100
// (overflows included) is a 400 naming limit; a cursor beyond its bound a
// 400 naming cursor.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []struct{ limit, cursor string }{
		{"", ""}, {"1", ""}, {"100", ""}, {"0", ""}, {"101", ""}, {"-1", ""}, {"+5", ""}, {"05", ""},
		{"2147483647", ""}, {"2147483648", ""}, {"4294967296", ""}, {"-2147483649", ""},
		{"9223372036854775807", ""}, {"9223372036854775808", ""}, {"18446744073709551616", ""},
		{"99999999999999999999999999999999", ""}, {"1e2", ""}, {"1.0", ""}, {"0x10", ""}, {" 5", ""},
		{"٥", ""}, {"５", ""}, {"5\x00", ""}, {"\xff", ""}, {"NaN", ""},
		{"", "eyJvIjoib3JnX3giLCJsIjoia2V5cyJ9"}, {"", "not a cursor"}, {"", "%00"}, {"", "é€😀"},
		{"", strings.Repeat("A", 5000)}, {"", strings.Repeat("\xff", 100)}, {"10", "=="},
	} {
		f.Add(seed.limit, seed.cursor, uint8(0))
	}
	e := newEnv(f)
	lists := []string{
		"/v1/api-keys", "/v1/teams", "/v1/projects",
		"/v1/projects/" + e.project + "/targets",
		"/v1/projects/" + e.project + "/targets/" + e.target + "/environments",
	}
	f.Fuzz(func(t *testing.T, limit, cursor string, which uint8) {
		q := url.Values{}
		if limit != "" {
			q.Set("limit", limit)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		path := lists[int(which)%len(lists)]
		w := e.serve(t, "GET", path+"?"+q.Encode(), "", nil)
		if limit != "" && !validLimit(limit) && !problemNames(w, "limit") {
			t.Fatalf("limit %q answered %d without naming limit: %s", limit, w.Code, w.Body)
		}
		if len(cursor) > 1024 && !problemNames(w, "cursor") {
			t.Fatalf("a %d-byte cursor answered %d without naming cursor", len(cursor), w.Code)
		}
	})
}

// validLimit is the documented rule for limit: decimal digits only
// (leading zeros allowed), a value from 1 to 100.
func validLimit(s string) bool {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
		if n <= 100 {
			n = n*10 + int(c-'0')
		}
	}
	return s != "" && n >= 1 && n <= 100
}

// FuzzIfMatch sends arbitrary If-Match values to edit and rotate: never a
// 5xx; anything but "*" or the quoted ETag of a version from 1 to 2^63-1
// (W/ allowed) is a 400 naming If-Match or a 409 for a stale version.
func FuzzIfMatch(f *testing.F) {
	for _, seed := range []string{
		`"1"`, `W/"1"`, `*`, ``, `"0"`, `"-1"`, `1`, `"1`, `""1""`, `"1", "2"`, `W/`, `w/"1"`,
		`"9223372036854775807"`, `"9223372036854775808"`, `"18446744073709551616"`, `"2147483648"`,
		`"١"`, "\"1\x00\"", "\"\xff\"", ` "1" `, `"+1"`, `"1e3"`, strings.Repeat(`"9`, 5000),
	} {
		f.Add(seed, false)
	}
	e := newEnv(f)
	keyID, _ := e.newKey(`{"name":"fuzzed","preset":"read-only","expiration":"30d"}`)
	f.Fuzz(func(t *testing.T, ifMatch string, rotate bool) {
		method, path, body := "PATCH", "/v1/api-keys/"+keyID, `{"name":"fuzzed"}`
		if rotate {
			method, path, body = "POST", "/v1/api-keys/"+keyID+"/rotate", ""
		}
		w := e.serve(t, method, path, body, map[string]string{"If-Match": ifMatch})
		if w.Code == 400 && !problemNames(w, "If-Match") {
			t.Fatalf("If-Match %q answered 400 without naming If-Match: %s", ifMatch, w.Body)
		}
	})
}

// FuzzExpiresAt sends arbitrary expires_at values to create and edit: never
// a 5xx (years 0, 9999 and 10000, offsets up to ±23:59, leap seconds,
// fractional digits), and a refused time is a 400 naming expires_at.
func FuzzExpiresAt(f *testing.F) {
	for _, seed := range []string{
		"2027-01-31T00:00:00Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
		"9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.999999999-23:59", "10000-01-01T00:00:00Z",
		"2027-01-01T00:00:00+23:59", "2027-01-01T00:00:00-24:00", "2027-06-30T23:59:60Z", "2016-12-31T23:59:60Z",
		"2027-01-01T00:00:00.123456789Z", "2027-01-01T00:00:00.1234567891234Z", "2027-01-01T00:00:00.Z",
		"2027-02-29T00:00:00Z", "2028-02-29T00:00:00Z", "2027-01-01t00:00:00z", "2027-01-01 00:00:00Z",
		"2027-01-01T00:00:00", "2027-1-1T0:0:0Z", "+2027-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
		"2027-01-01T00:00:00Z\x00", "２０２７-01-01T00:00:00Z", "",
	} {
		f.Add(seed, false)
	}
	e := newEnv(f)
	keyID, _ := e.newKey(`{"name":"fuzzed","preset":"read-only","expiration":"30d"}`)
	f.Fuzz(func(t *testing.T, at string, edit bool) {
		q, err := json.Marshal(at)
		if err != nil || !bytes.Equal(bytes.ToValidUTF8(q, nil), q) {
			return
		}
		method, path, body := "POST", "/v1/api-keys", `{"name":"t","preset":"read-only","expires_at":`+string(q)+`}`
		if edit {
			method, path, body = "PATCH", "/v1/api-keys/"+keyID, `{"expires_at":`+string(q)+`}`
		}
		w := e.serve(t, method, path, body, nil)
		if w.Code == 400 && !problemNames(w, "expires_at") {
			t.Fatalf("expires_at %q answered 400 without naming expires_at: %s", at, w.Body)
		}
	})
}
