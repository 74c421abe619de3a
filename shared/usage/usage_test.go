package usage_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/usage"
)

var t0 = time.Date(2026, 11, 29, 23, 59, 0, 0, time.UTC)

// memStore is a usage.Store that keeps the batches it was given.
type memStore struct {
	mu      sync.Mutex
	batches []usage.Batch
	fail    error
}

func (m *memStore) AddUsage(_ context.Context, b usage.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, b)
	return m.fail
}

func (m *memStore) KeyUsage(context.Context, string, string, string) ([]usage.Day, error) {
	return nil, errors.New("not used")
}

func (m *memStore) all() usage.Batch {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out usage.Batch
	for _, b := range m.batches {
		out.Days = append(out.Days, b.Days...)
		out.LastUses = append(out.LastUses, b.LastUses...)
	}
	return out
}

func sortBatch(b usage.Batch) usage.Batch {
	slices.SortFunc(b.Days, func(x, y usage.DayDelta) int {
		return strings.Compare(x.KeyID+x.Date, y.KeyID+y.Date)
	})
	slices.SortFunc(b.LastUses, func(x, y usage.LastUseDelta) int {
		return strings.Compare(x.KeyID, y.KeyID)
	})
	return b
}

func counts(allowed int64, denied ...int64) usage.Counts {
	c := usage.Counts{Allowed: allowed}
	copy(c.Denied[:], denied)
	return c
}

func TestAggregatorCountsPerKeyAndDay(t *testing.T) {
	a := usage.NewAggregator()
	stale := t0.Add(-time.Hour)
	for _, u := range []struct {
		id string
		u  usage.Use
	}{
		{"key_a", usage.Use{At: t0, IP: "192.0.2.1", UserAgent: "ci/1", Stored: stale}},
		{"key_a", usage.Use{At: t0.Add(-time.Second), IP: "192.0.2.2", Stored: stale}}, // older: not the last use
		{"key_a", usage.Use{At: t0, Reason: usage.ReasonForbidden, Stored: stale}},
		{"key_a", usage.Use{At: t0.Add(time.Minute), Reason: usage.ReasonExpired, Stored: t0.Add(time.Minute)}}, // the next UTC day
		{"key_b", usage.Use{At: t0, IP: "192.0.2.3", Stored: t0.Add(-30 * time.Second)}},                        // stored last use recent: none kept
		{"key_b", usage.Use{At: t0, Previous: true, IP: "192.0.2.4", Stored: stale}},
		{"key_b", usage.Use{At: t0, Reason: "unknown_reason"}}, // not counted
	} {
		a.Record(u.id, u.u)
	}
	got := sortBatch(a.Drain())
	want := usage.Batch{
		Days: []usage.DayDelta{
			{KeyID: "key_a", Date: "2026-11-29", Counts: counts(2, 1)},
			{KeyID: "key_a", Date: "2026-11-30", Counts: counts(0, 0, 1)},
			{KeyID: "key_b", Date: "2026-11-29", Counts: counts(2)},
		},
		LastUses: []usage.LastUseDelta{
			{KeyID: "key_a", LastUse: usage.LastUse{At: t0, IP: "192.0.2.1", UserAgent: "ci/1"}},
			{KeyID: "key_b", Previous: true, LastUse: usage.LastUse{At: t0, IP: "192.0.2.4"}},
		},
	}
	if !slices.Equal(got.Days, want.Days) {
		t.Errorf("days = %+v\nwant %+v", got.Days, want.Days)
	}
	if !slices.Equal(got.LastUses, want.LastUses) {
		t.Errorf("last uses = %+v\nwant %+v", got.LastUses, want.LastUses)
	}
	if b := a.Drain(); !b.Empty() {
		t.Errorf("a second Drain = %+v, want nothing", b)
	}
}

func TestAggregatorConcurrent(t *testing.T) {
	a := usage.NewAggregator()
	const goroutines, each = 8, 1000
	var wg sync.WaitGroup
	var drained []usage.Batch
	var mu sync.Mutex
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				a.Record("key_"+string(rune('a'+g%2)), usage.Use{At: t0})
				if i%250 == 0 {
					b := a.Drain()
					mu.Lock()
					drained = append(drained, b)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	drained = append(drained, a.Drain())
	var total int64
	for _, b := range drained {
		for _, d := range b.Days {
			total += d.Allowed
		}
	}
	if total != goroutines*each {
		t.Fatalf("counted %d uses across concurrent drains, want %d", total, goroutines*each)
	}
}

func TestRecorderFlushIfDue(t *testing.T) {
	st := &memStore{}
	now := t0
	r := usage.NewRecorder(st, nil, 30*time.Second, func() time.Time { return now })
	r.Record("key_a", usage.Use{At: now})
	r.FlushIfDue(context.Background())
	if n := len(st.all().Days); n != 0 {
		t.Fatalf("flushed %d days before the interval passed", n)
	}
	now = now.Add(30 * time.Second)
	r.FlushIfDue(context.Background())
	if got := st.all().Days; len(got) != 1 || got[0].Allowed != 1 {
		t.Fatalf("after the interval flushed %+v, want key_a's one use", got)
	}
	r.Record("key_a", usage.Use{At: now})
	r.FlushIfDue(context.Background()) // just flushed: not due
	if n := len(st.batches); n != 1 {
		t.Fatalf("%d flushes, want 1", n)
	}
}

// TestRecorderCloseDrains: Close stops the loop and writes what is left,
// so a shutdown loses nothing.
func TestRecorderCloseDrains(t *testing.T) {
	st := &memStore{}
	r := usage.NewRecorder(st, nil, time.Hour, nil)
	r.Start()
	for range 5 {
		r.Record("key_a", usage.Use{At: t0})
	}
	r.Close()
	r.Close() // twice is harmless
	got := st.all()
	if len(got.Days) != 1 || got.Days[0].Allowed != 5 {
		t.Fatalf("after Close the store has %+v, want key_a's 5 uses", got.Days)
	}
}

func TestRecorderLoopFlushes(t *testing.T) {
	st := &memStore{}
	r := usage.NewRecorder(st, nil, 10*time.Millisecond, nil)
	r.Start()
	defer r.Close()
	r.Record("key_a", usage.Use{At: t0})
	deadline := time.Now().Add(5 * time.Second)
	for len(st.all().Days) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the background loop wrote nothing within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWindow(t *testing.T) {
	from, to := usage.Window(time.Date(2026, 11, 29, 0, 30, 0, 0, time.FixedZone("", 3600)))
	if from != "2026-10-30" || to != "2026-11-28" {
		t.Fatalf("Window = %s..%s, want 2026-10-30..2026-11-28 (30 UTC days)", from, to)
	}
}

// BenchmarkRecord is the cost a verification pays to be counted: steady
// state, 1,000 keys already seen today.
func BenchmarkRecord(b *testing.B) {
	a := usage.NewAggregator()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "key_" + strings.Repeat("x", 10) + string(rune('A'+i%26)) + string(rune('A'+i/26%26)) + string(rune('A'+i/676))
		a.Record(ids[i], usage.Use{At: t0, IP: "192.0.2.1", UserAgent: "ci/1"})
	}
	u := usage.Use{At: t0, IP: "192.0.2.1", UserAgent: "ci/1", Stored: t0}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			a.Record(ids[i%len(ids)], u)
			i++
		}
	})
}
