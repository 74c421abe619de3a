package gate_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/wiring"
)

// TestGuardRequestID: in the single binary every request through the guard
// gets a request id, recorded in its audit source and answered in
// X-Request-Id (a refusal's too): the client's X-Request-Id when it is 1 to
// 64 visible ASCII characters, a generated one otherwise (absent, too
// long, with spaces, control or non-ASCII characters), different for each
// request.
func TestGuardRequestID(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deps := wiring.NewDeps(st, wiring.Options{})
	_, owner, err := deps.Keys.Bootstrap(t.Context(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	guard := deps.Gate.Guard(slog.New(slog.DiscardHandler))
	route, ok := deps.Routes.Find("GET", "/v1/permissions")
	if !ok {
		t.Fatal("no route GET /v1/permissions")
	}
	var got *audit.Source
	h := guard(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = audit.SourceFrom(r.Context()) }))
	send := func(id, token string) (*audit.Source, *httptest.ResponseRecorder) {
		got = nil
		r := httptest.NewRequest("GET", "/v1/permissions", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		if id != "" {
			r.Header[audit.RequestIDHeader] = []string{id}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return got, w
	}
	generated := func(s string) bool {
		return len(s) == 26 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
	}
	seen := map[string]bool{}
	for _, tc := range []struct {
		name, header string
		kept         bool
	}{
		{"absent", "", false},
		{"a proxy's id", "req-9", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"a UUID", "5f1e8a44-7b2c-4d1e-9a3f-0c6d2b7e8f90", true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"with a space", "req 9", false},
		{"with a control character", "req\x01", false},
		{"not ASCII", "réq", false},
		{"a forged log line", "x\r\nevil: 1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, w := send(tc.header, owner.Token)
			if w.Code != http.StatusOK || src == nil {
				t.Fatalf("status %d, source %+v", w.Code, src)
			}
			answered := w.Header().Get(audit.RequestIDHeader)
			if answered != src.RequestID {
				t.Errorf("answered X-Request-Id %q, recorded %q", answered, src.RequestID)
			}
			switch {
			case tc.kept && src.RequestID != tc.header:
				t.Errorf("request id %q, want the client's %q", src.RequestID, tc.header)
			case !tc.kept && !generated(src.RequestID):
				t.Errorf("request id %q, want a generated one (26 base32 characters)", src.RequestID)
			}
			if !tc.kept {
				if seen[src.RequestID] {
					t.Errorf("generated request id %q given twice", src.RequestID)
				}
				seen[src.RequestID] = true
			}
		})
	}
	// A refusal carries its request id too.
	if _, w := send("", "dotenv_not_a_token"); w.Code != http.StatusUnauthorized || !generated(w.Header().Get(audit.RequestIDHeader)) {
		t.Errorf("401: status %d, X-Request-Id %q", w.Code, w.Header().Get(audit.RequestIDHeader))
	}
}
