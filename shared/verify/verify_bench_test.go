package verify_test

// In-process verification through the embedded bbolt store holding 10^5
// keys, warm (every key verified once when the fixture is built, and all of
// them fit in the store's default key cache), and, for
// BenchmarkAuthenticateColdLatency, cold (another store whose cache is far
// smaller than its keys: every verification reads and decodes its key from
// bbolt). The targets (issue 2): a valid token verified in ≤ 2 µs at p50
// with ≤ 2 allocations.
//
// Usage recording: the verifier gets a recorder that only counts calls.
// Authenticate never records (the gate counts each decision, measured by
// shared/usage's BenchmarkRecord and the HTTP load run), so each benchmark
// reports usage-records = 0.

import (
	"context"
	"fmt"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/verify"
)

// benchKeys is how many keys the store holds.
const benchKeys = 100_000

// countingUsage counts the recordings the verifier asks for.
type countingUsage struct{ n atomic.Int64 }

func (c *countingUsage) Record(string, usage.Use) { c.n.Add(1) }

// fixture is built once per test binary and shared by the benchmarks.
type fixture struct {
	dir      string
	store    *bolt.Store
	verifier *verify.Verifier
	usage    *countingUsage
	usedAt   time.Time    // every key's LastUsedAt
	shift    atomic.Int64 // the verifier's clock is time.Now minus shift
	tokens   []string     // tokens of stored keys (never printed)
	unknown  []string     // well-formed tokens whose keys do not exist
	setup    time.Duration
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fix != nil {
		fix.store.Close()
		os.RemoveAll(fix.dir)
	}
	os.Exit(code)
}

// getFixture builds the store with benchKeys keys in one organization,
// written with the store's bulk CreateKeys (50,000 per transaction).
func getFixture(b *testing.B) *fixture {
	b.Helper()
	fixOnce.Do(func() { fix, fixErr = buildFixture() })
	if fixErr != nil {
		b.Fatal(fixErr)
	}
	return fix
}

