package handler_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/wiring"
)

// benchRouter is the production router on a bbolt store with one key, with
// a failed-authentication limit: the single binary's default, or (failing)
// one the malformed loop never spends.
func benchRouter(b *testing.B, failing bool) (http.Handler, string) {
	limits := ratelimit.DefaultConfig()
	if failing {
		limits.Rate, limits.Burst = 1e9, 1<<30
	}
	return benchRouterWith(b, limits)
}

// benchRouterWith is the production router with the given limit. The
// benchmark's client address (httptest's) has a bucket already, so every
// request pays the full lookup.
func benchRouterWith(b *testing.B, limits ratelimit.Config) (http.Handler, string) {
	return benchRouterOpts(b, limits, false)
}

// benchRouterOpts is benchRouterWith, counting usage when counted (a
// usage.Recorder that flushes in the background every 10 s, as edge serve
// does).
func benchRouterOpts(b *testing.B, limits ratelimit.Config, counted bool) (http.Handler, string) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	opt := wiring.Options{AuthFailures: limits}
	if counted {
		rec := usage.NewRecorder(st, nil, 10*time.Second, nil)
		rec.Start()
		b.Cleanup(rec.Close)
		opt.Usage = rec
	}
	d := wiring.NewDeps(st, opt)
	d.AuthFailures.Failed(httptest.NewRequest("GET", "/", nil).RemoteAddr)
	r, err := api.Router(d, explorehandler.Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	_, owner, err := d.Keys.Bootstrap(context.Background(), "Org")
	if err != nil {
		b.Fatal(err)
	}
	return r, owner.Token
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// moves far less than the wall clock with other processes' load.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serveLoop(b *testing.B, h http.Handler, method, path, body string, want int) {
	b.ReportAllocs()
	start := cpuTime(b)
	defer func() { b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		var rd *strings.Reader
		req := httptest.NewRequest(method, path, nil)
		if body != "" {
			rd = strings.NewReader(body)
			req = httptest.NewRequest(method, path, rd)
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("%s %s = %d", method, path, w.Code)
		}
	}
}

// BenchmarkHealthz is the baseline: the cheapest route through the same
// router.
func BenchmarkHealthz(b *testing.B) {
	h, _ := benchRouter(b, false)
	serveLoop(b, h, "GET", "/healthz", "", 200)
}

func BenchmarkVerifyValid(b *testing.B) {
	h, tok := benchRouter(b, false)
	serveLoop(b, h, "POST", "/v1/verify", `{"token":"`+tok+`","permission":"secrets:read"}`, 200)
}

// BenchmarkVerifyValidUnlimited is BenchmarkVerifyValid without the
// failed-authentication limit (as before it existed), to compare the two
// in one run.
func BenchmarkVerifyValidUnlimited(b *testing.B) {
	h, tok := benchRouterWith(b, ratelimit.Config{})
	serveLoop(b, h, "POST", "/v1/verify", `{"token":"`+tok+`","permission":"secrets:read"}`, 200)
}

// BenchmarkVerifyValidCounted is BenchmarkVerifyValid with usage counted
// per key (the single binary's configuration since usage per key), to
// compare the two in one run (docs/performance.md).
func BenchmarkVerifyValidCounted(b *testing.B) {
	h, tok := benchRouterOpts(b, ratelimit.DefaultConfig(), true)
	serveLoop(b, h, "POST", "/v1/verify", `{"token":"`+tok+`","permission":"secrets:read"}`, 200)
}

func BenchmarkVerifyMalformed(b *testing.B) {
	h, _ := benchRouter(b, true)
	serveLoop(b, h, "POST", "/v1/verify", `{"token":"dotenv_not-a-token"}`, 200)
}

// BenchmarkVerifyValidRestricted is BenchmarkVerifyValid for a key with a
// network allowlist of 8 networks, asked with a client_ip in the last one
// (the allowlist's worst case for an allowed use).
func BenchmarkVerifyValidRestricted(b *testing.B) {
	h, tok := benchRouterRestricted(b)
	serveLoop(b, h, "POST", "/v1/verify", `{"token":"`+tok+`","permission":"secrets:read","client_ip":"203.0.113.7"}`, 200)
}

// benchRouterRestricted is benchRouter with a token of a key restricted to
// 8 networks.
func benchRouterRestricted(b *testing.B) (http.Handler, string) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	d := wiring.NewDeps(st, wiring.Options{AuthFailures: ratelimit.DefaultConfig()})
	r, err := api.Router(d, explorehandler.Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	_, owner, err := d.Keys.Bootstrap(context.Background(), "Org")
	if err != nil {
		b.Fatal(err)
	}
	caller := authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	name, never := "restricted", "never"
	k, err := d.Keys.Create(context.Background(), caller, keys.Spec{Name: &name, AllowAll: new(true), Expiration: &never, AllowedCIDRsSet: true,
		AllowedCIDRs: []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.51.100.0/24", "2001:db8::/32", "fd00::/8", "100.64.0.0/10", "203.0.113.0/24"}})
	if err != nil {
		b.Fatal(err)
	}
	return r, k.Token
}
