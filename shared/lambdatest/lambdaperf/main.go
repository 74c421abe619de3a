// Command lambdaperf measures the Lambda functions (make lambda-perf): the
// size of each deployable linux/arm64 bootstrap, the cold start of each
// host bootstrap under aws-lambda-rie (the Init Duration the emulator
// reports, and what the first invocation really costs), and the warm
// duration of the verify function, as POST /v1/verify and as the REQUEST
// authorizer. It starts moto for the DynamoDB calls and writes a markdown
// report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdatest"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Targets of the issue.
const (
	maxSize = 15 << 20
	maxInit = 50 * time.Millisecond
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lambdaperf:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	rie, host, deploy, out, testdata string
	cold, warm                       int
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("lambdaperf", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.rie, "rie", "build/tools/aws-lambda-rie", "aws-lambda-rie binary")
	fs.StringVar(&o.host, "host", "build/lambda-host", "folder of this machine's bootstraps (<function>/bootstrap)")
	fs.StringVar(&o.deploy, "deploy", "build/lambda", "folder of the linux/arm64 bootstraps (<function>/bootstrap)")
	fs.StringVar(&o.out, "out", "docs/lambda-performance.md", "markdown report to write")
	fs.StringVar(&o.testdata, "testdata", "shared/lambdatest/testdata", "event templates")
	fs.IntVar(&o.cold, "cold", 5, "cold starts per function")
	fs.IntVar(&o.warm, "warm", 200, "warm invocations of verify per kind")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	r := &report{when: time.Now().UTC(), cold: o.cold, warm: o.warm}
	for _, f := range authz.Functions() {
		st, err := os.Stat(filepath.Join(o.deploy, string(f), "bootstrap"))
		if err != nil {
			return fmt.Errorf("the arm64 bootstrap of %s (run make functions): %w", f, err)
		}
		r.sizes = append(r.sizes, st.Size())
	}

	db, err := dynamotest.Start(ctx, dynamotest.Options{Moto: true})
	if err != nil {
		return err
	}
	defer db.Close()
	b := db.Backends[0]
	deps := wiring.NewDeps(dynamo.New(b.Client, b.Table), wiring.Options{})
	_, owner, err := deps.Keys.Bootstrap(ctx, "Performance")
	if err != nil {
		return fmt.Errorf("bootstrapping an organization: %w", err)
	}
	tmp, err := os.MkdirTemp("", "lambdaperf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	m := &measurer{o: o, env: []string{
		"TABLE_NAME=" + b.Table,
		"AWS_ENDPOINT_URL_DYNAMODB=" + b.Endpoint,
		"AWS_REGION=" + dynamotest.Region,
		"AWS_ACCESS_KEY_ID=" + dynamotest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + dynamotest.SecretAccessKey,
		// Lambda sets no CA bundle; this machine may (the SDK would then
		// parse it at init, ~10 ms, which Lambda never does).
		"AWS_CA_BUNDLE=",
		"AWS_CONFIG_FILE=" + filepath.Join(tmp, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(tmp, "none"),
		"API_BASE_URL=http://127.0.0.1:9",
		"LOG_LEVEL=info",
	}}

	for _, f := range authz.Functions() {
		c, err := m.coldStarts(ctx, f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		r.colds = append(r.colds, c)
	}
	if r.warms, err = m.warmVerify(ctx, owner.Token); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	md := r.markdown()
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprint(stdout, md)
	if fails := r.failures(); len(fails) > 0 {
		return fmt.Errorf("targets missed: %s", strings.Join(fails, "; "))
	}
	return nil
}

// measurer starts the functions under the emulator.
type measurer struct {
	o   options
	env []string
}

// event renders a testdata template for a request with an optional token.
func (m *measurer) event(template, method, resource, body, tok string) ([]byte, error) {
	t, err := os.ReadFile(filepath.Join(m.o.testdata, template))
	if err != nil {
		return nil, err
	}
	vars := map[string]any{
		"method": method, "resource": resource, "path": resource,
		"path_parameters": nil, "query": nil, "multi_query": nil, "token": tok,
		"body": nil,
	}
	if body != "" {
		vars["body"] = body
	}
	return lambdatest.Render(t, vars)
}

func (m *measurer) start(ctx context.Context, f authz.Function) (*lambdatest.Emulator, error) {
	return lambdatest.StartEmulator(ctx, lambdatest.EmulatorConfig{
		RIE: m.o.rie, Bootstrap: filepath.Join(m.o.host, string(f), "bootstrap"), Env: m.env,
	})
}

// cold is one function's cold starts.
type cold struct {
	fn authz.Function
	// rieInit is the Init Duration the emulator printed; firstRTT the
	// first invocation's round trip; warmRTT the median round trip of the
	// same event afterwards; extra = firstRTT - warmRTT is what the cold
	// start really cost (process start, Go runtime, init, first connection
	// to the Runtime API).
	rieInit, firstRTT, warmRTT, extra []time.Duration
	// mainInit is what the function logged as its own init (main until
	// the runtime loop).
	mainInit []time.Duration
}

// coldStarts starts f afresh o.cold times and invokes it with an event that
// needs no I/O (an unknown path: the router answers 404).
func (m *measurer) coldStarts(ctx context.Context, f authz.Function) (cold, error) {
	c := cold{fn: f}
	ev, err := m.event("proxy-anonymous.json", "GET", "/v1/no-such-route", "", "")
	if err != nil {
		return c, err
	}
	for range m.o.cold {
		em, err := m.start(ctx, f)
		if err != nil {
			return c, err
		}
		first, err := rtt(ctx, em, ev)
		if err != nil {
			em.Close()
			return c, err
		}
		var warm []time.Duration
		for range 9 {
			d, err := rtt(ctx, em, ev)
			if err != nil {
				em.Close()
				return c, err
			}
			warm = append(warm, d)
		}
		reps := em.Reports()
		initDur, ok := lambdatest.InitLogged(em.Logs())
		em.Close()
		if !ok {
			return c, errors.New("the function logged no init line")
		}
		c.mainInit = append(c.mainInit, initDur)
		if len(reps) == 0 {
			return c, errors.New("no REPORT line from the emulator")
		}
		w := median(warm)
		c.rieInit = append(c.rieInit, reps[0].Init)
		c.firstRTT = append(c.firstRTT, first)
		c.warmRTT = append(c.warmRTT, w)
		c.extra = append(c.extra, first-w)
	}
	return c, nil
}

// rtt invokes once and returns the round trip.
func rtt(ctx context.Context, em *lambdatest.Emulator, ev []byte) (time.Duration, error) {
	start := time.Now()
	if _, err := em.Invoke(ctx, ev); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// warm is the warm durations of one kind of verify invocation.
type warm struct {
	name string
	// reported is the emulator's Duration, rtt the client's round trip.
	reported, rtt []time.Duration
}

// warmVerify invokes one verify function o.warm times per kind after a
// first (cold) invocation.
func (m *measurer) warmVerify(ctx context.Context, tok string) ([]warm, error) {
	em, err := m.start(ctx, authz.FunctionVerify)
	if err != nil {
		return nil, err
	}
	defer em.Close()
	verifyEv, err := m.event("proxy-anonymous.json", "POST", "/v1/verify", `{"token":"`+tok+`","permission":"api_tokens:read"}`, "")
	if err != nil {
		return nil, err
	}
	allowEv, err := m.event("authorizer.json", "GET", "/v1/api-keys", "", tok)
	if err != nil {
		return nil, err
	}
	badEv, err := m.event("authorizer.json", "GET", "/v1/api-keys", "", "dotenv_malformed")
	if err != nil {
		return nil, err
	}
	if _, err := em.Invoke(ctx, verifyEv); err != nil {
		return nil, fmt.Errorf("first invocation: %w", err)
	}
	var out []warm
	for _, k := range []struct {
		name  string
		ev    []byte
		isErr bool
	}{
		{"POST /v1/verify, valid token (one GetItem)", verifyEv, false},
		{"authorizer, valid token, Allow (one GetItem)", allowEv, false},
		{"authorizer, malformed token, Unauthorized (no I/O)", badEv, true},
	} {
		before := len(em.Reports())
		w := warm{name: k.name}
		for range m.o.warm {
			start := time.Now()
			_, err := em.Invoke(ctx, k.ev)
			d := time.Since(start)
			var fe *lambdatest.FunctionError
			if err != nil && !(k.isErr && errors.As(err, &fe) && fe.Message == "Unauthorized") {
				return nil, fmt.Errorf("%s: %w", k.name, err)
			}
			w.rtt = append(w.rtt, d)
		}
		for _, r := range em.Reports()[before:] {
			w.reported = append(w.reported, r.Duration)
		}
		out = append(out, w)
	}
	return out, nil
}

// report is what the run measured.
type report struct {
	when       time.Time
	cold, warm int
	sizes      []int64
	colds      []cold
	warms      []warm
}

func (r *report) failures() []string {
	var out []string
	for i, f := range authz.Functions() {
		if r.sizes[i] > maxSize {
			out = append(out, fmt.Sprintf("%s bootstrap is %s (max %s)", f, mb(r.sizes[i]), mb(maxSize)))
		}
	}
	for _, c := range r.colds {
		if d := median(c.extra); d > maxInit {
			out = append(out, fmt.Sprintf("%s cold start costs %s (max %s)", c.fn, ms(d), ms(maxInit)))
		}
	}
	return out
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Lambda functions: size, cold start, warm verify\n\n")
	p("Written by `make lambda-perf` (shared/lambdatest/lambdaperf) on %s, %s/%s, %d CPUs, %s; ",
		r.when.Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	p("aws-lambda-rie %s; DynamoDB calls go to moto_server on loopback. ", lambdatest.RIEVersion)
	p("Targets: each bootstrap at most %s, init at most %s.\n\n", mb(maxSize), ms(maxInit))

	p("## Size and cold start\n\n")
	p("Size is the deployable `build/lambda/<function>/bootstrap` (linux/arm64, `CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags='-s -w'`). ")
	p("Cold starts run the host build of the same code under the emulator, %d times per function, each in a new emulator, ", r.cold)
	p("with an event that needs no I/O (an unknown path, answered 404 by the router), ")
	p("in Lambda's environment: no shared AWS config files and no `AWS_CA_BUNDLE` (a CA bundle named there is parsed by the SDK at init, about 10 ms on this machine).\n\n")
	p("- *RIE Init Duration* is what the emulator prints in its REPORT line. This emulator starts the runtime asynchronously and stops its clock before the bootstrap has even run, so the figure is not the function's init; it is recorded because it is what the emulator reports.\n")
	p("- *Cold start cost* is the first invocation's round trip minus the median warm round trip of the same event in the same emulator: process start, Go runtime start, `main` (configuration, AWS config, DynamoDB client, router) and the first Runtime API call. This is the figure the %s target is checked against.\n\n", ms(maxInit))
	p("- *main init* is what the function itself logs (`init done`, `init_ms`): `main` from its first line until the runtime loop starts.\n\n")
	p("| function | arm64 bootstrap | RIE Init Duration (median) | main init (median) | first invoke round trip (median) | warm round trip (median) | cold start cost (median / max) | targets |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for i, c := range r.colds {
		ok := "ok"
		if r.sizes[i] > maxSize || median(c.extra) > maxInit {
			ok = "**missed**"
		}
		p("| %s | %s | %s | %s | %s | %s | %s / %s | %s |\n", c.fn, mb(r.sizes[i]), ms(median(c.rieInit)), ms(median(c.mainInit)), ms(median(c.firstRTT)),
			ms(median(c.warmRTT)), ms(median(c.extra)), ms(slices.Max(c.extra)), ok)
	}
	p("\n## Warm verify\n\n")
	p("One verify function, after its cold start, %d invocations of each kind in a row. *Reported* is the emulator's Duration (handler time inside the function); *round trip* adds the emulator and the loopback HTTP call. ", r.warm)
	p("A valid token costs one strongly consistent GetItem on moto (a Python server: most of the time is moto's); usage counting costs nothing on the path (see below).\n\n")
	p("| invocation | reported median | reported p90 | round trip median | round trip p90 |\n")
	p("|---|---:|---:|---:|---:|\n")
	for _, w := range r.warms {
		p("| %s | %s | %s | %s | %s |\n", w.name, ms(median(w.reported)), ms(pct(w.reported, 90)), ms(median(w.rtt)), ms(pct(w.rtt, 90)))
	}
	p("\nAt init each function only reads its environment, loads the AWS configuration (no network), creates one DynamoDB client and builds its router; the first DynamoDB request happens in the first invocation that needs one.\n")
	p("\n%s", usageCounting)
	return b.String()
}

func median(ds []time.Duration) time.Duration { return pct(ds, 50) }

// pct returns the p-th percentile (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return s[i-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mb(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// usageCounting is the report's fixed section on usage counting.
const usageCounting = "## Usage counting\n\nThe verify function counts every decision on a token that matched a key (allowed, forbidden, expired) in memory (shared/usage: one striped lock, no allocation once the key is known in the interval) and writes the counts after the first invocation at least `USAGE_FLUSH_INTERVAL` (default 30 s) after its previous flush: one `UpdateItem ADD` per key and UTC day counted, one conditional last-use `UpdateItem` per key whose last use was due. That invocation pays the writes (8 in flight); all others pay nothing. It registers the SIGTERM internal extension (`lambda.WithEnableSIGTERM`), so when Lambda shuts an idle instance down it writes what is left within 400 ms. A frozen instance writes nothing: counts taken just before an idle period reach the table with its next invocation due for a flush or at its shutdown, so on Lambda they can lag by an instance's idle time (minutes), not only by the interval.\n\n**What can be lost.** An instance that is killed without SIGTERM (a crash, an invocation timeout, an out-of-memory kill) loses what it counted since its last flush: at most `USAGE_FLUSH_INTERVAL` of its verifications (30 s by default), each instance independently. A flush that fails (after the SDK's retries) drops its counts and logs a warning. Counts are an estimate for operators (is this key still used?), not billing.\n"
