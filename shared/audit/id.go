package audit

import (
	"context"
	"fmt"
	"time"
)

// Randomness draws the random part of an id; token.Generator.RandomID is
// the one the services pass.
type Randomness interface {
	RandomID(prefix string, n int) (string, error)
}

// idRandomLen is the number of random base62 characters of an event id
// (about 83 bits): two events of one millisecond never collide in practice.
const idRandomLen = 14

// NewID returns "evt_" + the millisecond time at in 12 lower-case hex
// digits + random characters: ids of one organization sort by time.
func NewID(r Randomness, at time.Time) (string, error) {
	ms := at.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	id, err := r.RandomID(fmt.Sprintf("%s%012x", IDPrefix, ms), idRandomLen)
	if err != nil {
		return "", fmt.Errorf("audit: event id: %w", err)
	}
	return id, nil
}

// New builds an event of action on target by actor at at, with the source
// carried by ctx and a fresh id.
func New(ctx context.Context, r Randomness, at time.Time, org, action string, actor Actor, target Target) (Event, error) {
	id, err := NewID(r, at)
	if err != nil {
		return Event{}, err
	}
	ev := Event{ID: id, At: at.UTC(), OrganizationID: org, Action: action, Actor: actor, Target: target}
	if s, ok := ctx.Value(sourceKey{}).(Source); ok && !s.IsZero() {
		ev.Source = &s
	}
	return ev, nil
}
