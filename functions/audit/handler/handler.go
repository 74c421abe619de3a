// Package handler serves GET /v1/audit-events: an organization's audit
// trail, newest first, as a JSON page, or exported whole as NDJSON or CSV
// (Accept: application/x-ndjson or text/csv), streamed page by page.
package handler

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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

// Handlers returns the audit function's handlers by operation. Without
// options an export streams the whole selection in one answer (the single
// binary).
func Handlers(d wiring.Deps, opts ...Option) authz.Handlers {
	return authz.Handlers{"listAuditEvents": List(d, opts...)}
}

// Option tunes the handler.
type Option func(*config)

type config struct{ exportCap int }

// LambdaExportCap is the export cap of the Lambda function: the API Gateway
// adapter buffers an answer whole, and Lambda refuses a synchronous answer
// over 6 MB (6,291,456 bytes, counted in the JSON the runtime returns, where
// the body is a JSON string). 5,000,000 bytes of that leaves room for the
// headers and the envelope.
const LambdaExportCap = 5_000_000

// WithExportCap bounds each export answer: its body, counted as the JSON
// string the Lambda runtime carries it in (quotes, backslashes and control
// characters escaped), stays within n bytes. An export that does not fit
// ends at an event boundary and answers a Link header with rel="next",
// whose URL (the same query, with cursor set) continues it; each answer is
// complete (the CSV one with its header row). At least one event is always
// answered, so an export always progresses. n ≤ 0 means no cap.
func WithExportCap(n int) Option { return func(c *config) { c.exportCap = n } }

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
// every event of the selection when an export is asked for (WithExportCap:
// as much of it as the cap allows, with the continuation in Link).
func List(d wiring.Deps, opts ...Option) http.HandlerFunc {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		q, err := Query(r)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		// The service's clock, never the store's wall clock, places the
		// retention horizon; an export keeps it for every page.
		q.Now = d.Now()
		switch media := exportMedia(r.Header.Get("Accept")); media {
		case MediaNDJSON, MediaCSV:
			if cfg.exportCap > 0 {
				exportCapped(w, r, d, caller.OrganizationID, q, media, cfg.exportCap)
				return
			}
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
	setExportHeaders(w.Header(), media)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	lw := newLineWriter(w, media)
	for {
		for i := range p.Items {
			if err := lw.write(&p.Items[i]); err != nil {
				d.Logger.WarnContext(ctx, "audit export stopped: writing", "error", err)
				return
			}
		}
		if err := lw.flush(); err != nil {
			d.Logger.WarnContext(ctx, "audit export stopped: writing", "error", err)
			return
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

// setExportHeaders sets the headers of an export answer of media.
func setExportHeaders(h http.Header, media string) {
	h.Set("Content-Type", media+"; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	ext := "ndjson"
	if media == MediaCSV {
		ext = "csv"
	}
	h.Set("Content-Disposition", `attachment; filename="audit-events.`+ext+`"`)
}

// lineWriter writes events as NDJSON lines or CSV rows (after the header
// row) to w.
type lineWriter struct {
	cw  *csv.Writer
	enc *json.Encoder
}

func newLineWriter(w io.Writer, media string) *lineWriter {
	lw := &lineWriter{}
	if media == MediaCSV {
		lw.cw = csv.NewWriter(w)
		_ = lw.cw.Write(csvColumns) // buffered: an error shows at flush
		return lw
	}
	lw.enc = json.NewEncoder(w)
	lw.enc.SetEscapeHTML(false)
	return lw
}

func (lw *lineWriter) write(ev *audit.Event) error {
	if lw.cw != nil {
		return lw.cw.Write(csvRow(ev))
	}
	return lw.enc.Encode(EventOf(ev))
}

// flush writes what the CSV writer buffers.
func (lw *lineWriter) flush() error {
	if lw.cw == nil {
		return nil
	}
	lw.cw.Flush()
	return lw.cw.Error()
}

// exportCapped answers as much of the export as fits in limit bytes
// (jsonStringLen of the body), built in memory first (the Lambda adapter
// buffers the answer whole anyway, so this costs no more), then a Link to
// the rest when there is more. It cuts at an event boundary: after the
// last event that fits, it asks the store for the cursor right after that
// event (one more listing from the page's start, limited to the events
// answered), so the next answer starts exactly with the first event left
// out.
func exportCapped(w http.ResponseWriter, r *http.Request, d wiring.Deps, org string, q audit.Query, media string, limit int) {
	ctx := r.Context()
	q.Limit = audit.MaxLimit
	var body bytes.Buffer
	lw := newLineWriter(&body, media)
	if err := lw.flush(); err != nil { // the CSV header row
		httpapi.WriteError(w, r, d.Logger, fmt.Errorf("audit: exporting events: %w", err))
		return
	}
	size, answered := jsonStringLen(body.Bytes()), 0
	next := ""
	for {
		p, err := d.Audit.ListEvents(ctx, org, q)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, fmt.Errorf("audit: exporting events: %w", err))
			return
		}
		cut := -1
		for i := range p.Items {
			mark := body.Len()
			err := lw.write(&p.Items[i])
			if err == nil {
				err = lw.flush()
			}
			if err != nil {
				httpapi.WriteError(w, r, d.Logger, fmt.Errorf("audit: exporting events: %w", err))
				return
			}
			n := jsonStringLen(body.Bytes()[mark:])
			if size+n > limit && answered > 0 {
				body.Truncate(mark)
				cut = i
				break
			}
			size += n
			answered++
		}
		if cut < 0 {
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
			continue
		}
		if cut == 0 {
			// The page's first event does not fit: the page's own
			// cursor continues.
			next = q.Cursor
		} else {
			at := q
			at.Limit = cut
			p, err := d.Audit.ListEvents(ctx, org, at)
			if err != nil {
				httpapi.WriteError(w, r, d.Logger, fmt.Errorf("audit: exporting events: %w", err))
				return
			}
			next = p.Next
		}
		break
	}
	setExportHeaders(w.Header(), media)
	if next != "" {
		v := r.URL.Query()
		v.Set("cursor", next)
		// A reference with only a query: it resolves against the URL the
		// client asked for, whatever stage or prefix it went through.
		w.Header().Set("Link", "<?"+v.Encode()+`>; rel="next"`)
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body.Bytes()); err != nil {
		d.Logger.WarnContext(ctx, "audit export stopped: writing", "error", err)
	}
}

// jsonStringLen is the length of b inside a JSON string, as the Lambda
// runtime returns the answer's body: quotes, backslashes, newlines, carriage
// returns and tabs take two bytes; other control characters, each invalid
// UTF-8 byte (\ufffd) and the line and paragraph separators six.
func jsonStringLen(b []byte) int {
	n := 0
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20:
			n += 6
		case c < utf8.RuneSelf:
			n++
		default:
			r, size := utf8.DecodeRune(b)
			if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
				n += 6
			} else {
				n += size
			}
			b = b[size:]
			continue
		}
		b = b[1:]
	}
	return n
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
