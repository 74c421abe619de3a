package handler_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/functions/audit/handler"
	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/wiring"
)

// memTrail is an audit.Reader over events held newest first; a cursor is
// the index of the next event. It counts its listings.
type memTrail struct {
	org    string
	events []audit.Event
	calls  int
}

func (m *memTrail) ListEvents(_ context.Context, org string, q audit.Query) (audit.Page, error) {
	m.calls++
	if q.Now.IsZero() {
		return audit.Page{}, fault.New(fault.CodeInternal, "no Now")
	}
	if org != m.org {
		return audit.Page{}, nil
	}
	start := 0
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil {
			return audit.Page{}, fault.Invalid("cursor", "bad")
		}
		start = n
	}
	end := min(start+q.PageSize(), len(m.events))
	p := audit.Page{Items: append([]audit.Event(nil), m.events[start:end]...)}
	if end < len(m.events) {
		p.Next = strconv.Itoa(end)
	}
	return p, nil
}

// trail makes n events; some names need escaping in JSON (quotes,
// backslashes, a tab), as the cap counts the body inside a JSON string.
func trail(n int) *memTrail {
	m := &memTrail{org: "org_a"}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range n {
		name := fmt.Sprintf("key %d", i)
		if i%3 == 0 {
			name = fmt.Sprintf(`"quoted" \ key	%d`, i)
		}
		m.events = append(m.events, audit.Event{ID: fmt.Sprintf("evt_%05d", n-i), At: at.Add(-time.Duration(i) * time.Second),
			OrganizationID: m.org, Action: audit.KeyUpdated, Actor: audit.KeyActor("key_owner", "Owner"),
			Target: audit.Target{Type: "key", ID: "key_k", Name: name}})
	}
	return m
}

var linkNext = regexp.MustCompile(`^<(\?[^>]*)>; rel="next"$`)

// jsonLen is the length of body as a JSON string without its quotes (what
// the Lambda runtime returns).
func jsonLen(t *testing.T, body string) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return len(b) - 2
}

// exportAll follows an export's Link headers from path and returns each
// answer's body.
func exportAll(t *testing.T, h http.Handler, path, accept string) []string {
	t.Helper()
	var bodies []string
	for range 1000 {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Accept", accept)
		r = r.WithContext(authz.WithPrincipal(r.Context(), authz.Principal{OrganizationID: "org_a", KeyID: "key_owner", Access: authz.Access{AllowAll: true}}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), accept) {
			t.Fatalf("GET %s: %d %s %s", path, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		bodies = append(bodies, w.Body.String())
		link := w.Header().Get("Link")
		if link == "" {
			return bodies
		}
		m := linkNext.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("Link %q is not <?query>; rel=\"next\"", link)
		}
		base, _ := url.Parse("http://api.test" + path)
		next, err := base.Parse(m[1])
		if err != nil {
			t.Fatal(err)
		}
		path = next.RequestURI()
	}
	t.Fatal("the export does not end")
	return nil
}

// TestExportCap: with a cap (the Lambda function's, made small here) an
// export is answered in parts, each within the cap counted as the JSON
// string the Lambda runtime returns, each complete (whole lines, the CSV
// header row first), continued by a Link with rel="next" that keeps the
// filters; following the links yields every event exactly once, in order,
// for NDJSON and CSV. Without a cap one answer holds everything and has no
// Link.
func TestExportCap(t *testing.T) {
	const events, limit = 260, 4000
	m := trail(events)
	deps := wiring.Deps{Audit: m, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}
	capped := http.HandlerFunc(handler.List(deps, handler.WithExportCap(limit)))
	whole := http.HandlerFunc(handler.List(deps))
	want := make([]string, events)
	for i, e := range m.events {
		want[i] = e.ID
	}
	for _, accept := range []string{handler.MediaNDJSON, handler.MediaCSV} {
		t.Run(accept, func(t *testing.T) {
			ids := func(bodies []string) []string {
				var out []string
				for _, b := range bodies {
					if accept == handler.MediaCSV {
						rows, err := csv.NewReader(strings.NewReader(b)).ReadAll()
						if err != nil || len(rows) < 2 || rows[0][0] != "id" {
							t.Fatalf("a CSV part is not a complete CSV with its header row and an event: %v %d rows", err, len(rows))
						}
						for _, row := range rows[1:] {
							out = append(out, row[0])
						}
						continue
					}
					sc := bufio.NewScanner(strings.NewReader(b))
					for sc.Scan() {
						var ev map[string]any
						if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
							t.Fatalf("NDJSON line %q: %v", sc.Text(), err)
						}
						out = append(out, ev["id"].(string))
					}
					if !strings.HasSuffix(b, "\n") {
						t.Fatal("an NDJSON part ends inside a line")
					}
				}
				return out
			}
			parts := exportAll(t, capped, "/v1/audit-events?action=key.updated", accept)
			if len(parts) < 3 {
				t.Fatalf("%d parts with a %d-byte cap, want several", len(parts), limit)
			}
			for i, b := range parts {
				if n := jsonLen(t, b); n > limit {
					t.Errorf("part %d: %d bytes as a JSON string, over the cap %d", i, n, limit)
				}
			}
			if got := ids(parts); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("the parts hold %d events %v…, want each of the %d exactly once, in order", len(got), got[:min(5, len(got))], events)
			}
			one := exportAll(t, whole, "/v1/audit-events", accept)
			if len(one) != 1 || strings.Join(ids(one), ",") != strings.Join(want, ",") {
				t.Fatalf("uncapped: %d answers, want one with every event", len(one))
			}
		})
	}
	// A cap smaller than one event still answers one event per part.
	parts := exportAll(t, http.HandlerFunc(handler.List(deps, handler.WithExportCap(10))), "/v1/audit-events?limit=5", handler.MediaNDJSON)
	if len(parts) != events {
		t.Errorf("a 10-byte cap: %d parts, want one per event (%d)", len(parts), events)
	}
}
