package audit

import (
	"context"
	"errors"
	"time"
)

// Query selects events of one organization, newest first.
type Query struct {
	// Now is the instant the listing is made at, from the caller's clock
	// (the service's injected clock). Stores never read the wall clock: the
	// retention horizon (Now minus the retention) and the default Until are
	// computed from it. A zero Now is refused (an internal error).
	Now time.Time
	// KeyID keeps the events whose target is that key ("" for all).
	KeyID string
	// Action keeps the events of that action ("" for all).
	Action string
	// Since and Until bound the events' time: Since ≤ at < Until. Since is
	// never earlier than the retention horizon (a zero Since means it);
	// Until is never later than Now plus ClockSkew (a zero Until means
	// that).
	Since, Until time.Time
	// Limit is the page size (the store applies DefaultLimit and MaxLimit).
	Limit int
	// Cursor is the Next of the previous page, "" for the first page.
	Cursor string
}

// ClockSkew is how far after Query.Now a listing still looks, so that an
// event stamped by a writer whose clock runs slightly ahead is listed.
const ClockSkew = time.Hour

// Bounds returns the time window q selects at q.Now for a store keeping
// events for retention: [since, until), since never before the horizon
// Now-retention, until never after Now+ClockSkew. It refuses a zero Now.
func (q Query) Bounds(retention time.Duration) (since, until time.Time, err error) {
	if q.Now.IsZero() {
		return time.Time{}, time.Time{}, errors.New("audit: listing without Query.Now (the caller's clock)")
	}
	now := q.Now.UTC()
	until = q.Until.UTC()
	if q.Until.IsZero() || until.After(now.Add(ClockSkew)) {
		until = now.Add(ClockSkew)
	}
	since = q.Since.UTC()
	if horizon := now.Add(-retention); since.Before(horizon) {
		since = horizon
	}
	return since, until, nil
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
