package gate_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/wiring"
)

// TestGuardRecordsTheSource: the guard hands every route it lets through,
// the public leak report included, the request's source for its audit
// events: the client address as the network allowlist sees it (behind a
// trusted proxy, X-Forwarded-For's client, never the proxy), the
// User-Agent and X-Request-Id; a source already set (the Lambda adapter's)
// is kept.
func TestGuardRecordsTheSource(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deps := wiring.NewDeps(st, wiring.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	_, owner, err := deps.Keys.Bootstrap(t.Context(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	guard := deps.Gate.Guard(slog.New(slog.DiscardHandler))
	// verify and healthz are served untouched: no source work on the
	// verification hot path.
	for _, p := range []string{"/v1/verify", "/healthz"} {
		method := map[string]string{"/v1/verify": "POST", "/healthz": "GET"}[p]
		route, ok := deps.Routes.Find(method, p)
		if !ok {
			t.Fatalf("no route %s %s", method, p)
		}
		var got *audit.Source
		h := guard(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = audit.SourceFrom(r.Context()) }))
		r := httptest.NewRequest(method, p, nil)
		r.Header.Set("User-Agent", "ci/1")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != nil {
			t.Errorf("%s %s got a source %+v: work on the verification path", method, p, got)
		}
	}
	for _, tc := range []struct {
		name, method, path, remote, forwarded string
		preset                                *audit.Source
		want                                  audit.Source
	}{
		{"behind the trusted proxy", "GET", "/v1/permissions", "127.0.0.1:5555", "198.51.100.1, 203.0.113.5", nil,
			audit.Source{IP: "203.0.113.5", UserAgent: "ci/1", RequestID: "req-9"}},
		{"direct: the header is the client's own", "GET", "/v1/permissions", "192.0.2.1:4711", "203.0.113.5", nil,
			audit.Source{IP: "192.0.2.1", UserAgent: "ci/1", RequestID: "req-9"}},
		{"a public route", "POST", "/v1/leaks", "192.0.2.2:1", "", nil,
			audit.Source{IP: "192.0.2.2", UserAgent: "ci/1", RequestID: "req-9"}},
		{"set by the Lambda adapter", "GET", "/v1/permissions", "127.0.0.1:5555", "203.0.113.5", &audit.Source{IP: "198.51.100.7", RequestID: "apigw-1"},
			audit.Source{IP: "198.51.100.7", RequestID: "apigw-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route, ok := deps.Routes.Find(tc.method, tc.path)
			if !ok {
				t.Fatalf("no route %s %s", tc.method, tc.path)
			}
			var got *audit.Source
			h := guard(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = audit.SourceFrom(r.Context()) }))
			r := httptest.NewRequest(tc.method, tc.path, nil)
			r.RemoteAddr = tc.remote
			r.Header.Set("Authorization", "Bearer "+owner.Token)
			r.Header.Set("User-Agent", "ci/1")
			r.Header.Set(audit.RequestIDHeader, "req-9")
			if tc.forwarded != "" {
				r.Header.Set("X-Forwarded-For", tc.forwarded)
			}
			if tc.preset != nil {
				r = r.WithContext(audit.WithSource(context.Background(), *tc.preset))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got == nil || *got != tc.want {
				t.Fatalf("source %+v (status %d), want %+v", got, w.Code, tc.want)
			}
		})
	}
}
