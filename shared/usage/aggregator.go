package usage

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/dotenv/apikeys/shared/token"
)

// LastUseInterval is how often, at most, a token's stored last use is
// rewritten: a use is kept for the next flush only when the last use read
// with the key is at least this old (so a busy key costs its key item one
// write a minute per writer, not one per flush).
const LastUseInterval = time.Minute

// Use is one verification of a token that named a real key and matched its
// digest.
type Use struct {
	// Reason is why it was denied ("" when allowed).
	Reason Reason
	// Previous is set when the token was the key's previous one (a
	// rotation's grace), PreviousDigest to that token's digest.
	Previous       bool
	PreviousDigest token.Digest
	// At is when, IP and UserAgent from where (the client as the door
	// that verified sees it).
	At        time.Time
	IP        string
	UserAgent string
	// Stored is that token's last use as read with the key (zero for
	// never); the last use is kept for the store only when it is at least
	// LastUseInterval older than At. A zero At records no last use.
	Stored time.Time
}

// stripes is how many independently locked parts an Aggregator has; a
// key always lands in the same one.
const stripes = 64

// Aggregator counts uses in memory until Drain takes them. It is safe for
// concurrent use; its zero value is not usable (NewAggregator).
type Aggregator struct {
	seed    maphash.Seed
	stripes [stripes]stripe
}

type stripe struct {
	mu   sync.Mutex
	days map[dayKey]*Counts
	last map[string]*pending
	// Keeps stripes on separate cache lines.
	_ [64]byte
}

// dayKey is a key's UTC day (days since the Unix epoch).
type dayKey struct {
	id  string
	day int64
}

// pending is a key's last uses waiting for the next flush.
type pending struct {
	cur, prev  LastUse
	prevDigest token.Digest
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator {
	a := &Aggregator{seed: maphash.MakeSeed()}
	for i := range a.stripes {
		a.stripes[i].days = map[dayKey]*Counts{}
		a.stripes[i].last = map[string]*pending{}
	}
	return a
}

// reasonIndex returns r's index in Reasons (-1 for allowed or unknown).
func reasonIndex(r Reason) int {
	for i, x := range Reasons {
		if x == r {
			return i
		}
	}
	return -1
}

// Record counts one use of key id. Once the key and day have an entry it
// takes one stripe lock and allocates nothing. An unknown reason is not
// counted.
func (a *Aggregator) Record(id string, u Use) {
	reason := -1
	if u.Reason != "" {
		if reason = reasonIndex(u.Reason); reason < 0 {
			return
		}
	}
	day := u.At.Unix() / 86400
	if u.At.Unix() < 0 && u.At.Unix()%86400 != 0 {
		day-- // floor for instants before 1970
	}
	s := &a.stripes[maphash.String(a.seed, id)%stripes]
	s.mu.Lock()
	k := dayKey{id: id, day: day}
	c := s.days[k]
	if c == nil {
		c = new(Counts)
		s.days[k] = c
	}
	if reason < 0 {
		c.Allowed++
	} else {
		c.Denied[reason]++
	}
	if !u.At.IsZero() && u.At.Sub(u.Stored) >= LastUseInterval {
		p := s.last[id]
		if p == nil {
			p = new(pending)
			s.last[id] = p
		}
		use, slot := LastUse{At: u.At, IP: u.IP, UserAgent: u.UserAgent}, &p.cur
		if u.Previous {
			slot = &p.prev
		}
		if use.Newer(*slot) {
			*slot = use
			if u.Previous {
				p.prevDigest = u.PreviousDigest
			}
		}
	}
	s.mu.Unlock()
}

// Drain takes everything recorded so far and leaves the aggregator empty.
func (a *Aggregator) Drain() Batch {
	var b Batch
	for i := range a.stripes {
		s := &a.stripes[i]
		s.mu.Lock()
		// Only maps taken out of the stripe are read after Unlock.
		var (
			days map[dayKey]*Counts
			last map[string]*pending
		)
		if len(s.days) > 0 {
			days, s.days = s.days, make(map[dayKey]*Counts, len(s.days))
		}
		if len(s.last) > 0 {
			last, s.last = s.last, make(map[string]*pending, len(s.last))
		}
		s.mu.Unlock()
		for k, c := range days {
			b.Days = append(b.Days, DayDelta{KeyID: k.id, Date: Date(time.Unix(k.day*86400, 0)), Counts: *c})
		}
		for id, p := range last {
			if !p.cur.At.IsZero() {
				b.LastUses = append(b.LastUses, LastUseDelta{KeyID: id, LastUse: p.cur.redacted()})
			}
			if !p.prev.At.IsZero() {
				b.LastUses = append(b.LastUses, LastUseDelta{KeyID: id, Previous: true, PreviousDigest: p.prevDigest, LastUse: p.prev.redacted()})
			}
		}
	}
	return b
}

// redacted is u with any token its User-Agent quotes redacted
// (token.Redact): a last use is shown to whoever may read the key. It runs
// when a batch is drained (in the background), never on verification.
func (u LastUse) redacted() LastUse {
	u.UserAgent = token.Redact(u.UserAgent)
	return u
}
