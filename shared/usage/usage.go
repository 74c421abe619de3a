// Package usage counts what each API key's verifications decided, per key
// and UTC day, and keeps each key's last use (time, client address, user
// agent; separately for the previous token during a rotation's grace). The
// counting is in memory (Aggregator) and reaches a store in batches (Flush,
// Loop): recording a use takes one striped lock and allocates nothing once
// the key is known in the current interval (docs/design.md, "Usage").
package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/dotenv/apikeys/shared/token"
)

// Reason is the stable code of why a verification was denied.
type Reason string

// The denied reasons. Adding one is adding it here and to Reasons.
const (
	ReasonForbidden Reason = "forbidden"
	ReasonExpired   Reason = "expired"
	ReasonRevoked   Reason = "revoked"
	// ReasonIPNotAllowed: the key's network allowlist does not hold the
	// client's address.
	ReasonIPNotAllowed Reason = "ip_not_allowed"
)

// Reasons lists every denied reason, in the order answers list them.
var Reasons = [...]Reason{ReasonForbidden, ReasonExpired, ReasonRevoked, ReasonIPNotAllowed}

// Days is how many UTC days (today included) the usage answer covers.
const Days = 30

// Retention is how long after its day ends a usage day is kept (the
// DynamoDB item's ttl, the embedded store's pruning).
const Retention = 31 * 24 * time.Hour

// DateLayout is how a day is written ("2026-11-29").
const DateLayout = time.DateOnly

// Date returns t's UTC day as a DateLayout string.
func Date(t time.Time) string { return t.UTC().Format(DateLayout) }

// DayEnd returns the instant the UTC day date ends (the next day's start).
func DayEnd(date string) (time.Time, error) {
	d, err := time.Parse(DateLayout, date)
	if err != nil {
		return time.Time{}, fmt.Errorf("usage: day %q: %w", date, err)
	}
	return d.AddDate(0, 0, 1), nil
}

// Window returns the first and last day of the Days-day window ending on
// now's UTC day.
func Window(now time.Time) (from, to string) {
	return Date(now.AddDate(0, 0, -(Days - 1))), Date(now)
}

// Counts are one day's verifications of a key.
type Counts struct {
	Allowed int64
	// Denied is indexed like Reasons.
	Denied [len(Reasons)]int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Allowed += o.Allowed
	for i := range c.Denied {
		c.Denied[i] += o.Denied[i]
	}
}

// DeniedTotal is the sum of the denied counts.
func (c Counts) DeniedTotal() int64 {
	var n int64
	for _, d := range c.Denied {
		n += d
	}
	return n
}

// Zero reports whether nothing was counted.
func (c Counts) Zero() bool { return c == Counts{} }

// Day is a key's counts on one UTC day.
type Day struct {
	// Date is a DateLayout day.
	Date string
	Counts
}

// LastUse is when a token was last verified, and from where.
type LastUse struct {
	At        time.Time
	IP        string
	UserAgent string
}

// Newer reports whether u is later than o.
func (u LastUse) Newer(o LastUse) bool { return u.At.After(o.At) }

// DayDelta is counts to add to a key's day.
type DayDelta struct {
	KeyID string
	Date  string
	Counts
}

// LastUseDelta is a key's last use to store unless the stored one is as
// recent or more. Previous is for the token a rotation replaced while its
// grace runs: PreviousDigest is its digest, and the use is stored only
// while the key's previous token is still that one.
type LastUseDelta struct {
	KeyID          string
	Previous       bool
	PreviousDigest token.Digest
	LastUse
}

// Batch is one flush: counts to add and last uses to store.
type Batch struct {
	Days     []DayDelta
	LastUses []LastUseDelta
}

// Empty reports whether the batch holds nothing.
func (b Batch) Empty() bool { return len(b.Days) == 0 && len(b.LastUses) == 0 }

// Store keeps usage. Every engine implements it and passes the conformance
// suite (shared/store/storetest).
type Store interface {
	// AddUsage adds the batch's counts (atomically per day: concurrent
	// writers never lose a count) and stores each last use on its key
	// unless the stored one is as recent or more (last use never moves
	// backwards); a previous token's only while the key's previous token
	// has its digest. It never changes a key's Version. A key that does
	// not exist gets no last use.
	AddUsage(ctx context.Context, b Batch) error
	// KeyUsage returns the key's days from from to to (DateLayout, both
	// included) that have counts, oldest first; fault.ErrNotFound when the
	// key does not exist.
	KeyUsage(ctx context.Context, id, from, to string) ([]Day, error)
}
