// Package ratelimit limits failed authentications per client address in the
// single binary: every address has a token bucket (golang.org/x/time/rate)
// that each failed authentication drains and time refills. While the bucket
// is empty the address is refused before any store read, whatever token it
// sends. Successful authentications never touch a bucket, and an address
// that never failed has none, so the success path costs one map lookup.
//
// Memory is bounded: at most Config.MaxAddresses buckets are kept. When the
// table is full, the buckets that refilled completely are dropped first (a
// full bucket is indistinguishable from a new one, so nothing is lost); if
// that frees less than a tenth of the table, arbitrary buckets are dropped
// until a tenth is free. A client with many addresses can therefore evict
// other buckets, but never grow the table, and each of its addresses still
// gets at most one burst before being limited. IPv6 addresses are keyed by
// their /64 prefix, which one client usually holds whole.
//
// Checking (RetryAfter) and counting (Failed) are two steps around the
// authentication, so requests of one address already in flight when its
// budget runs out still complete: it can overshoot its burst by at most its
// concurrent requests.
//
// The address is the connection's (http.Request.RemoteAddr); forwarding
// headers such as X-Forwarded-For are not trusted. A nil *Limiter limits
// nothing: the Lambda functions run without one (API Gateway throttling and
// the WAF rate rule limit them, see infra/README.md).
package ratelimit

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config is the budget of failed authentications of one client address.
type Config struct {
	// Rate refills the budget, in failures per second.
	Rate float64
	// Burst is how many failures an address may make in a row before it
	// is limited. Burst or Rate 0 turns limiting off.
	Burst int
	// MaxAddresses bounds the addresses tracked at once (DefaultMaxAddresses
	// when 0).
	MaxAddresses int
}

// DefaultMaxAddresses is the table bound when Config.MaxAddresses is 0:
// about 1 MiB of buckets.
const DefaultMaxAddresses = 10_000

// DefaultConfig is the single binary's default: 20 failures in a row, then
// one per second.
func DefaultConfig() Config {
	return Config{Rate: 1, Burst: 20, MaxAddresses: DefaultMaxAddresses}
}

// Enabled reports whether the configuration limits anything.
func (c Config) Enabled() bool { return c.Rate > 0 && c.Burst > 0 }

// Limiter tracks the failed authentications of client addresses. Its
// methods are safe for concurrent use; the methods of a nil *Limiter do
// nothing.
type Limiter struct {
	cfg     Config
	now     func() time.Time
	mu      sync.RWMutex
	buckets map[netip.Addr]*rate.Limiter
}

// New returns a limiter for cfg on the clock now (time.Now when nil), or
// nil (limiting nothing) when cfg is not Enabled.
func New(cfg Config, now func() time.Time) *Limiter {
	if !cfg.Enabled() {
		return nil
	}
	if cfg.MaxAddresses <= 0 {
		cfg.MaxAddresses = DefaultMaxAddresses
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{cfg: cfg, now: now, buckets: make(map[netip.Addr]*rate.Limiter)}
}

// RetryAfter returns how long the client at remoteAddr (host:port, as in
// http.Request.RemoteAddr) must wait before it may try to authenticate
// again, or 0 when it may now. It reads no store and allocates nothing.
func (l *Limiter) RetryAfter(remoteAddr string) time.Duration {
	if l == nil {
		return 0
	}
	key := Key(remoteAddr)
	l.mu.RLock()
	b := l.buckets[key]
	l.mu.RUnlock()
	if b == nil {
		return 0
	}
	tokens := b.TokensAt(l.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / l.cfg.Rate * float64(time.Second)))
}

// Failed records one failed authentication of the client at remoteAddr.
func (l *Limiter) Failed(remoteAddr string) {
	if l == nil {
		return
	}
	key := Key(remoteAddr)
	now := l.now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.cfg.MaxAddresses {
			l.makeRoom(now)
		}
		b = rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst) // full
		l.buckets[key] = b
	}
	l.mu.Unlock()
	b.AllowN(now, 1)
}

// Len returns the number of addresses tracked.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.buckets)
}

// makeRoom drops the full buckets and, when that frees less than a tenth
// of the table, arbitrary ones until a tenth is free, so that a sweep
// happens at most once every MaxAddresses/10 new addresses. l.mu is held.
func (l *Limiter) makeRoom(now time.Time) {
	full := float64(l.cfg.Burst)
	for k, b := range l.buckets {
		if b.TokensAt(now) >= full {
			delete(l.buckets, k)
		}
	}
	target := l.cfg.MaxAddresses - max(1, l.cfg.MaxAddresses/10)
	for k := range l.buckets {
		if len(l.buckets) <= target {
			break
		}
		delete(l.buckets, k)
	}
}

// Key is the bucket of a client address (host:port or a bare host): the
// IPv4 address (an IPv4-mapped IPv6 address is unmapped), or the /64
// prefix of an IPv6 address, without zone. An address that does not parse
// maps to the zero Addr, one bucket shared by all such clients.
func Key(remoteAddr string) netip.Addr {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a
	}
	p, err := a.Prefix(64)
	if err != nil {
		return netip.Addr{}
	}
	return p.Addr()
}