func buildFixture() (*fixture, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "verify-bench-")
	if err != nil {
		return nil, err
	}
	st, err := bolt.Open(filepath.Join(dir, "apikeys.db"), bolt.WithMaxBatchSize(1000), bolt.WithBatchDelay(5*time.Millisecond))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	f := &fixture{dir: dir, store: st, usage: &countingUsage{}}
	fail := func(err error) (*fixture, error) {
		st.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	ctx := context.Background()
	gen := token.NewGenerator()
	now := time.Now().UTC().Truncate(time.Millisecond)
	org := &directory.Organization{ID: "org_bench000000000000", Name: "Bench", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateOrganization(ctx, org, storetest.Event()); err != nil {
		return fail(err)
	}

	ks := make([]*keys.Key, benchKeys)
	f.tokens = make([]string, benchKeys)
	for i := range ks {
		sec, err := gen.New()
		if err != nil {
			return fail(err)
		}
		created := now.Add(-time.Duration(benchKeys-i) * time.Millisecond)
		ks[i] = &keys.Key{
			ID: sec.KeyID(), OrganizationID: org.ID, Name: fmt.Sprintf("bench %d", i),
			Access:       authz.Access{AllowAll: i%2 == 0, Grants: benchGrants(i)},
			SecretDigest: sec.Digest(), Hint: token.Hint(sec.Parsed, sec.Token),
			CreatedAt: created, UpdatedAt: created, LastUsedAt: now, Version: 1,
		}
		f.tokens[i] = sec.Token
	}
	for rest := ks; len(rest) > 0; {
		n := min(len(rest), 50_000)
		if err := st.CreateKeys(ctx, rest[:n]); err != nil {
			return fail(err)
		}
		rest = rest[n:]
	}

	for range 1024 {
		sec, err := gen.New()
		if err != nil {
			return fail(err)
		}
		f.unknown = append(f.unknown, sec.Token)
	}
	f.usedAt = now
	clock := func() time.Time { return time.Now().Add(-time.Duration(f.shift.Load())) }
	f.verifier = verify.New(st, st, authz.NewCatalog(), clock, f.usage)
	f.rebase()
	// Warm: every key read once, so the benchmarks below find them cached.
	for _, tok := range f.tokens {
		if r, err := f.verifier.Authenticate(ctx, tok); err != nil || r.Code != verify.CodeOK {
			return fail(fmt.Errorf("fixture: a stored token answers %v, %v", r.Code, err))
		}
	}
	f.setup = time.Since(start)
	// Sanity: a stored token is valid, an unknown one is not.
	if r, err := f.verifier.Authenticate(ctx, f.tokens[0]); err != nil || r.Code != verify.CodeOK {
		return fail(fmt.Errorf("fixture: stored token answers %v, %v", r.Code, err))
	}
	if r, err := f.verifier.Authenticate(ctx, f.unknown[0]); err != nil || r.Code != verify.CodeNotFound {
		return fail(fmt.Errorf("fixture: unknown token answers %v, %v", r.Code, err))
	}
	return f, nil
}

// benchGrants gives half the keys a scoped grant so stored keys look real.
func benchGrants(i int) []authz.Grant {
	if i%2 == 0 {
		return nil
	}
	return []authz.Grant{{Permission: "secrets:read", Scope: authz.Node{Team: "team_bench", Project: "prj_bench"}}}
}

// rebase sets the verifier's clock back to the keys' last use and resets
// the usage count: called before each benchmark's timer starts.
func (f *fixture) rebase() {
	f.shift.Store(int64(time.Since(f.usedAt)))
	f.usage.n.Store(0)
}

// report adds the fixture's facts to a benchmark's output.
func (f *fixture) report(b *testing.B) {
	b.ReportMetric(float64(f.usage.n.Load()), "usage-records")
	b.ReportMetric(f.setup.Seconds(), "setup-s")
}

// BenchmarkAuthenticateValid verifies stored tokens, walking through all
// 10^5 keys so the map lookups are not all served from one cache line.
func BenchmarkAuthenticateValid(b *testing.B) {
	f := getFixture(b)
	benchAuthenticate(b, f, f.tokens, verify.CodeOK)
}

// benchAuthenticate verifies tokens in turn, each answering want.
func benchAuthenticate(b *testing.B, f *fixture, tokens []string, want verify.Code) {
	ctx := context.Background()
	n := len(tokens)
	f.rebase()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := f.verifier.Authenticate(ctx, tokens[i%n])
		if err != nil || r.Code != want {
			b.Fatalf("got %v, %v, want %v", r.Code, err, want)
		}
	}
	b.StopTimer()
	f.report(b)
}

// BenchmarkAuthenticateValidParallel is the same on every core.
func BenchmarkAuthenticateValidParallel(b *testing.B) {
	f := getFixture(b)
	ctx := context.Background()
	n := len(f.tokens)
	var seed atomic.Int64
	f.rebase()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		for pb.Next() {
			i++
			r, err := f.verifier.Authenticate(ctx, f.tokens[i%n])
			if err != nil || r.Code != verify.CodeOK {
				b.Errorf("got %v, %v", r.Code, err)
				return
			}
		}
	})
	b.StopTimer()
	f.report(b)
}

// BenchmarkAuthenticateMalformed refuses a token whose checksum is wrong
// (the last check Parse makes: the most expensive malformed token), with no
// store read and no hashing.
func BenchmarkAuthenticateMalformed(b *testing.B) {
	f := getFixture(b)
	bad := []byte(f.tokens[0])
	if bad[len(bad)-1] == 'A' {
		bad[len(bad)-1] = 'B'
	} else {
		bad[len(bad)-1] = 'A'
	}
	benchAuthenticate(b, f, []string{string(bad)}, verify.CodeMalformed)
}

// BenchmarkAuthenticateUnknown verifies well-formed tokens whose selector
// names no key (read miss, then the digest computed anyway).
func BenchmarkAuthenticateUnknown(b *testing.B) {
	f := getFixture(b)
	benchAuthenticate(b, f, f.unknown, verify.CodeNotFound)
}

