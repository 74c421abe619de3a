package ratelimit_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/ratelimit"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBurstAndRefill(t *testing.T) {
	const addr = "192.0.2.7:40000"
	// Each step: advance the clock, record some failures, then expect the
	// wait RetryAfter answers (0: may try).
	type step struct {
		advance time.Duration
		fails   int
		want    time.Duration
	}
	tests := []struct {
		name  string
		cfg   ratelimit.Config
		steps []step
	}{
		{"under the burst", ratelimit.Config{Rate: 1, Burst: 3}, []step{{0, 2, 0}}},
		{"the burst exhausts the budget", ratelimit.Config{Rate: 1, Burst: 3}, []step{{0, 3, time.Second}}},
		{"failing past the burst keeps the wait at one refill", ratelimit.Config{Rate: 1, Burst: 3}, []step{{0, 10, time.Second}}},
		{"a partial refill shortens the wait", ratelimit.Config{Rate: 1, Burst: 3}, []step{{0, 3, time.Second}, {400 * time.Millisecond, 0, 600 * time.Millisecond}}},
		{"one refill allows one more failure", ratelimit.Config{Rate: 1, Burst: 3}, []step{{0, 3, time.Second}, {time.Second, 0, 0}, {0, 1, time.Second}}},
		{"slow rate, long wait", ratelimit.Config{Rate: 0.1, Burst: 1}, []step{{0, 1, 10 * time.Second}, {9 * time.Second, 0, time.Second}, {time.Second, 0, 0}}},
		{"failures spaced at the rate never limit", ratelimit.Config{Rate: 1, Burst: 2}, []step{{0, 1, 0}, {time.Second, 1, 0}, {time.Second, 1, 0}, {time.Second, 1, 0}}},
		{"a full refill forgets the past", ratelimit.Config{Rate: 2, Burst: 4}, []step{{0, 4, 500 * time.Millisecond}, {time.Hour, 3, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
			l := ratelimit.New(tt.cfg, c.Now)
			for i, s := range tt.steps {
				c.Advance(s.advance)
				for range s.fails {
					l.Failed(addr)
				}
				if got := l.RetryAfter(addr); got != s.want {
					t.Errorf("step %d: RetryAfter = %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestAddressesAreIndependent(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 2}, c.Now)
	l.Failed("192.0.2.1:1000")
	l.Failed("192.0.2.1:1001") // another port, same client
	if l.RetryAfter("192.0.2.1:1002") == 0 {
		t.Fatal("the limited address may try again")
	}
	for _, other := range []string{"192.0.2.2:1000", "[2001:db8:1::1]:1000"} {
		if got := l.RetryAfter(other); got != 0 {
			t.Errorf("%s: RetryAfter = %v, want 0 (it never failed)", other, got)
		}
	}
}

func TestDisabledLimitsNothing(t *testing.T) {
	for _, cfg := range []ratelimit.Config{{}, {Rate: 1}, {Burst: 5}, {Rate: -1, Burst: 5}} {
		l := ratelimit.New(cfg, nil)
		if l != nil {
			t.Errorf("New(%+v) = %v, want nil", cfg, l)
		}
		for range 100 {
			l.Failed("192.0.2.1:1")
		}
		if got := l.RetryAfter("192.0.2.1:1"); got != 0 || l.Len() != 0 {
			t.Errorf("nil limiter: RetryAfter = %v, Len = %d", got, l.Len())
		}
	}
}

func TestTableIsBounded(t *testing.T) {
	const maxAddrs = 100
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 2, MaxAddresses: maxAddrs}, c.Now)
	// A hostile client with many addresses, each limited (bucket empty).
	for i := range 10 * maxAddrs {
		a := fmt.Sprintf("10.0.%d.%d:1", i/256, i%256)
		l.Failed(a)
		l.Failed(a)
		if n := l.Len(); n > maxAddrs {
			t.Fatalf("after %d addresses the table holds %d > %d", i+1, n, maxAddrs)
		}
	}
	// The newest address is tracked (eviction never drops the one being added).
	if l.RetryAfter(fmt.Sprintf("10.0.%d.%d:1", (10*maxAddrs-1)/256, (10*maxAddrs-1)%256)) == 0 {
		t.Error("the newest limited address is not limited")
	}
}

func TestFullBucketsAreEvictedFirst(t *testing.T) {
	const maxAddrs = 10
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 2, MaxAddresses: maxAddrs}, c.Now)
	// Nine addresses fail once and go idle; a tenth is limited.
	for i := range maxAddrs - 1 {
		l.Failed(fmt.Sprintf("10.0.0.%d:1", i))
	}
	c.Advance(10 * time.Second) // the idle buckets refill completely
	limited := "192.0.2.9:1"
	l.Failed(limited)
	l.Failed(limited)
	// A new address needs room: only the full (idle) buckets go.
	l.Failed("192.0.2.10:1")
	if got := l.Len(); got != 2 {
		t.Errorf("Len = %d, want 2 (the limited and the new address)", got)
	}
	if l.RetryAfter(limited) == 0 {
		t.Error("making room evicted a limited address while idle ones were available")
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"192.0.2.1:5000", "192.0.2.1"},
		{"192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:5000", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:5000", "2001:db8:1:2::"},
		{"[2001:db8:1:2:ffff::1]:5000", "2001:db8:1:2::"},
		{"[fe80::1%eth0]:5000", "fe80::"},
		{"pipe", "invalid IP"},
		{"", "invalid IP"},
	}
	for _, tt := range tests {
		if got := ratelimit.Key(tt.in); got.String() != tt.want {
			t.Errorf("Key(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if ratelimit.Key("[2001:db8:1:2::1]:1") == ratelimit.Key("[2001:db8:1:3::1]:1") {
		t.Error("two /64 prefixes share a key")
	}
	var zero netip.Addr
	if ratelimit.Key("not an address") != zero {
		t.Error("an unparsable address does not map to the shared zero key")
	}
}

func BenchmarkRetryAfterUntracked(b *testing.B) {
	l := ratelimit.New(ratelimit.DefaultConfig(), nil)
	l.Failed("192.0.2.200:1")
	b.ReportAllocs()
	for b.Loop() {
		if l.RetryAfter("192.0.2.1:5000") != 0 {
			b.Fatal("limited")
		}
	}
}

// BenchmarkRetryAfterTracked is the success path of an address that failed
// before: the lookup plus the bucket's token count.
func BenchmarkRetryAfterTracked(b *testing.B) {
	l := ratelimit.New(ratelimit.DefaultConfig(), nil)
	l.Failed("192.0.2.1:5000")
	b.ReportAllocs()
	for b.Loop() {
		if l.RetryAfter("192.0.2.1:5000") != 0 {
			b.Fatal("limited")
		}
	}
}

// BenchmarkRetryAfterParallel is the lookup under concurrent requests.
func BenchmarkRetryAfterParallel(b *testing.B) {
	l := ratelimit.New(ratelimit.DefaultConfig(), nil)
	l.Failed("192.0.2.1:5000")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l.RetryAfter("192.0.2.1:5000") != 0 {
				b.Error("limited")
				return
			}
		}
	})
}
