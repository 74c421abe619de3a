package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCORS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := CORS("https://dash.example", ok)
	for _, tt := range []struct {
		origin, want string
	}{
		{"https://dash.example", "https://dash.example"},
		{"https://evil.example", ""},
		{"", ""},
	} {
		r := httptest.NewRequest("GET", "/v1/permissions", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.want {
			t.Errorf("Origin %q: allow-origin %q, want %q", tt.origin, got, tt.want)
		}
		// The dashboard reads ETag, Location, an export's Link and the
		// request id: exposed to its origin only.
		if got, want := w.Header().Get("Access-Control-Expose-Headers"), map[bool]string{true: "ETag, Location, Link, Retry-After, X-Request-Id"}[tt.want != ""]; got != want {
			t.Errorf("Origin %q: expose-headers %q, want %q", tt.origin, got, want)
		}
		if w.Header().Get("Vary") != "Origin" {
			t.Errorf("Origin %q: no Vary: Origin", tt.origin)
		}
	}
	if CORS("", ok) == nil {
		t.Fatal("no origin must keep the handler")
	}
}
