package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dotenv/apikeys/shared/audit"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/webhook"
)

// openTemp opens a store in a new temporary directory, closed at cleanup.
func openTemp(tb testing.TB, opts ...Option) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "data", "nested", "apikeys.db")
	s, err := Open(path, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	s, _ := openTemp(t)
	storetest.Run(t, s, harness(s))
}

// harness stores broken documents with raw bbolt writes, bypassing the
// write gate: a key whose expires_at is year 10000 (encoding/json cannot
// parse it), a node whose updated_at is not a time. A broken key is then
// noted the way Open notes one it finds.
func harness(s *Store) storetest.Harness {
	return storetest.Harness{
		PutBrokenKey: func(t *testing.T, k *keys.Key) {
			v := brokenDoc(t, keyRecordOf(k), "expires_at", "10000-01-01T00:00:00Z")
			err := s.db.Update(func(tx *bbolt.Tx) error {
				idx, err := tx.Bucket(bucketKeyIndex).CreateBucketIfNotExists([]byte(k.OrganizationID))
				if err != nil {
					return err
				}
				if err := idx.Put(keyIndexKey(utc(k.CreatedAt), k.ID), nil); err != nil {
					return err
				}
				if !k.ExpiresAt.IsZero() {
					// Listed by the expiry index too, like any key with an expiry.
					if err := tx.Bucket(bucketKeyExpiry).Put(tsKey(utc(k.ExpiresAt), k.ID), nil); err != nil {
						return err
					}
				}
				return tx.Bucket(bucketKeys).Put([]byte(k.ID), v)
			})
			if err != nil {
				t.Fatal(err)
			}
			_, derr := decodeKey(v)
			if derr == nil {
				t.Fatal("the broken key document decodes")
			}
			s.cache.invalidate(k.ID) // a key it replaces may be cached
		},
		PutBrokenNode: func(t *testing.T, n *directory.Node) {
			r := nodeRecordOf(n)
			v := brokenDoc(t, r, "updated_at", "not a time")
			err := s.db.Update(func(tx *bbolt.Tx) error {
				d := dirOf(tx, n.OrganizationID)
				for _, p := range []struct {
					b    *bbolt.Bucket
					k, v []byte
				}{
					{d.nodes, []byte(n.ID), v},
					{d.names, nameKey(n.Level(), "", n.Name), []byte(n.ID)},
					{d.children, childKey("", r.CreatedAt, n.ID), nil},
					{d.levels, levelKey(n.Level(), r.CreatedAt, n.ID), nil},
				} {
					if err := p.b.Put(p.k, p.v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		PutBrokenWebhook: func(t *testing.T, e *webhook.Endpoint) {
			r := webhookRecordOf(e)
			putBroken(t, s, bucketWebhookIndex, r.Org, tsKey(r.CreatedAt, r.ID), bucketWebhooks, r.ID, brokenDoc(t, r, "updated_at", "not a time"))
		},
		PutBrokenDelivery: func(t *testing.T, d *webhook.Delivery) {
			r := deliveryRecordOf(d)
			putBroken(t, s, bucketDeliveryIndex, r.Endpoint, tsKey(r.CreatedAt, r.ID), bucketDeliveries, r.ID, brokenDoc(t, r, "created_at", "not a time"))
		},
	}
}

// putBroken stores the document v of id in bucket and its entry pos in
// the index bucket's sub-bucket parent, with raw bbolt writes.
func putBroken(t *testing.T, s *Store, index []byte, parent string, pos []byte, bucket []byte, id string, v []byte) {
	t.Helper()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		idx, err := tx.Bucket(index).CreateBucketIfNotExists([]byte(parent))
		if err != nil {
			return err
		}
		if err := idx.Put(pos, nil); err != nil {
			return err
		}
		return tx.Bucket(bucket).Put([]byte(id), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// brokenDoc returns the JSON document of rec with field set to value.
func brokenDoc(t *testing.T, rec any, field, value string) []byte {
	t.Helper()
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc[field] = value
	if b, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	return b
}

// A key document that does not decode does not keep the store from
// opening: GetKey answers it as unreadable and it can be deleted.
func TestOpenWithUnreadableKey(t *testing.T) {
	s, path := openTemp(t)
	k := testKey("org_broken", 1, time.Now().UTC())
	k.Version = 4
	harness(s).PutBrokenKey(t, k)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open with an unreadable key document: %v", err)
	}
	defer s.Close()
	_, err = s.GetKey(t.Context(), k.ID)
	var u *keys.UnreadableError
	if !errors.As(err, &u) || u.ID != k.ID || u.OrganizationID != k.OrganizationID || u.Version != 4 {
		t.Fatalf("GetKey after reopening: got %v, want an UnreadableError for %s of org_broken, version 4", err, k.ID)
	}
	if err := s.DeleteKey(t.Context(), k.ID, 4, storetest.Event()); err != nil {
		t.Fatalf("DeleteKey of the unreadable key: %v", err)
	}
	_, err = s.GetKey(t.Context(), k.ID)
	if !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetKey after deleting: %v, want not found", err)
	}
}

// keyID is the id of testKey(org, n, ...).
func keyID(org string, n int) string { return fmt.Sprintf("key_%s_%010d", org, n) }

// testKey returns a key of org created at at, with id number n.
func testKey(org string, n int, at time.Time) *keys.Key {
	k := &keys.Key{
		ID: keyID(org, n), OrganizationID: org, Name: fmt.Sprintf("key %d", n),
		Access:    authz.Access{Grants: []authz.Grant{{Permission: "secrets:read", Scope: authz.Node{Team: "team_1"}}}},
		Hint:      "dotenv_0000…abcd",
		CreatedAt: at, UpdatedAt: at, Version: 1,
	}
	k.SecretDigest[0], k.SecretDigest[31] = byte(n), byte(n>>8)
	return k
}

// loadBulk stores ks (new keys) in transactions of up to 50,000 keys, for
// benchmark set-ups.
func (s *Store) loadBulk(ks []*keys.Key) error {
	for len(ks) > 0 {
		n := min(len(ks), 50_000)
		if err := s.CreateKeys(context.Background(), ks[:n]); err != nil {
			return err
		}
		ks = ks[n:]
	}
	return nil
}

// diskKey reads a key from the file, bypassing the cache.
func diskKey(t *testing.T, s *Store, id string) *keys.Key {
	t.Helper()
	var k *keys.Key
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(id))
		if v == nil {
			return nil
		}
		var err error
		k, err = decodeKey(v)
		return err
	})
	if err != nil {
		t.Fatalf("reading key %s from disk: %v", id, err)
	}
	return k
}

func TestReopenKeepsKeysAndDirectory(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "missing", "dir", "apikeys.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	org := &directory.Organization{ID: "org_1", Name: "Acme", CreatedAt: at, UpdatedAt: at}
	team := &directory.Node{ID: "team_1", OrganizationID: "org_1", Path: authz.Node{Team: "team_1"}, Name: "core", CreatedAt: at, UpdatedAt: at}
	prj := &directory.Node{ID: "prj_1", OrganizationID: "org_1", Path: authz.Node{Team: "team_1", Project: "prj_1"}, Name: "api", CreatedAt: at, UpdatedAt: at}
	k1, k2, gone := testKey("org_1", 1, at), testKey("org_1", 2, at.Add(time.Second)), testKey("org_1", 3, at)
	k1.ExpiresAt, k1.LastUsedAt = at.Add(time.Hour), at
	if err := s.CreateOrganization(ctx, org, storetest.Event()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*directory.Node{team, prj} {
		if err := s.CreateNode(ctx, n, storetest.Event()); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []*keys.Key{k1, k2, gone} {
		if err := s.CreateKey(ctx, k, storetest.Event()); err != nil {
			t.Fatal(err)
		}
	}
	k2.Name, k2.Version = "edited", 2
	if err := s.UpdateKey(ctx, k2, 1, storetest.Event()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKey(ctx, gone.ID, 1, storetest.Event()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("Ping after Close = %v, want unavailable", err)
	}
	if err := s.CreateKey(ctx, testKey("org_1", 9, at), storetest.Event()); !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("CreateKey after Close = %v, want unavailable", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	for _, want := range []*keys.Key{k1, k2} {
		got, err := s.GetKey(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetKey(%s) after reopen: %v", want.ID, err)
		}
		if got.Name != want.Name || got.Version != want.Version || !got.ExpiresAt.Equal(want.ExpiresAt) ||
			!got.LastUsedAt.Equal(want.LastUsedAt) || got.SecretDigest != want.SecretDigest || !slices.Equal(got.Grants, want.Grants) {
			t.Fatalf("GetKey(%s) after reopen = %+v, want %+v", want.ID, got, want)
		}
	}
	if _, err := s.GetKey(ctx, gone.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("deleted key after reopen: %v", err)
	}
	p, err := s.ListKeys(ctx, "org_1", directory.ListOptions{})
	if err != nil || len(p.Items) != 2 || p.Items[0].ID != k2.ID || p.Items[1].ID != k1.ID {
		t.Fatalf("ListKeys after reopen = %v, %v", p.Items, err)
	}
	if o, err := s.GetOrganization(ctx, "org_1"); err != nil || o.Name != "Acme" {
		t.Fatalf("GetOrganization after reopen = %v, %v", o, err)
	}
	if n, err := s.GetNode(ctx, "org_1", "prj_1"); err != nil || n.Path != prj.Path || n.Name != "api" {
		t.Fatalf("GetNode after reopen = %v, %v", n, err)
	}
	if err := s.DeleteNode(ctx, "org_1", "team_1", storetest.Event()); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("DeleteNode of a team with a project after reopen = %v, want conflict", err)
	}
	if err := s.CreateNode(ctx, &directory.Node{ID: "team_2", OrganizationID: "org_1", Path: authz.Node{Team: "team_2"}, Name: "core", CreatedAt: at}, storetest.Event()); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("duplicate team name after reopen = %v, want conflict", err)
	}
}

func TestOpenRefusesSecondOpener(t *testing.T) {
	_, path := openTemp(t)
	if s, err := Open(path, WithLockTimeout(50*time.Millisecond)); err == nil {
		s.Close()
		t.Fatal("a second Open of a locked file succeeded")
	}
}

// TestCacheCoherent races updates, touches and deletes on a few keys, then
// checks that the cache holds exactly what the file holds.
func TestCacheCoherent(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	const n = 6
	for i := range n {
		if err := s.CreateKey(ctx, testKey("org_c", i, at), storetest.Event()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for j := range 40 {
				id := keyID("org_c", rand.IntN(n))
				cur, err := s.GetKey(ctx, id)
				if err != nil {
					continue // deleted
				}
				switch {
				case w == 0 && j%10 == 9:
					s.DeleteKey(ctx, id, cur.Version, storetest.Event())
				case j%3 == 0:
					s.TouchKey(ctx, id, cur.LastUsedAt, at.Add(time.Duration(w*100+j)*time.Millisecond))
				default:
					up := cur.Clone()
					up.Name, up.Version = fmt.Sprintf("w%d j%d", w, j), cur.Version+1
					if err := s.UpdateKey(ctx, up, cur.Version, storetest.Event()); err != nil && !errors.Is(err, fault.ErrConflict) && !errors.Is(err, fault.ErrNotFound) {
						t.Errorf("UpdateKey: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	for i := range n {
		id := keyID("org_c", i)
		disk := diskKey(t, s, id)
		cached, err := s.GetKey(ctx, id)
		switch {
		case disk == nil && err == nil:
			t.Fatalf("key %s is deleted on disk but cached", id)
		case disk == nil:
			continue
		case err != nil:
			t.Fatalf("key %s is on disk but GetKey says %v", id, err)
		}
		if cached.Name != disk.Name || cached.Version != disk.Version || !cached.LastUsedAt.Equal(disk.LastUsedAt) {
			t.Fatalf("key %s: cache has %q v%d used %v, disk has %q v%d used %v", id,
				cached.Name, cached.Version, cached.LastUsedAt, disk.Name, disk.Version, disk.LastUsedAt)
		}
	}
}

func TestConcurrentCreates(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				if err := s.CreateKey(ctx, testKey("org_p", n, at.Add(time.Duration(n)*time.Millisecond)), storetest.Event()); err != nil {
					t.Errorf("CreateKey %d: %v", n, err)
				}
			}
		})
	}
	// Racing creates of one id: exactly one wins.
	var wins atomic.Int32
	for range writers {
		wg.Go(func() {
			err := s.CreateKey(ctx, testKey("org_q", 0, at), storetest.Event())
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, fault.ErrConflict) {
				t.Errorf("racing CreateKey: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d racing creates of one id succeeded, want 1", wins.Load())
	}
	if n, _ := s.cache.stats(); n != 0 {
		t.Fatalf("the cache holds %d keys after writes only, want 0 (writers never fill it)", n)
	}
	var all []*keys.Key
	cursor := ""
	for {
		p, err := s.ListKeys(ctx, "org_p", directory.ListOptions{Limit: 100, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(all) != writers*each {
		t.Fatalf("listed %d keys, want %d", len(all), writers*each)
	}
	for i, k := range all {
		if want := keyID("org_p", writers*each-1-i); k.ID != want {
			t.Fatalf("listing[%d] = %s, want %s", i, k.ID, want)
		}
		if d := diskKey(t, s, k.ID); d == nil || d.Version != 1 {
			t.Fatalf("key %s not on disk with version 1: %+v", k.ID, d)
		}
	}
}

func TestGetKeyWarmDoesNotAllocate(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	k := testKey("org_a", 1, time.Now().UTC())
	if err := s.CreateKey(ctx, k, storetest.Event()); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.GetKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("warm GetKey allocates %.1f times, want 0", allocs)
	}
}

func TestCursorRefusesTampering(t *testing.T) {
	good := cursor{kind: cursorKeys, org: "org_a", pos: keyIndexKey(time.Now(), "key_1")}.encode()
	if _, err := decodeCursor(good, cursor{kind: cursorKeys, org: "org_a"}); err != nil {
		t.Fatalf("own cursor refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		cursor string
		want   cursor
	}{
		{"other organization", good, cursor{kind: cursorKeys, org: "org_b"}},
		{"other listing kind", good, cursor{kind: cursorNodes, org: "org_a", level: authz.LevelTeam}},
		{"flipped character", good[:5] + string(good[5]^1) + good[6:], cursor{kind: cursorKeys, org: "org_a"}},
		{"empty payload", "AAAA", cursor{kind: cursorKeys, org: "org_a"}},
	} {
		if _, err := decodeCursor(tc.cursor, tc.want); fault.CodeOf(err) != fault.CodeValidation {
			t.Errorf("%s: got %v, want a validation error", tc.name, err)
		}
	}
}

// makeKeys returns n keys of org with distinct creation times.
func makeKeys(org string, n int) []*keys.Key {
	at := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Duration(n) * time.Millisecond)
	ks := make([]*keys.Key, n)
	for i := range ks {
		ks[i] = testKey(org, i, at.Add(time.Duration(i)*time.Millisecond))
	}
	return ks
}

// BenchmarkGetKeyWarm reads random keys among 10^5 from a warm store
// (every key read once, and all of them fit in the default cache): the
// verification hot path.
func BenchmarkGetKeyWarm(b *testing.B) {
	s, _ := openTemp(b)
	ks := makeKeys("org_bench", 100_000)
	if err := s.loadBulk(ks); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	for _, k := range ks {
		if _, err := s.GetKey(ctx, k.ID); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = ks[rand.IntN(len(ks))].ID
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.GetKey(ctx, ids[i&4095]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	n, w := s.cache.stats()
	b.ReportMetric(float64(n), "cached-keys")
	b.ReportMetric(float64(w)/float64(n), "B/cached-key")
}

// BenchmarkGetKeyCold reads keys that are not cached: a read transaction,
// the decoding, and the cache's insertion and eviction (a 64 KiB cache in
// front of thousands of keys read in turn, so nearly every read misses),
// for keys with 1 grant and with 200.
func BenchmarkGetKeyCold(b *testing.B) {
	for _, tc := range []struct{ grants, keys int }{{1, 10_000}, {200, 2_000}} {
		grants := tc.grants
		b.Run(fmt.Sprintf("grants=%d", grants), func(b *testing.B) {
			s, _ := openTemp(b, WithKeyCacheBytes(64<<10))
			at := time.Now().UTC().Truncate(time.Millisecond)
			ks := make([]*keys.Key, tc.keys)
			for i := range ks {
				ks[i] = heavyKey("org_bench", i, grants, at.Add(time.Duration(i)*time.Millisecond))
			}
			if err := s.loadBulk(ks); err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			b.ReportAllocs()
			i, hits := 0, 0
			for b.Loop() {
				id := ks[i%len(ks)].ID
				if s.cache.get(id) != nil {
					hits++
				}
				if _, err := s.GetKey(ctx, id); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(hits)/float64(i), "hit-ratio")
		})
	}
}

// writers returns the SetParallelism argument that gives about 8
// goroutines.
func writers() int { return max(1, (8+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)) }

// BenchmarkCreateKeyParallel measures durable creates (fsync on, group
// commit) with about 8 concurrent writers.
func BenchmarkCreateKeyParallel(b *testing.B) {
	s, _ := openTemp(b)
	at := time.Now().UTC().Truncate(time.Millisecond)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(writers())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := int(next.Add(1))
			if err := s.CreateKey(b.Context(), testKey("org_bench", n, at), storetest.Event()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// BenchmarkUpdateKeyParallel measures durable edits (a rotation is one)
// with about 8 concurrent writers, each on its own key.
func BenchmarkUpdateKeyParallel(b *testing.B) {
	s, _ := openTemp(b)
	ks := makeKeys("org_bench", 64)
	if err := s.loadBulk(ks); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(writers())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := ks[next.Add(1)-1].ID
		for pb.Next() {
			cur, err := s.GetKey(b.Context(), id)
			if err != nil {
				b.Error(err)
				return
			}
			up := cur.Clone()
			up.SecretDigest[1]++
			up.Version = cur.Version + 1
			if err := s.UpdateKey(b.Context(), up, cur.Version, storetest.Event()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkListFirstPage lists the first page (50 keys) of one organization
// holding 100 or 10^5 keys: the cost must not depend on the size.
func BenchmarkListFirstPage(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, _ := openTemp(b)
			if err := s.loadBulk(makeKeys("org_bench", n)); err != nil {
				b.Fatal(err)
			}
			// Another organization's keys around it do not matter either.
			if err := s.loadBulk(makeKeys("org_other", 1000)); err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.ListKeys(ctx, "org_bench", directory.ListOptions{})
				if err != nil || len(p.Items) != directory.DefaultLimit {
					b.Fatalf("ListKeys: %d items, %v", len(p.Items), err)
				}
			}
		})
	}
}

func TestInitializer(t *testing.T) {
	storetest.RunInitializer(t, func(t *testing.T) storetest.InitStore {
		s, _ := openTemp(t)
		return s
	})
}

// TestInitializedSurvivesReopen: the marker is on disk, and a store that
// was never initialized stays so across restarts.
func TestInitializedSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if ok, err := s.Initialized(ctx); err != nil || ok {
		t.Fatalf("new store: Initialized = %v, %v", ok, err)
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Initialized(ctx); err != nil || ok {
		t.Fatalf("reopened empty store: Initialized = %v, %v", ok, err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	org := &directory.Organization{ID: "org_first", Name: "First", CreatedAt: at, UpdatedAt: at}
	owner := testKey(org.ID, 1, at)
	if err := s.Initialize(ctx, org, owner, []audit.Event{storetest.Event()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.Initialized(ctx); err != nil || !ok {
		t.Fatalf("reopened initialized store: Initialized = %v, %v", ok, err)
	}
	if _, err := s.GetKey(ctx, owner.ID); err != nil {
		t.Fatalf("owner key after reopening: %v", err)
	}
}
