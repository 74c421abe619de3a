package bolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// heavyKey is testKey with g grants scoped two levels deep, like the keys
// of the memory report (200 grants: about 79 kB each when every key was
// kept).
func heavyKey(org string, n, g int, at time.Time) *keys.Key {
	k := testKey(org, n, at)
	k.Grants = make([]authz.Grant, g)
	for i := range k.Grants {
		k.Grants[i] = authz.Grant{Permission: "secrets:read", Scope: authz.Node{
			Team: fmt.Sprintf("team_%016d", i), Project: fmt.Sprintf("prj_%016d", i)}}
	}
	return k
}

func TestOpenReadsNoKey(t *testing.T) {
	s, path := openTemp(t)
	if err := s.loadBulk(makeKeys("org_o", 500)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, w := s.cache.stats(); n != 0 || w != 0 {
		t.Fatalf("after Open the cache holds %d keys (%d bytes), want none", n, w)
	}
	id := keyID("org_o", 7)
	if _, err := s.GetKey(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.cache.stats(); n != 1 {
		t.Fatalf("after one cold GetKey the cache holds %d keys, want 1", n)
	}
}

// TestCreateKeysAllOrNone: a bulk create with an id that exists, or twice
// the same id, stores none of its keys; one without stores them all, each
// readable and listed.
func TestCreateKeysAllOrNone(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	ks := makeKeys("org_b", 5)
	if err := s.CreateKey(ctx, ks[2], storetest.Event()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		keys []*keys.Key
	}{
		{"an existing id", ks},
		{"one id twice", []*keys.Key{ks[0], ks[1], ks[0]}},
	} {
		if err := s.CreateKeys(ctx, tc.keys); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("%s: CreateKeys = %v, want a conflict", tc.name, err)
		}
		for _, k := range []*keys.Key{ks[0], ks[1], ks[3]} {
			if _, err := s.GetKey(ctx, k.ID); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("%s: key %s after a refused CreateKeys: %v, want not found", tc.name, k.ID, err)
			}
		}
	}
	rest := []*keys.Key{ks[4], ks[0], ks[3], ks[1]}
	if err := s.CreateKeys(ctx, rest); err != nil {
		t.Fatal(err)
	}
	for _, k := range rest {
		if got, err := s.GetKey(ctx, k.ID); err != nil || got.Version != 1 || got.Name != k.Name {
			t.Fatalf("GetKey(%s) after CreateKeys = %v, %v", k.ID, got, err)
		}
	}
	p, err := s.ListKeys(ctx, "org_b", directory.ListOptions{})
	if err != nil || len(p.Items) != len(ks) {
		t.Fatalf("ListKeys after CreateKeys: %d keys, %v; want %d", len(p.Items), err, len(ks))
	}
}

func TestOpenRefusesNegativeKeyCacheBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apikeys.db")
	if s, err := Open(path, WithKeyCacheBytes(-1)); err == nil {
		s.Close()
		t.Fatal("Open accepted a negative cache bound")
	}
}

// TestKeyCacheAddRules plays, step by step, the interleavings of a reader
// (stamp before its read transaction, add after it) and a writer
// (invalidate after its commit): what the reader read before a write must
// never stay cached once the write has been applied.
func TestKeyCacheAddRules(t *testing.T) {
	old := &keys.Key{ID: "key_a", Name: "old", Version: 1}
	newer := &keys.Key{ID: "key_a", Name: "new", Version: 2}
	for _, tc := range []struct {
		name string
		run  func(c *keyCache)
		want *keys.Key
	}{
		{"a read with no write since its stamp is cached", func(c *keyCache) {
			c.add(old, c.stamp("key_a"))
		}, old},
		{"a read stamped before a write and added after it is refused", func(c *keyCache) {
			g := c.stamp("key_a")
			c.invalidate("key_a")
			c.add(old, g)
		}, nil},
		{"a read added before a write's invalidation is removed by it", func(c *keyCache) {
			c.add(old, c.stamp("key_a"))
			c.invalidate("key_a")
		}, nil},
		{"a read stamped after the write is cached", func(c *keyCache) {
			c.invalidate("key_a")
			c.add(newer, c.stamp("key_a"))
		}, newer},
		{"an old read stamped before a delete stays out, the next read goes in", func(c *keyCache) {
			g := c.stamp("key_a")
			c.add(old, g)
			c.invalidate("key_a") // the delete
			c.add(old, g)         // a reader that read before the delete
			c.add(newer, c.stamp("key_a"))
		}, newer},
		{"a listed key read with no write since the epoch is cached", func(c *keyCache) {
			c.addListed(old, c.epoch())
		}, old},
		{"a listed key read before a write of any key is refused", func(c *keyCache) {
			e := c.epoch()
			c.invalidate("key_other")
			c.addListed(old, e)
		}, nil},
		{"a cached value is not replaced by another reader's", func(c *keyCache) {
			g := c.stamp("key_a")
			c.add(newer, g)
			c.add(old, g)
		}, newer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newKeyCache(1 << 20)
			if err != nil {
				t.Fatal(err)
			}
			tc.run(c)
			if got := c.get("key_a"); got != tc.want {
				t.Fatalf("cached %s, want %s", describe(got), describe(tc.want))
			}
		})
	}
}

