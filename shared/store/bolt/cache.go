package bolt

import (
	"fmt"
	"hash/maphash"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/maypok86/otter/v2"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
)

// DefaultKeyCacheBytes is the default bound of the decoded keys the store
// keeps in memory (see WithKeyCacheBytes).
const DefaultKeyCacheBytes = 64 << 20

// genStripes is the number of write generations; ids share them by hash.
const genStripes = 1024

// keyCache is a bounded read-through cache of decoded keys in front of
// bbolt (otter, W-TinyLFU eviction), bounded by the approximate size in
// memory of the keys it holds (keyWeight).
//
// Only readers fill it, and only writers empty it:
//
//   - a writer marks its key's stripe busy before its transaction (begin)
//     and, once the transaction has committed (or failed) and before the
//     write is acknowledged, bumps the stripe's write generation,
//     invalidates the key and only then marks the stripe free (end);
//   - a reader that misses takes the stripe's generation (stamp) before it
//     begins its read transaction, decodes the key from that snapshot and
//     adds it only if the generation has not moved since and no write of
//     the stripe is in flight, checked under the key's lock inside the
//     cache (otter's Compute), which Invalidate takes too.
//
// So a value read from a snapshot older than a committed write is either
// added before that write's invalidation (which removes it) or refused:
// the write was in flight, or its bump happened before the reader's check.
// No stale value is ever visible, not even between a commit and its
// acknowledgement (which would cost concurrent writers retries). A deleted key
// needs no tombstone: writers never add values, so no late write can bring
// one back, and a reader that read it before the delete is refused.
// Stripes only make unrelated writes refuse some additions (a miss, never
// a wrong answer).
type keyCache struct {
	c    *otter.Cache[string, *keys.Key] // nil: nothing is cached
	seed maphash.Seed
	gens [genStripes]atomic.Uint64
	// busy counts the writes in flight per stripe, allBusy in all.
	busy    [genStripes]atomic.Int64
	allBusy atomic.Int64
	// all is bumped with every stripe: a listing, which does not know its
	// ids before its snapshot, adds what it read only if no key at all
	// was written since (see epoch).
	all atomic.Uint64
}

// newKeyCache returns a cache that holds keys weighing about maxBytes in
// all (0: none).
func newKeyCache(maxBytes int64) (*keyCache, error) {
	kc := &keyCache{seed: maphash.MakeSeed()}
	if maxBytes < 0 {
		return nil, fmt.Errorf("key cache bound %d is negative", maxBytes)
	}
	if maxBytes == 0 {
		return kc, nil
	}
	c, err := otter.New(&otter.Options[string, *keys.Key]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       func(_ string, k *keys.Key) uint32 { return uint32(min(keyWeight(k), math.MaxUint32)) },
	})
	if err != nil {
		return nil, fmt.Errorf("creating the key cache: %w", err)
	}
	kc.c = c
	return kc, nil
}

// get returns the cached key with id, or nil.
func (kc *keyCache) get(id string) *keys.Key {
	if kc.c == nil {
		return nil
	}
	k, _ := kc.c.GetIfPresent(id)
	return k
}

// getBytes is get for an id held in a byte slice.
func (kc *keyCache) getBytes(id []byte) *keys.Key {
	if kc.c == nil {
		return nil
	}
	return kc.get(string(id))
}

// stripe returns the stripe of id.
func (kc *keyCache) stripe(id string) uint64 { return maphash.String(kc.seed, id) % genStripes }

// gen returns the write generation of id's stripe.
func (kc *keyCache) gen(id string) *atomic.Uint64 { return &kc.gens[kc.stripe(id)] }

// stamp returns the generation a reader must take before it begins the
// read transaction whose result it will add.
func (kc *keyCache) stamp(id string) uint64 { return kc.gen(id).Load() }

// epoch is stamp for a reader that does not know its ids yet (a listing):
// the count of all writes applied.
func (kc *keyCache) epoch() uint64 { return kc.all.Load() }

// add caches k, read from a transaction begun after stamp(k.ID) returned
// g, unless a write of its stripe has been applied since; a cached value
// (read after the same generation) is kept.
func (kc *keyCache) add(k *keys.Key, g uint64) {
	i := kc.stripe(k.ID)
	kc.addIf(k, &kc.gens[i], g, &kc.busy[i])
}

// addListed is add for a key read from a transaction begun after epoch
// returned e: refused if any key was written since.
func (kc *keyCache) addListed(k *keys.Key, e uint64) { kc.addIf(k, &kc.all, e, &kc.allBusy) }

// addIf caches k unless gen has moved from g or a write counted by busy
// is in flight (checked under the key's lock, which invalidate takes too)
// or k.ID is cached already.
func (kc *keyCache) addIf(k *keys.Key, gen *atomic.Uint64, g uint64, busy *atomic.Int64) {
	if kc.c == nil {
		return
	}
	kc.c.Compute(k.ID, func(old *keys.Key, found bool) (*keys.Key, otter.ComputeOp) {
		if found || gen.Load() != g || busy.Load() > 0 {
			return old, otter.CancelOp
		}
		return k, otter.WriteOp
	})
}

// begin marks a write of id in flight, before its transaction: until end,
// no reader adds a key of its stripe (nor a listing any key).
func (kc *keyCache) begin(id string) {
	kc.busy[kc.stripe(id)].Add(1)
	kc.allBusy.Add(1)
}

// end finishes the write begun by begin(id), after its transaction
// committed (or failed) and before it is acknowledged: it invalidates id,
// then lets readers add again.
func (kc *keyCache) end(id string) {
	kc.invalidate(id)
	kc.busy[kc.stripe(id)].Add(-1)
	kc.allBusy.Add(-1)
}

// invalidate drops id after a write of it: first the generation, so that
// readers that read before the write cannot add their value afterwards,
// then the entry.
func (kc *keyCache) invalidate(id string) {
	kc.gen(id).Add(1)
	kc.all.Add(1)
	if kc.c != nil {
		kc.c.Invalidate(id)
	}
}

// stats returns how many keys the cache holds and their total weight,
// after the pending evictions (for tests and benchmarks).
func (kc *keyCache) stats() (n int, weight uint64) {
	if kc.c == nil {
		return 0, 0
	}
	kc.c.CleanUp()
	return kc.c.EstimatedSize(), kc.c.WeightedSize()
}

// Approximate sizes of what a cached key holds besides its strings: the
// keys.Key, the cache's node and hash table slot, one authz.Grant, and the
// allocation slack of one string (the decoder allocates each on its own).
const (
	keyBytes       = int(unsafe.Sizeof(keys.Key{}))
	entryBytes     = 112
	grantBytes     = int(unsafe.Sizeof(authz.Grant{}))
	stringOverhead = 8
)

// keyWeight is the approximate size of k in memory once cached, in bytes.
func keyWeight(k *keys.Key) int {
	w := keyBytes + entryBytes + cap(k.Grants)*grantBytes +
		stringBytes(k.ID) + stringBytes(k.OrganizationID) + stringBytes(k.Name) + stringBytes(k.Hint) + stringBytes(k.CreatedBy)
	for _, g := range k.Grants {
		w += stringBytes(g.Permission) + stringBytes(g.Scope.Team) + stringBytes(g.Scope.Project) +
			stringBytes(g.Scope.Target) + stringBytes(g.Scope.Environment)
	}
	return w
}

// stringBytes is the approximate memory a decoded string holds apart from
// its header (an empty one holds none).
func stringBytes(s string) int {
	if s == "" {
		return 0
	}
	return len(s) + stringOverhead
}
