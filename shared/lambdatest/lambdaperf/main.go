// Command lambdaperf measures the Lambda functions (make lambda-perf): the
// size of each deployable linux/arm64 bootstrap, the cold start of each
// host bootstrap under aws-lambda-rie (the Init Duration the emulator
// reports, and what the first invocation really costs), and the warm
// duration of the verify function, as POST /v1/verify and as the REQUEST
// authorizer. Every figure is set against a baseline it builds in the
// same run (./baseline: the old layout, every handler and service linked
// in each function) and against the goals of the split. It starts moto
// for the DynamoDB and SQS calls and writes the whole markdown report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdatest"
	"github.com/dotenv/apikeys/shared/proctest"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Goals of the split into one function per operation.
const (
	// maxSize: each bootstrap smaller than the old layout's 9.9 MiB,
	// measured when every function linked every handler.
	maxSize = 9.9 * (1 << 20)
	// maxSizeBytes is maxSize in whole bytes (rounded down).
	maxSizeBytes int64 = 99 * (1 << 20) / 10
	// maxSizeText says where maxSize comes from.
	maxSizeText = "9.9 MiB (the old layout's bootstrap when the split was asked for)"
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
	baseline                         string
	cold, warm                       int
	// noise is the margin of the cold-start goal (0.10: at most 10 %
	// above the baseline's median).
	noise float64
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
	fs.StringVar(&o.baseline, "baseline", "./shared/lambdatest/lambdaperf/baseline", "package of the old-layout baseline, built in this run")
	fs.Float64Var(&o.noise, "noise", 0.10, "cold-start goal margin over the baseline's median (run-to-run noise)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	r := &report{when: time.Now().UTC(), cold: o.cold, warm: o.warm, noise: o.noise}
	for _, f := range allFunctions() {
		st, err := os.Stat(filepath.Join(o.deploy, string(f), "bootstrap"))
		if err != nil {
			return fmt.Errorf("the arm64 bootstrap of %s (run make functions): %w", f, err)
		}
		r.sizes = append(r.sizes, st.Size())
	}
	tmp, err := os.MkdirTemp("", "lambdaperf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The baseline, built now with the functions' flags: for linux/arm64
	// (its size) and for this machine (its cold start).
	baseDeploy, baseHost := filepath.Join(tmp, "baseline-arm64"), filepath.Join(tmp, "baseline-host")
	if err := buildBaseline(ctx, o.baseline, baseDeploy, "linux", "arm64"); err != nil {
		return err
	}
	if err := buildBaseline(ctx, o.baseline, baseHost, runtime.GOOS, runtime.GOARCH); err != nil {
		return err
	}
	st, err := os.Stat(baseDeploy)
	if err != nil {
		return err
	}
	r.baseSize = st.Size()

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
	queueURL, err := createQueue(ctx, b.Endpoint)
	if err != nil {
		return err
	}
	m := &measurer{o: o, baseline: baseHost, env: []string{
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
		"AWS_ENDPOINT_URL_SQS=" + b.Endpoint,
		"QUEUE_URL=" + queueURL,
		"API_BASE_URL=http://127.0.0.1:9",
		"LOG_LEVEL=info",
	}}

	for _, f := range allFunctions() {
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
	o options
	// baseline is the host build of the old layout.
	baseline string
	env      []string
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

// startBaseline starts the old layout standing for f (serving its routes,
// or its events).
func (m *measurer) startBaseline(ctx context.Context, f authz.Function) (*lambdatest.Emulator, error) {
	return lambdatest.StartEmulator(ctx, lambdatest.EmulatorConfig{
		RIE: m.o.rie, Bootstrap: m.baseline, Env: append(slices.Clone(m.env), baselineEnv+"="+string(f)),
	})
}

// baselineEnv names the function the baseline serves (see ./baseline).
const baselineEnv = "LAMBDAPERF_FUNCTION"

// coldEvent is the event f's cold starts are measured with: for a
// function serving routes, one that needs no I/O (an unknown path: the
// router answers 404); notify gets an EventBridge scheduled event (the
// sweep reads the table, nothing is due), deliver an SQS event naming a
// delivery that does not exist (one read).
func (m *measurer) coldEvent(f authz.Function) ([]byte, error) {
	switch f {
	case authz.FunctionNotify:
		return fmt.Appendf(nil, scheduledEvent, time.Now().UTC().Format(time.RFC3339)), nil
	case authz.FunctionDeliver:
		return []byte(`{"Records":[` + fmt.Sprintf(sqsRecord, "m-perf", "rh-perf", `{"webhook_id":"wh_perf","delivery_id":"dl_perf"}`) + `]}`), nil
	}
	return m.event("proxy-anonymous.json", "GET", "/v1/no-such-route", "", "")
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
	// baseExtra and baseMainInit are the baseline's, standing for f.
	baseExtra, baseMainInit []time.Duration
}

// coldStarts starts f afresh o.cold times, and the baseline standing for
// f as often, alternately (so that a change of the machine's load weighs
// on both alike), and invokes each with coldEvent.
func (m *measurer) coldStarts(ctx context.Context, f authz.Function) (cold, error) {
	c := cold{fn: f}
	ev, err := m.coldEvent(f)
	if err != nil {
		return c, err
	}
	for range m.o.cold {
		s, err := m.once(ctx, func() (*lambdatest.Emulator, error) { return m.start(ctx, f) }, ev)
		if err != nil {
			return c, err
		}
		c.rieInit = append(c.rieInit, s.rieInit)
		c.mainInit = append(c.mainInit, s.mainInit)
		c.firstRTT = append(c.firstRTT, s.first)
		c.warmRTT = append(c.warmRTT, s.warm)
		c.extra = append(c.extra, s.first-s.warm)
		b, err := m.once(ctx, func() (*lambdatest.Emulator, error) { return m.startBaseline(ctx, f) }, ev)
		if err != nil {
			return c, fmt.Errorf("baseline: %w", err)
		}
		c.baseExtra = append(c.baseExtra, b.first-b.warm)
		c.baseMainInit = append(c.baseMainInit, b.mainInit)
	}
	return c, nil
}

// start1 is one cold start's figures.
type start1 struct {
	rieInit, mainInit, first, warm time.Duration
}

// once starts a function, invokes it with ev once cold and 9 times warm,
// and returns the figures.
func (m *measurer) once(ctx context.Context, start func() (*lambdatest.Emulator, error), ev []byte) (start1, error) {
	var s start1
	em, err := start()
	if err != nil {
		return s, err
	}
	defer em.Close()
	first, err := rtt(ctx, em, ev)
	if err != nil {
		return s, fmt.Errorf("%w\n%s", err, proctest.TailOf(em.Logs(), 2000))
	}
	var warm []time.Duration
	for range 9 {
		d, err := rtt(ctx, em, ev)
		if err != nil {
			return s, err
		}
		warm = append(warm, d)
	}
	reps := em.Reports()
	// The event functions log no init line (mainInit stays 0: not known).
	initDur, _ := lambdatest.InitLogged(em.Logs())
	if len(reps) == 0 {
		return s, errors.New("no REPORT line from the emulator")
	}
	return start1{rieInit: reps[0].Init, mainInit: initDur, first: first, warm: median(warm)}, nil
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
	noise      float64
	// sizes are allFunctions' arm64 bootstraps, baseSize the baseline's.
	sizes    []int64
	baseSize int64
	colds    []cold
	warms    []warm
}

// baseOf is the baseline cold start cost c is held to: the median of the
// baseline's, standing for the same function with the same event.
func (r *report) baseOf(c cold) time.Duration { return median(c.baseExtra) }

// sizeOK and coldOK are the goals.
func (r *report) sizeOK(i int) bool { return float64(r.sizes[i]) < maxSize }

func (r *report) coldOK(c cold) bool {
	return float64(median(c.extra)) <= float64(r.baseOf(c))*(1+r.noise)
}

func (r *report) failures() []string {
	var out []string
	for i, f := range allFunctions() {
		if !r.sizeOK(i) {
			out = append(out, fmt.Sprintf("%s bootstrap is %s (goal: under %s)", f, mb(r.sizes[i]), mb(maxSizeBytes)))
		}
	}
	for _, c := range r.colds {
		if !r.coldOK(c) {
			out = append(out, fmt.Sprintf("%s cold start costs %s, the baseline %s", c.fn, ms(median(c.extra)), ms(r.baseOf(c))))
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
	p("aws-lambda-rie %s; DynamoDB and SQS calls go to moto_server on loopback. The whole page is generated: rerun `make lambda-perf` on a quiet machine before relying on its figures.\n\n", lambdatest.RIEVersion)

	p("## Goals\n\n")
	p("Each function links only its own operation: its handler package, the services that handler calls (its `Services`), and no other operation's code (`shared/lambdamain/links_test.go` holds every function to it, on the packages and on the symbols the linker kept). The goals of that split:\n\n")
	p("- **size**: each deployable bootstrap smaller than %s;\n", maxSizeText)
	p("- **cold start**: not worse than the old layout's, measured in the same run: the median cold start cost at most the baseline's median + %.0f %% (the run-to-run noise of this measurement).\n\n", r.noise*100)
	p("The *baseline* is the old layout, built by this run from `shared/lambdatest/lambdaperf/baseline` with the same flags: one program linking every operation's handler, every service and the AWS SDK's default configuration loader, serving the routes of the function it stands for, as every function did before the split. The event functions (notify, deliver) never linked the HTTP operations: their baseline is their own handler with the SDK's default configuration loader, as they were built before `shared/awsenv`, run by the same program with the same event. Its linux/arm64 bootstrap is **%s** (%d bytes).\n\n", mb(r.baseSize), r.baseSize)

	p("## Size and cold start\n\n")
	p("Size is the deployable `build/lambda/<function>/bootstrap` (linux/arm64, `CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags='-s -w'`). ")
	p("Cold starts run the host build of the same code under the emulator, %d times per function, each in a new emulator, alternately with the baseline standing for the same function, with the same event; ", r.cold)
	p("a function serving routes gets an event that needs no I/O (an unknown path, answered 404 by the router), notify an EventBridge scheduled event (its sweep reads the table; nothing is due) and deliver an SQS event naming a delivery that does not exist (one read). ")
	p("They run in Lambda's environment: no shared AWS config files and no `AWS_CA_BUNDLE` (a CA bundle named there is parsed by the SDK's loader at init, about 10 ms on this machine).\n\n")
	p("- *Cold start cost* is the first invocation's round trip minus the median warm round trip of the same event in the same emulator: process start, Go runtime start, `main` (configuration, AWS configuration, DynamoDB client, router) and the first Runtime API call. The cold-start goal is checked against its median.\n")
	p("- *main init* is what the function itself logs (`init done`, `init_ms`): `main` from its first line until the runtime loop starts (the event functions log none: —).\n")
	p("- *RIE Init Duration* is what the emulator prints in its REPORT line. This emulator starts the runtime asynchronously and stops its clock before the bootstrap has even run, so the figure is not the function's init; it is recorded because it is what the emulator reports.\n")
	p("\n")
	p("| function | arm64 bootstrap | bytes | size / baseline | size goal | main init (median) | baseline main init | RIE Init Duration (median) | cold start cost (median / max) | baseline cold start cost (median) | cold / baseline | cold-start goal |\n")
	p("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n")
	smallest := 0
	for i, c := range r.colds {
		if r.sizes[i] < r.sizes[smallest] {
			smallest = i
		}
		base := r.baseOf(c)
		baseInit := "—"
		if median(c.baseMainInit) > 0 {
			baseInit = ms(median(c.baseMainInit))
		}
		mainInit := "—"
		if median(c.mainInit) > 0 {
			mainInit = ms(median(c.mainInit))
		}
		p("| %s | %s | %d | %.2f | %s | %s | %s | %s | %s / %s | %s | %.2f | %s |\n", c.fn, mb(r.sizes[i]), r.sizes[i], float64(r.sizes[i])/float64(r.baseSize), verdict(r.sizeOK(i)),
			mainInit, baseInit, ms(median(c.rieInit)), ms(median(c.extra)), ms(slices.Max(c.extra)), ms(base), float64(median(c.extra))/float64(base), verdict(r.coldOK(c)))
	}
	p("\nThe smallest bootstrap is **%s**, %s (%d bytes), %.0f %% of the baseline's %s; the largest is %s.\n",
		r.colds[smallest].fn, mb(r.sizes[smallest]), r.sizes[smallest], 100*float64(r.sizes[smallest])/float64(r.baseSize), mb(r.baseSize), mb(slices.Max(r.sizes)))
	if fails := r.failures(); len(fails) > 0 {
		p("\n**Goals missed:** %s.\n", strings.Join(fails, "; "))
	} else {
		p("\nEvery function meets both goals.\n")
	}

	p("\n## What the split removed\n\n")
	p("Against the baseline, each function drops three kinds of code:\n\n")
	p("- **the other operations**: `functions/<op>/main.go` hands its own handler package to `shared/lambdamain`; the single binary (`functions/edge/api`) composes them all;\n")
	p("- **the services its operation does not call**: each handler package names the services it calls (`Services`: keys, directory, audit, webhooks, usage), and only those are constructed (`wiring.New`); usage counting and the REST API's authorizer are linked by the verify function only (`lambdamain.VerifyDoor`), GitHub's secret-scanning keys by leaks only, the webhook HTTP client by deliver and webhooks only (a dispatcher that only queues notices makes none);\n")
	p("- **the AWS SDK's default configuration loader**: on Lambda the region and the execution role's credentials are in the environment, so the functions read them there (`shared/awsenv`) instead of linking the loader's shared-config, SSO, STS, login, process-credential and EC2-metadata providers, none of which runs on Lambda. The single binary keeps the SDK's loader: it runs anywhere.\n")

	p("\n## Warm verify\n\n")
	p("One verify function, after its cold start, %d invocations of each kind in a row. *Reported* is the emulator's Duration (handler time inside the function); *round trip* adds the emulator and the loopback HTTP call. ", r.warm)
	p("A valid token costs one strongly consistent GetItem on moto (a Python server: most of the time is moto's); usage counting costs nothing on the path (see below).\n\n")
	p("| invocation | reported median | reported p90 | round trip median | round trip p90 |\n")
	p("|---|---:|---:|---:|---:|\n")
	for _, w := range r.warms {
		p("| %s | %s | %s | %s | %s |\n", w.name, ms(median(w.reported)), ms(pct(w.reported, 90)), ms(median(w.rtt)), ms(pct(w.rtt, 90)))
	}
	p("\nAt init each function only reads its environment, builds its AWS configuration from it (no network), creates one DynamoDB client and builds its router; the first DynamoDB request happens in the first invocation that needs one.\n")
	p("\n%s", usageCounting)
	return b.String()
}

// verdict is a goal's column.
func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "**fail**"
}

// allFunctions are the functions serving routes, then the event functions.
func allFunctions() []authz.Function {
	return append(authz.Functions(), authz.EventFunctions()...)
}

// buildBaseline builds the baseline package for goos/goarch into out, with
// the functions' flags (functions/make.mk).
func buildBaseline(ctx context.Context, pkg, out, goos, goarch string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the baseline for %s/%s: %w\n%s", goos, goarch, err, b)
	}
	return nil
}

// createQueue creates the webhook deliveries queue on moto (notify's
// QUEUE_URL) and returns its URL.
func createQueue(ctx context.Context, endpoint string) (string, error) {
	q := sqs.New(sqs.Options{
		Region: dynamotest.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(dynamotest.AccessKeyID, dynamotest.SecretAccessKey, ""),
	})
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("webhook-deliveries")})
	if err != nil {
		return "", fmt.Errorf("creating the deliveries queue: %w", err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// scheduledEvent is an EventBridge scheduled event as AWS sends it to a
// rule's target (notify).
const scheduledEvent = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":%q,"region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/apikeys-notify"],"detail":{}}`

// sqsRecord is one record of an SQS event as Lambda's event source
// mapping sends it (deliver).
const sqsRecord = `{"messageId":%q,"receiptHandle":%q,"body":%q,"attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1764446400000","SenderId":"AIDAEXAMPLE","ApproximateFirstReceiveTimestamp":"1764446400001"},"messageAttributes":{},"md5OfBody":"","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:webhook-deliveries","awsRegion":"us-east-1"}`

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

func mb(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// usageCounting is the report's fixed section on usage counting.
const usageCounting = "## Usage counting\n\nThe verify function counts every decision on a token that matched a key (allowed, forbidden, expired) in memory (shared/usage: one striped lock, no allocation once the key is known in the interval) and writes the counts after the first invocation at least `USAGE_FLUSH_INTERVAL` (default 30 s) after its previous flush: one `UpdateItem ADD` per key and UTC day counted, one conditional last-use `UpdateItem` per key whose last use was due. That invocation pays the writes (8 in flight); all others pay nothing. It registers the SIGTERM internal extension (`lambda.WithEnableSIGTERM`), so when Lambda shuts an idle instance down it writes what is left within 400 ms. A frozen instance writes nothing: counts taken just before an idle period reach the table with its next invocation due for a flush or at its shutdown, so on Lambda they can lag by an instance's idle time (minutes), not only by the interval.\n\n**What can be lost.** An instance that is killed without SIGTERM (a crash, an invocation timeout, an out-of-memory kill) loses what it counted since its last flush: at most `USAGE_FLUSH_INTERVAL` of its verifications (30 s by default), each instance independently. A flush that fails (after the SDK's retries) drops its counts and logs a warning. Counts are an estimate for operators (is this key still used?), not billing.\n"