// describe names a cached key's version, or says there is none.
func describe(k *keys.Key) string {
	if k == nil {
		return "nothing"
	}
	return fmt.Sprintf("%s v%d %q", k.ID, k.Version, k.Name)
}

// TestKeyCacheStaysWithinBound reads many more keys than the bound holds,
// from several goroutines, and checks the cache's weight while they run
// and once its pending evictions are done.
func TestKeyCacheStaysWithinBound(t *testing.T) {
	ks := makeKeys("org_e", 1000)
	weight := keyWeight(ks[0])
	for _, tc := range []struct {
		name  string
		bound int64
	}{
		{"off", 0},
		{"a few keys", int64(8 * weight)},
		{"hundreds of keys", 128 << 10},
		{"every key", int64(2 * len(ks) * weight)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTemp(t, WithKeyCacheBytes(tc.bound))
			if err := s.loadBulk(ks); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			const readers = 4
			// While readers fill it, the cache may be above its bound by
			// the insertions whose evictions are still pending (otter
			// evicts in its maintenance, right after the write); allow
			// a buffer's worth of keys.
			slack := uint64(readers * 128 * runtime.GOMAXPROCS(0) * weight)
			var peak atomic.Uint64
			done := make(chan struct{})
			var sampler sync.WaitGroup
			sampler.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if s.cache.c != nil {
						w := s.cache.c.WeightedSize()
						for p := peak.Load(); w > p && !peak.CompareAndSwap(p, w); p = peak.Load() {
						}
					}
					runtime.Gosched()
				}
			})
			var wg sync.WaitGroup
			for r := range readers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(r), 1))
					for range 2 * len(ks) {
						k := ks[rng.IntN(len(ks))]
						got, err := s.GetKey(ctx, k.ID)
						if err != nil || got.ID != k.ID || got.Version != 1 {
							t.Errorf("GetKey(%s) = %v, %v", k.ID, got, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(done)
			sampler.Wait()
			n, w := s.cache.stats()
			t.Logf("bound %d B: %d keys cached, %d B; peak while reading %d B", tc.bound, n, w, peak.Load())
			switch {
			case w > uint64(tc.bound):
				t.Fatalf("the cache weighs %d B, over its bound of %d B", w, tc.bound)
			case peak.Load() > uint64(tc.bound)+slack:
				t.Fatalf("the cache reached %d B while reading, over its bound of %d B by more than %d B", peak.Load(), tc.bound, slack)
			case tc.bound == 0 && n != 0:
				t.Fatalf("a cache turned off holds %d keys", n)
			case tc.bound > 0 && w < uint64(tc.bound)/2 && n < len(ks):
				t.Fatalf("the cache holds %d keys (%d B), under half its bound of %d B", n, w, tc.bound)
			}
		})
	}
}