// BenchmarkAuthenticateValidLatency times every call on its own and
// reports the distribution's p50 and p99 (each sample includes one clock
// read, about 20-40 ns).
func BenchmarkAuthenticateValidLatency(b *testing.B) {
	f := getFixture(b)
	ctx := context.Background()
	n := len(f.tokens)
	samples := make([]int64, b.N)
	f.rebase()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		r, err := f.verifier.Authenticate(ctx, f.tokens[i%n])
		samples[i] = int64(time.Since(t0))
		if err != nil || r.Code != verify.CodeOK {
			b.Fatalf("got %v, %v", r.Code, err)
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(float64(quantile(samples, 0.50)), "p50-ns")
	b.ReportMetric(float64(quantile(samples, 0.99)), "p99-ns")
	f.report(b)
}

// BenchmarkAuthenticateColdLatency is BenchmarkAuthenticateValidLatency
// with keys that are not cached: a store of 10^4 keys (written with
// CreateKeys) whose cache holds 64 KiB, about a hundred of them, verified
// in turn, so nearly every call reads and decodes its key from bbolt (and
// offers it to the cache, which evicts another).
func BenchmarkAuthenticateColdLatency(b *testing.B) {
	const n = 10_000
	st, err := bolt.Open(filepath.Join(b.TempDir(), "apikeys.db"), bolt.WithKeyCacheBytes(64<<10))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	gen := token.NewGenerator()
	now := time.Now().UTC().Truncate(time.Millisecond)
	ks := make([]*keys.Key, n)
	tokens := make([]string, n)
	for i := range ks {
		sec, err := gen.New()
		if err != nil {
			b.Fatal(err)
		}
		ks[i] = &keys.Key{
			ID: sec.KeyID(), OrganizationID: "org_cold00000000000000", Name: fmt.Sprintf("cold %d", i),
			Access:       authz.Access{AllowAll: i%2 == 0, Grants: benchGrants(i)},
			SecretDigest: sec.Digest(), Hint: token.Hint(sec.Parsed, sec.Token),
			CreatedAt: now, UpdatedAt: now, LastUsedAt: now, Version: 1,
		}
		tokens[i] = sec.Token
	}
	if err := st.CreateKeys(context.Background(), ks); err != nil {
		b.Fatal(err)
	}
	usage := &countingUsage{}
	v := verify.New(st, st, authz.NewCatalog(), func() time.Time { return now }, usage)
	ctx := context.Background()
	samples := make([]int64, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		r, err := v.Authenticate(ctx, tokens[i%n])
		samples[i] = int64(time.Since(t0))
		if err != nil || r.Code != verify.CodeOK {
			b.Fatalf("got %v, %v", r.Code, err)
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(float64(quantile(samples, 0.50)), "p50-ns")
	b.ReportMetric(float64(quantile(samples, 0.99)), "p99-ns")
	b.ReportMetric(float64(usage.n.Load()), "usage-records")
}

// quantile returns the nearest-rank q-quantile of sorted samples.
func quantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// BenchmarkAuthenticateFromLatency is BenchmarkAuthenticateValidLatency
// through AuthenticateFrom, the gate's path, which also applies the key's
// network allowlist (these keys have none: one length check) to a client
// address.
func BenchmarkAuthenticateFromLatency(b *testing.B) {
	f := getFixture(b)
	ctx := context.Background()
	n := len(f.tokens)
	from := netip.MustParseAddr("203.0.113.7")
	samples := make([]int64, b.N)
	f.rebase()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		r, err := f.verifier.AuthenticateFrom(ctx, f.tokens[i%n], from)
		samples[i] = int64(time.Since(t0))
		if err != nil || r.Code != verify.CodeOK {
			b.Fatalf("got %v, %v", r.Code, err)
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(float64(quantile(samples, 0.50)), "p50-ns")
	b.ReportMetric(float64(quantile(samples, 0.99)), "p99-ns")
	f.report(b)
}
