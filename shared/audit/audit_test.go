package audit

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dotenv/apikeys/shared/token"
)

// TestNewIDSortsByTime: ids of later milliseconds sort after earlier ones,
// and every id fits a ClientRequestToken (36 characters at most).
func TestNewIDSortsByTime(t *testing.T) {
	gen := token.NewGenerator()
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 50 {
		id, err := NewID(gen, at.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, IDPrefix) || len(id) > 36 {
			t.Fatalf("id %q", id)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids do not sort by time: %v", ids)
	}
}

// TestSet: a change is recorded only when from and to differ.
func TestSet(t *testing.T) {
	var e Event
	e.Set("name", "a", "a")
	e.Set("expires_at", nil, nil)
	if e.Changes != nil {
		t.Fatalf("equal values recorded: %v", e.Changes)
	}
	e.Set("name", nil, "b")
	if c := e.Changes["name"]; string(c.From) != "null" || string(c.To) != `"b"` {
		t.Errorf("name change %s → %s", c.From, c.To)
	}
}

// TestSourceOf: the address without its port, the user agent and the
// request id, bounded and valid UTF-8.
func TestSourceOf(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/audit-events", nil)
	r.RemoteAddr = "[2001:db8::1]:4711"
	r.Header.Set("User-Agent", strings.Repeat("é", 400)+"\xff")
	r.Header.Set(RequestIDHeader, "req-1")
	s := SourceOf(r, "")
	if s.IP != "2001:db8::1" || s.RequestID != "req-1" || len(s.UserAgent) > maxUserAgent || !utf8.ValidString(s.UserAgent) {
		t.Errorf("source %+v", s)
	}
	if got := SourceOf(r, "apigw-1").RequestID; got != "apigw-1" {
		t.Errorf("the runtime's request id: %q", got)
	}
}

// TestSourceQuotesNoToken: a token in the User-Agent is redacted in the
// recorded source, and an X-Request-Id quoting one is replaced by a
// generated id (the trail is read with another permission, the id is
// answered back).
func TestSourceQuotesNoToken(t *testing.T) {
	sec, err := token.NewGenerator().New()
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/v1/api-keys", nil)
	r.Header.Set("User-Agent", "sdk/2 ("+sec.Token+")")
	r.Header.Set(RequestIDHeader, sec.Token)
	src := SourceOf(r, "")
	if strings.Contains(src.UserAgent, sec.Parsed.Verifier) || src.UserAgent != "sdk/2 ("+token.Redacted+")" {
		t.Errorf("user agent recorded as %q", src.UserAgent)
	}
	if strings.Contains(src.RequestID, token.Prefix) || src.RequestID == "" {
		t.Errorf("request id recorded as %q", src.RequestID)
	}
}
