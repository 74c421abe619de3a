package audit

import (
	"context"
	"time"
)

// Query selects events of one organization, newest first.
type Query struct {
	// KeyID keeps the events whose target is that key ("" for all).
	KeyID string
	// Action keeps the events of that action ("" for all).
	Action string
	// Since and Until bound the events' time: Since ≤ at < Until. A zero
	// Since means the retention horizon, a zero Until now.
	Since, Until time.Time
	// Limit is the page size (the store applies DefaultLimit and MaxLimit).
	Limit int
	// Cursor is the Next of the previous page, "" for the first page.
	Cursor string
}

// Page sizes of a listing.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// PageSize returns the page size to use for the requested Limit.
func (q Query) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}

// Page is one page of events, newest first; Next is "" on the last page.
type Page struct {
	Items []Event
	Next  string
}

// Reader lists an organization's events. A cursor of another organization
// or listing is refused with a validation error on "cursor".
type Reader interface {
	ListEvents(ctx context.Context, org string, q Query) (Page, error)
}
