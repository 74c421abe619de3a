package bolt

import (
	"sync"

	"github.com/dotenv/apikeys/shared/keys"
)

// keyCache holds every stored key by id. Writers apply their change after
// their transaction committed; since commits may finish in another order
// than they happened, every change carries the sequence number its
// transaction took under bbolt's writer lock, and an entry only ever moves
// to a newer sequence. A deleted key leaves a tombstone (an entry without a
// key) so that an older, late change cannot bring it back; tombstones are
// dropped once every write that began before them has finished.
type keyCache struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
	// issued is the last ticket given to a write; open holds the tickets
	// of writes that have not finished.
	issued uint64
	open   map[uint64]struct{}
	// tombs counts tombstones; gcAt is the count that triggers a sweep.
	tombs int
	gcAt  int
}

// cacheEntry is one key (nil: deleted), the sequence number of the write
// that set it and, for a tombstone, the last ticket issued when it was set.
type cacheEntry struct {
	key    *keys.Key
	seq    uint64
	ticket uint64
}

// keyChange is what one committed write did to one key.
type keyChange struct {
	id  string
	key *keys.Key // nil: deleted
	seq uint64
}

const minTombstoneSweep = 1024

func newKeyCache() *keyCache {
	return &keyCache{m: make(map[string]cacheEntry), open: make(map[uint64]struct{}), gcAt: minTombstoneSweep}
}

// get returns the key with id, or nil.
func (c *keyCache) get(id string) *keys.Key {
	c.mu.RLock()
	e := c.m[id]
	c.mu.RUnlock()
	return e.key
}

// getBytes is get for an id held in a byte slice (no allocation).
func (c *keyCache) getBytes(id []byte) *keys.Key {
	c.mu.RLock()
	e := c.m[string(id)]
	c.mu.RUnlock()
	return e.key
}

// begin registers a write about to start and returns its ticket.
func (c *keyCache) begin() uint64 {
	c.mu.Lock()
	c.issued++
	t := c.issued
	c.open[t] = struct{}{}
	c.mu.Unlock()
	return t
}

// finish applies the committed change ch of the write with ticket t (when
// ch.id is not "") and ends the write.
func (c *keyCache) finish(t uint64, ch keyChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.open, t)
	if ch.id == "" {
		return
	}
	cur, ok := c.m[ch.id]
	if ok && cur.seq >= ch.seq {
		return // a newer change is already applied
	}
	wasTomb := ok && cur.key == nil
	c.m[ch.id] = cacheEntry{key: ch.key, seq: ch.seq, ticket: c.issued}
	switch {
	case ch.key == nil && !wasTomb:
		c.tombs++
	case ch.key != nil && wasTomb:
		c.tombs--
	}
	if c.tombs >= c.gcAt {
		c.sweep()
	}
}

// sweep drops the tombstones no unfinished write can be older than.
func (c *keyCache) sweep() {
	oldest := c.issued + 1
	for t := range c.open {
		oldest = min(oldest, t)
	}
	for id, e := range c.m {
		if e.key == nil && e.ticket < oldest {
			delete(c.m, id)
			c.tombs--
		}
	}
	c.gcAt = max(minTombstoneSweep, 2*c.tombs)
}

// len returns the number of live keys (for tests).
func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m) - c.tombs
}
