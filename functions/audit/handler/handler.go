// Package handler serves GET /v1/audit-events: an organization's audit
// trail, newest first, as a JSON page, or exported whole as NDJSON or CSV
// (Accept: application/x-ndjson or text/csv), streamed page by page.
package handler

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Export media types.
const (
	MediaNDJSON = "application/x-ndjson"
	MediaCSV    = "text/csv"
)

// maxFilterBytes bounds key_id and action.
const maxFilterBytes = 128

// Services are the services of Deps the audit function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Audit} }

// Handlers returns the audit function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{"listAuditEvents": List(d)}
}

// Page is the JSON answer: a page of events and the cursor of the next
// (null on the last page), like the key list.
type Page struct {
	Items      []Event `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// timeLayout is the API's time format (UTC, milliseconds).
const timeLayout = "2006-01-02T15:04:05.000Z"

// Event is an audit.Event as answered and exported.
type Event struct {
	ID             string                  `json:"id"`
	At             string                  `json:"at"`
	OrganizationID string                  `json:"organization_id"`
	Action         string                  `json:"action"`
	Actor          audit.Actor             `json:"actor"`
	Target         audit.Target            `json:"target"`
	Source         *audit.Source           `json:"source,omitempty"`
	Changes        map[string]audit.Change `json:"changes,omitempty"`
}

// EventOf shapes ev for the answer.
func EventOf(ev *audit.Event) Event {
	return Event{ID: ev.ID, At: ev.At.UTC().Format(timeLayout), OrganizationID: ev.OrganizationID, Action: ev.Action,
		Actor: ev.Actor, Target: ev.Target, Source: ev.Source, Changes: ev.Changes}
}

// List answers a page of the caller's organization's events, or streams
// every event of the selection when an export is asked for.
func List(d wiring.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		q, err := Query(r)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		switch media := exportMedia(r.Header.Get("Accept")); media {
		case MediaNDJSON, MediaCSV:
			export(w, r, d, caller.OrganizationID, q, media)
		default:
			p, err := d.Audit.ListEvents(r.Context(), caller.OrganizationID, q)
			if err != nil {
				httpapi.WriteError(w, r, d.Logger, fmt.Errorf("audit: listing events: %w", err))
				return
			}
			out := Page{Items: make([]Event, len(p.Items))}
			for i := range p.Items {
				out.Items[i] = EventOf(&p.Items[i])
			}
			if p.Next != "" {
				out.NextCursor = &p.Next
			}
			httpapi.WriteJSON(w, http.StatusOK, out)
		}
	}
}

// exportMedia returns the export format the Accept header asks for first
// ("" for the JSON page).
func exportMedia(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case MediaNDJSON, MediaCSV:
			return mt
		case "application/json", "application/*", "*/*":
			return ""
		}
	}
	return ""
}

// Query reads the filters key_id, action, since, until (RFC 3339), limit
// (1 to audit.MaxLimit) and cursor, answering every bad one at once with
// its field.
func Query(r *http.Request) (audit.Query, error) {
	v := r.URL.Query()
	var fe fault.Fields
	var q audit.Query
	var err error
	q.Limit, _, err = httpapi.QueryInt(v, "limit", 1, audit.MaxLimit)
	_ = fe.Check(err)
	q.Cursor, err = httpapi.QueryString(v, "cursor", httpapi.MaxCursorBytes)
	_ = fe.Check(err)
	q.KeyID, err = httpapi.QueryString(v, "key_id", maxFilterBytes)
	_ = fe.Check(err)
	if q.KeyID != "" && !strings.HasPrefix(q.KeyID, "key_") {
		fe.Add("key_id", fault.FieldInvalid, "a key id starts with \"key_\"")
	}
	q.Action, err = httpapi.QueryString(v, "action", maxFilterBytes)
	_ = fe.Check(err)
	since, sinceOK := queryTime(v.Get, "since", &fe)
	until, untilOK := queryTime(v.Get, "until", &fe)
	if sinceOK && untilOK && !since.IsZero() && !until.IsZero() && !since.Before(until) {
		fe.Add("until", fault.FieldOutOfRange, "must be later than since")
	}
	q.Since, q.Until = since, until
	if err := fe.Err(); err != nil {
		return audit.Query{}, err
	}
	return q, nil
}

// queryTime reads an optional RFC 3339 time (zero when absent); a bad one is
// recorded in fe and reported not ok.
func queryTime(get func(string) string, name string, fe *fault.Fields) (time.Time, bool) {
	s := get(name)
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		fe.Add(name, fault.FieldInvalid, "must be an RFC 3339 time, such as 2026-11-29T12:00:00Z")
		return time.Time{}, false
	}
	return t.UTC(), true
}

// csvColumns are the CSV export's columns.
var csvColumns = []string{"id", "at", "action", "actor_type", "actor_id", "actor_name", "target_type", "target_id", "target_name", "ip", "user_agent", "request_id", "changes"}

// export streams every event q selects, page by page (never the whole
// selection in memory), flushing after each page when the writer can. An
// error before the first byte answers problem+json; after it, the stream
// stops there and the error is logged (the answer is cut short, and the
// last line of NDJSON or CSV is complete).
func export(w http.ResponseWriter, r *http.Request, d wiring.Deps, org string, q audit.Query, media string) {
	ctx := r.Context()
	q.Limit = audit.MaxLimit
	p, err := d.Audit.ListEvents(ctx, org, q)
	if err != nil {
		httpapi.WriteError(w, r, d.Logger, fmt.Errorf("audit: exporting events: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", media+"; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	ext := "ndjson"
	if media == MediaCSV {
		ext = "csv"
	}
	h.Set("Content-Disposition", `attachment; filename="audit-events.`+ext+`"`)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var cw *csv.Writer
	if media == MediaCSV {
		cw = csv.NewWriter(w)
		_ = cw.Write(csvColumns)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		for i := range p.Items {
			if cw != nil {
				err = cw.Write(csvRow(&p.Items[i]))
			} else {
				err = enc.Encode(EventOf(&p.Items[i]))
			}
			if err != nil {
				d.Logger.WarnContext(ctx, "audit export stopped: writing", "error", err)
				return
			}
		}
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				d.Logger.WarnContext(ctx, "audit export stopped: writing", "error", err)
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if p.Next == "" {
			return
		}
		q.Cursor = p.Next
		if p, err = d.Audit.ListEvents(ctx, org, q); err != nil {
			d.Logger.ErrorContext(ctx, "audit export stopped: listing events", "error", err)
			return
		}
	}
}

// csvRow is ev as a CSV row of csvColumns, every cell safe to open in a
// spreadsheet.
func csvRow(ev *audit.Event) []string {
	var src audit.Source
	if ev.Source != nil {
		src = *ev.Source
	}
	changes := ""
	if len(ev.Changes) > 0 {
		b, _ := json.Marshal(ev.Changes) // raw JSON values: cannot fail
		changes = string(b)
	}
	row := []string{ev.ID, ev.At.UTC().Format(timeLayout), ev.Action,
		ev.Actor.Type, ev.Actor.ID, ev.Actor.Name, ev.Target.Type, ev.Target.ID, ev.Target.Name,
		src.IP, src.UserAgent, src.RequestID, changes}
	for i, c := range row {
		row[i] = SafeCell(c)
	}
	return row
}

// SafeCell defuses CSV injection: a cell a spreadsheet would read as a
// formula (starting with =, +, -, @, a tab or a carriage return) is
// prefixed with a single quote.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
