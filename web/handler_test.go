package web

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testDist() fstest.MapFS {
	return fstest.MapFS{
		"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc123.js"></script><link rel="stylesheet" href="/assets/index-def456.css">`)},
		"assets/index-abc123.js":  {Data: []byte(`console.log("app")`)},
		"assets/index-def456.css": {Data: []byte(`body{}`)},
		"assets/logo-0a1b2c.svg":  {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"assets/font-99.woff2":    {Data: []byte("wOF2")},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	}
}

func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerRoutes(t *testing.T) {
	h := Handler(testDist(), Config{})
	index := string(testDist()["index.html"].Data)
	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		cache       string
		body        string // exact body when not empty
	}{
		{"root is the app", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", index},
		{"list page", "GET", "/dashboard/organizations/api-keys", 200, "text/html; charset=utf-8", "no-cache", index},
		{"create page", "GET", "/dashboard/organizations/api-keys/create", 200, "text/html; charset=utf-8", "no-cache", index},
		{"explorer page", "GET", "/dashboard/organizations/api-keys/key_abc/explore", 200, "text/html; charset=utf-8", "no-cache", index},
		{"key page", "GET", "/dashboard/organizations/api-keys/key_abc", 200, "text/html; charset=utf-8", "no-cache", index},
		{"edit page", "GET", "/dashboard/organizations/api-keys/key_abc/edit", 200, "text/html; charset=utf-8", "no-cache", index},
		{"trailing slash", "GET", "/dashboard/organizations/api-keys/", 200, "text/html; charset=utf-8", "no-cache", index},
		{"sign-in", "GET", "/sign-in", 200, "text/html; charset=utf-8", "no-cache", index},
		{"index.html itself", "GET", "/index.html", 200, "text/html; charset=utf-8", "no-cache", index},
		{"script", "GET", "/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", cacheImmutable, `console.log("app")`},
		{"stylesheet", "GET", "/assets/index-def456.css", 200, "text/css; charset=utf-8", cacheImmutable, "body{}"},
		{"svg asset", "GET", "/assets/logo-0a1b2c.svg", 200, "image/svg+xml", cacheImmutable, ""},
		{"font asset", "GET", "/assets/font-99.woff2", 200, "font/woff2", cacheImmutable, ""},
		{"top-level file", "GET", "/favicon.svg", 200, "image/svg+xml", "no-cache", ""},
		{"missing asset is 404, not the app", "GET", "/assets/index-zzz.js", 404, "text/plain; charset=utf-8", "no-store", ""},
		{"asset directory is 404", "GET", "/assets/", 404, "text/plain; charset=utf-8", "no-store", ""},
		{"dot segments in assets", "GET", "/assets/../index.html", 404, "text/plain; charset=utf-8", "no-store", ""},
		{"unknown top-level file", "GET", "/robots.txt", 404, "text/plain; charset=utf-8", "no-store", ""},
		{"api paths are not the app", "GET", "/v1/api-keys", 404, "text/plain; charset=utf-8", "no-store", ""},
		{"lookalike prefix", "GET", "/dashboardx", 404, "text/plain; charset=utf-8", "no-store", ""},
		{"HEAD of the app", "HEAD", "/dashboard/organizations/api-keys/key_abc", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"POST refused", "POST", "/dashboard/organizations/api-keys", 405, "text/plain; charset=utf-8", "no-store", ""},
		{"config", "GET", "/config.json", 200, "application/json", "no-cache", `{"apiBaseUrl":""}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, tc.method, tc.path, nil)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tc.status, rec.Body.String())
			}
			if got := rec.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tc.cache)
			}
			if tc.body != "" && rec.Body.String() != tc.body {
				t.Errorf("body = %q, want %q", rec.Body.String(), tc.body)
			}
			if tc.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD answered a body of %d bytes", rec.Body.Len())
			}
			if tc.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// The key and edit pages used to live at /api-keys/{id}[/edit]; those
