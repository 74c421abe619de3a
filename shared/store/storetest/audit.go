package storetest

import (
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/token"
)

// eventsOrganization holds the events of the writes Event makes up: tests
// that do not look at events still write one with every change.
const eventsOrganization = "org_storetest_events"

// Event returns a valid event, with a fresh id, for a write whose event the
// test does not look at. Every change written through the store contract
// takes one.
func Event() audit.Event {
	at := time.Now().UTC().Truncate(time.Millisecond)
	id, err := audit.NewID(token.NewGenerator(), at)
	if err != nil {
		panic(err) // crypto/rand never fails
	}
	return audit.Event{ID: id, At: at, OrganizationID: eventsOrganization, Action: "test.write",
		Actor: audit.System("storetest"), Target: audit.Target{Type: "test", ID: id}}
}

// ev is Event for the suite's own writes.
func ev() audit.Event { return Event() }