// TestKeyWeightApproximatesMemory holds the weigher to the heap that
// decoded keys really take (the cache's own entry aside): within 30 %, for
// keys with 1 and 200 grants.
func TestKeyWeightApproximatesMemory(t *testing.T) {
	at := time.Now().UTC()
	for _, grants := range []int{1, 200} {
		t.Run(fmt.Sprintf("grants=%d", grants), func(t *testing.T) {
			const n = 500
			docs := make([][]byte, n)
			for i := range docs {
				r := keyRecordOf(heavyKey("org_w", i, grants, at))
				v, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				docs[i] = v
			}
			held := make([]*keys.Key, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i, v := range docs {
				k, err := decodeKey(v)
				if err != nil {
					t.Fatal(err)
				}
				held[i] = k
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := float64(after.HeapAlloc-before.HeapAlloc) / n
			weight := float64(keyWeight(held[0]) - entryBytes)
			runtime.KeepAlive(held)
			runtime.KeepAlive(docs)
			t.Logf("%d grants: %.0f B of heap per decoded key, weight %.0f B (+%d B of cache entry)", grants, heap, weight, entryBytes)
			if r := weight / heap; r < 0.7 || r > 1.3 {
				t.Fatalf("weight %.0f B for %.0f B of heap (ratio %.2f), want within 30 %%", weight, heap, r)
			}
		})
	}
}

// TestCacheNoStaleReadNoResurrection races readers (mostly cold: the
// cache holds about two keys), a lister, updaters, touchers and a deleter
// that replaces the key it deletes with a new one, on three key slots. A read
// that begins after a write was acknowledged must see that write or a
// later one, and a key whose deletion was acknowledged must never be read
// again. Run it with -race.
func TestCacheNoStaleReadNoResurrection(t *testing.T) {
	at := time.Now().UTC().Truncate(time.Millisecond)
	s, _ := openTemp(t, WithKeyCacheBytes(int64(2*keyWeight(testKey("org_r", 0, at))+64)), WithBatchDelay(0))
	// Without fsync the writes come hundreds of times faster, and so do
	// the interleavings: what is checked here is the cache, not the disk.
	// (Readers yield after each read for the same reason: spinning, they
	// would starve bbolt's batch goroutine.)
	s.db.NoSync = true
	ctx := t.Context()

	// acked is, per id, the highest acknowledged version, or -1 once its
	// deletion was acknowledged (a deleted id is never created again).
	type idState struct {
		id    string
		acked atomic.Int64
	}
	var (
		mu    sync.Mutex
		all   []*idState   // every id ever created (readers pick among them)
		slots [3]*idState  // the live id of each slot
		next  atomic.Int64 // id numbers
	)
	create := func() *idState {
		st := &idState{id: keyID("org_r", int(next.Add(1)))}
		k := testKey("org_r", 0, at)
		k.ID, k.Name = st.id, "v1"
		if err := s.CreateKey(ctx, k, storetest.Event()); err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		st.acked.Store(1)
		mu.Lock()
		all = append(all, st)
		mu.Unlock()
		return st
	}
	for i := range slots {
		slots[i] = create()
	}
	slot := func(i int) *idState { mu.Lock(); defer mu.Unlock(); return slots[i] }

	pick := func(rng *rand.Rand) *idState { mu.Lock(); defer mu.Unlock(); return all[rng.IntN(len(all))] }

	d := 1500 * time.Millisecond
	if testing.Short() {
		d = 300 * time.Millisecond
	}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var reads, cold, writes, deletes, conflicts, lists atomic.Int64
	for w := range 3 { // updaters
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for time.Now().Before(deadline) {
				st := slot(rng.IntN(len(slots)))
				cur, err := s.GetKey(ctx, st.id)
				if err != nil {
					continue // deleted meanwhile
				}
				if rng.IntN(4) == 0 {
					if _, err := s.TouchKey(ctx, st.id, cur.LastUsedAt, time.Now()); err != nil {
						t.Errorf("TouchKey: %v", err)
					}
					continue
				}
				up := cur.Clone()
				up.Version = cur.Version + 1
				up.Name = fmt.Sprintf("v%d", up.Version)
				switch err := s.UpdateKey(ctx, up, cur.Version, storetest.Event()); {
				case err == nil:
					writes.Add(1)
					// Raise the acknowledged version, unless the id's
					// deletion (which needed this version) was already
					// acknowledged.
					for a := st.acked.Load(); a != -1 && a < up.Version && !st.acked.CompareAndSwap(a, up.Version); a = st.acked.Load() {
					}
				case errors.Is(err, fault.ErrConflict), errors.Is(err, fault.ErrNotFound):
					conflicts.Add(1)
				default:
					t.Errorf("UpdateKey: %v", err)
				}
			}
		})
	}
	wg.Go(func() { // the deleter
		rng := rand.New(rand.NewPCG(9, 9))
		for time.Now().Before(deadline) {
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
			i := rng.IntN(len(slots))
			st := slot(i)
			cur, err := s.GetKey(ctx, st.id)
			if err != nil {
				t.Errorf("GetKey of a live slot: %v", err)
				return
			}
			switch err := s.DeleteKey(ctx, st.id, cur.Version, storetest.Event()); {
			case err == nil:
				st.acked.Store(-1)
				deletes.Add(1)
				fresh := create()
				mu.Lock()
				slots[i] = fresh
				mu.Unlock()
			case errors.Is(err, fault.ErrConflict):
			default:
				t.Errorf("DeleteKey: %v", err)
			}
		}
	})
	wg.Go(func() { // a lister: what a listing shows obeys the same rules
		for time.Now().Before(deadline) {
			mu.Lock()
			acked := make(map[string]int64, len(all))
			for _, st := range all {
				acked[st.id] = st.acked.Load()
			}
			mu.Unlock()
			p, err := s.ListKeys(ctx, "org_r", directory.ListOptions{Limit: 100})
			if err != nil {
				t.Errorf("ListKeys: %v", err)
				return
			}
			for _, k := range p.Items {
				a, known := acked[k.ID] // unknown: created after the map was made
				switch {
				case known && a == -1:
					t.Errorf("key %s resurrected in a listing: its deletion was acknowledged, listed v%d", k.ID, k.Version)
					return
				case known && k.Version < a:
					t.Errorf("stale listing of %s: v%d was acknowledged before the listing began, it shows v%d", k.ID, a, k.Version)
					return
				}
			}
			lists.Add(1)
			runtime.Gosched()
		}
	})
	for r := range 4 { // readers
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 3))
			for time.Now().Before(deadline) {
				st := pick(rng)
				acked := st.acked.Load() // before the read: what it must see
				if s.cache.get(st.id) == nil {
					cold.Add(1)
				}
				k, err := s.GetKey(ctx, st.id)
				reads.Add(1)
				switch {
				case acked == -1 && err == nil:
					t.Errorf("key %s resurrected: its deletion was acknowledged, GetKey read v%d", st.id, k.Version)
					return
				case err != nil && !errors.Is(err, fault.ErrNotFound):
					t.Errorf("GetKey(%s): %v", st.id, err)
					return
				case err != nil:
					// Deleted after acked was loaded: checked at the end.
				case k.Version < acked:
					t.Errorf("stale read of %s: v%d was acknowledged before the read began, it read v%d", st.id, acked, k.Version)
					return
				case k.Name != fmt.Sprintf("v%d", k.Version):
					t.Errorf("key %s v%d is named %q", st.id, k.Version, k.Name)
					return
				}
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
	t.Logf("%d reads (%d cold), %d listings, %d updates (%d refused), %d deletes", reads.Load(), cold.Load(), lists.Load(), writes.Load(), conflicts.Load(), deletes.Load())
	if t.Failed() {
		return
	}
	if writes.Load() == 0 || deletes.Load() == 0 || cold.Load() == 0 {
		t.Fatalf("the race did not happen: %d updates, %d deletes, %d cold reads", writes.Load(), deletes.Load(), cold.Load())
	}
	// Every write is acknowledged now: the file, the cache and the
	// acknowledgements agree.
	for _, st := range all {
		disk := diskKey(t, s, st.id)
		got, err := s.GetKey(ctx, st.id)
		switch a := st.acked.Load(); {
		case a == -1 && (disk != nil || err == nil):
			t.Errorf("key %s: deletion acknowledged, but on disk %v, GetKey %v", st.id, disk != nil, err)
		case a != -1 && (disk == nil || err != nil || disk.Version != a || got.Version != a):
			t.Errorf("key %s: v%d acknowledged, disk %+v, GetKey %+v, %v", st.id, a, disk, got, err)
		}
	}
}