// addresses (bookmarks, links in old messages) redirect permanently to the
// same page under /dashboard/organizations/api-keys, query kept, and never
// anywhere else.
func TestLegacyAddressesRedirect(t *testing.T) {
	h := Handler(testDist(), Config{})
	for _, tc := range []struct {
		method, path, location string
	}{
		{"GET", "/api-keys/key_abc", "/dashboard/organizations/api-keys/key_abc"},
		{"GET", "/api-keys/key_abc/edit", "/dashboard/organizations/api-keys/key_abc/edit"},
		{"GET", "/api-keys/key_abc/", "/dashboard/organizations/api-keys/key_abc"},
		{"GET", "/api-keys", "/dashboard/organizations/api-keys"},
		{"GET", "/api-keys/key_abc?tab=grants", "/dashboard/organizations/api-keys/key_abc?tab=grants"},
		{"GET", "/api-keys//evil.example/x", "/dashboard/organizations/api-keys/evil.example/x"},
		{"HEAD", "/api-keys/key_abc/edit", "/dashboard/organizations/api-keys/key_abc/edit"},
	} {
		rec := do(t, h, tc.method, tc.path, nil)
		if rec.Code != http.StatusPermanentRedirect || rec.Header().Get("Location") != tc.location {
			t.Errorf("%s %s: %d Location %q, want 308 to %q", tc.method, tc.path, rec.Code, rec.Header().Get("Location"), tc.location)
		}
	}
	for _, p := range []string{"/api-keysx", "/v1/api-keys/key_abc"} {
		if rec := do(t, h, "GET", p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := Handler(testDist(), Config{})
	for _, p := range []string{"/", "/api-keys/key_1", "/assets/index-abc123.js", "/assets/missing.js", "/config.json", "/nope", "/favicon.svg"} {
		for _, m := range []string{"GET", "HEAD", "DELETE"} {
			rec := do(t, h, m, p, nil)
			want := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			}
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s %s: %s = %q, want %q", m, p, k, got, v)
				}
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("%s %s: CSP %q lacks %q", m, p, csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows unsafe sources: %q", csp)
			}
		}
	}
}

func TestConfigAndCSPNameTheAPIOrigin(t *testing.T) {
	h := Handler(testDist(), Config{APIBaseURL: "https://api.example.com/prod/"})
	rec := do(t, h, "GET", "/config.json", nil)
	var cfg map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["apiBaseUrl"] != "https://api.example.com/prod" {
		t.Errorf("apiBaseUrl = %q", cfg["apiBaseUrl"])
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://api.example.com;") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestInvalidAPIBaseURLFallsBackToSameOrigin(t *testing.T) {
	for _, bad := range []string{"ftp://x", "api.example.com", "https://u:p@x.com", "https://x.com/?a=1", "javascript:alert(1)"} {
		if (Config{APIBaseURL: bad}).Validate() == nil {
			t.Errorf("Validate(%q) = nil", bad)
		}
		rec := do(t, Handler(testDist(), Config{APIBaseURL: bad}), "GET", "/config.json", nil)
		if got := rec.Body.String(); got != `{"apiBaseUrl":""}` {
			t.Errorf("%q: config = %s", bad, got)
		}
	}
	if err := (Config{APIBaseURL: "http://127.0.0.1:8080"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestConditionalRequests(t *testing.T) {
	h := Handler(testDist(), Config{})
	first := do(t, h, "GET", "/dashboard/organizations/api-keys", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on index.html")
	}
	again := do(t, h, "GET", "/dashboard/organizations/api-keys/key_1", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified {
		t.Errorf("revalidation status = %d, want 304", again.Code)
	}
	if again.Header().Get("Content-Security-Policy") == "" {
		t.Error("304 without security headers")
	}
}

func TestNoBuild(t *testing.T) {
	h := Handler(fstest.MapFS{}, Config{})
	rec := do(t, h, "GET", "/dashboard/organizations/api-keys", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", rec.Code)
	}
	if err := CheckDist(fstest.MapFS{}); err == nil {
		t.Error("CheckDist of an empty FS = nil")
	}
}

func TestContentTypeDoesNotDependOnTheMachine(t *testing.T) {
	for name, want := range map[string]string{
		"a.JS": "text/javascript; charset=utf-8", "b.css": "text/css; charset=utf-8", "c.html": "text/html; charset=utf-8",
		"d.json": "application/json", "e.svg": "image/svg+xml", "f.woff2": "font/woff2", "g.unknownext": "application/octet-stream",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// The committed build must be complete: index.html and every asset it names.
func TestCommittedDist(t *testing.T) {
	d := Dist()
	if err := CheckDist(d); err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(d, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	index := string(data)
	for _, bad := range []string{"<script>", " onload=", " onclick=", " style=\"", "http://", "https://"} {
		if strings.Contains(index, bad) {
			t.Errorf("index.html contains %q, which a strict CSP blocks or which loads from elsewhere", bad)
		}
	}
	h := Handler(d, Config{})
	rec := do(t, h, "GET", "/dashboard/organizations/api-keys", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `src="/assets/`) {
		t.Fatalf("dashboard: %d %q", rec.Code, rec.Body.String())
	}
}
