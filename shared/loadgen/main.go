// Command loadgen is the HTTP load run of `make bench`: a small closed-loop
// load generator (standard library only) against the real single binary.
//
// It builds the edge binary (or takes -bin), seeds a temporary data
// directory (two organizations of 10^5 and 100 keys for the listing
// measurement, written by the seed helper straight into the store), runs
// `edge bootstrap`, starts `edge serve` on loopback pinned to one CPU
// (taskset -c 0) while the generator runs on the other (it re-executes
// itself under taskset -c 1), creates a valid key through the API and then
// measures, in interleaved rounds, POST /v1/verify with a valid, an unknown
// (well-formed, deleted key) and a malformed (bad checksum) token against
// the baseline GET /healthz, at each concurrency, over keep-alive
// connections; every cell is bounded by a duration and a request count. It
// prints medians over the rounds and the ratios verify ÷ baseline, then the
// lifecycle figures: creates/s and rotates/s at c=8 (durable: bbolt
// fsyncs every group commit before answering) and the latency of the first
// page of GET /v1/api-keys?limit=50 in an organization of 10^5 keys vs 100.
// Before all that, the memory measurement (rss.go): the server's VmRSS and
// anonymous memory after verifying keys of stores of 10^4, 10^5 and 10^6
// keys.
//
// Tokens never appear in its output.
//
//	go run ./shared/loadgen [-quick] [-rounds 5] [-duration 2s] [-conc 1,16] [-rss-keys 10000,100000,1000000] [-rss-only]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	bin, seedBin            string
	rounds                  int
	duration, warmup        time.Duration
	conc                    []int
	maxRequests             int64
	lifeDuration            time.Duration
	lifeRounds, lifeConc    int
	listKeys, listSmall     int
	listRequests, listRound int
	pin                     bool
	serverCPU, clientCPU    int
	// serverPID is the edge process whose CPU time cells report (0: none).
	serverPID int
	keep      bool
	only      string
	// The memory measurement (rss.go): store sizes, grants per key,
	// verified keys per size at most, connections; rssOnly skips the rest.
	rssKeys              []int
	rssGrants, rssSample int
	rssConc              int
	rssOnly              bool
}

func main() {
	var o options
	var concFlag, rssFlag string
	quick := flag.Bool("quick", false, "smoke run: one short round, small listing")
	flag.StringVar(&o.bin, "bin", "", "edge binary to run (default: build ./functions/edge)")
	flag.StringVar(&o.seedBin, "seed-bin", "", "seed helper binary (default: build ./shared/loadgen/seed)")
	flag.IntVar(&o.rounds, "rounds", 5, "interleaved rounds of every verify/baseline cell")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "length of one cell (one workload at one concurrency)")
	flag.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "untimed warm-up of each workload before the rounds")
	flag.StringVar(&concFlag, "conc", "1,16", "concurrencies (connections) of the verify/baseline cells")
	flag.Int64Var(&o.maxRequests, "max-requests", 2_000_000, "request bound of one cell")
	flag.DurationVar(&o.lifeDuration, "lifecycle-duration", 3*time.Second, "length of one create or rotate cell")
	flag.IntVar(&o.lifeRounds, "lifecycle-rounds", 3, "rounds of the create and rotate cells")
	flag.IntVar(&o.lifeConc, "lifecycle-conc", 8, "concurrency of the create and rotate cells")
	flag.IntVar(&o.listKeys, "list-keys", 100_000, "keys in the large organization of the listing measurement (0: skip it)")
	flag.IntVar(&o.listSmall, "list-small", 100, "keys in the small organization of the listing measurement")
	flag.IntVar(&o.listRequests, "list-requests", 300, "first-page requests per organization per round")
	flag.IntVar(&o.listRound, "list-rounds", 5, "interleaved rounds of the listing measurement")
	flag.BoolVar(&o.pin, "pin", true, "pin the server and the generator to one CPU each with taskset")
	flag.IntVar(&o.serverCPU, "server-cpu", 0, "CPU of the server")
	flag.IntVar(&o.clientCPU, "client-cpu", 1, "CPU of the generator")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory")
	flag.StringVar(&rssFlag, "rss-keys", "10000,100000,1000000", "store sizes of the memory measurement (empty: skip it)")
	flag.IntVar(&o.rssGrants, "rss-grants", 4, "grants of each key of the memory measurement")
	flag.IntVar(&o.rssSample, "rss-sample", 200_000, "keys verified per size in the memory measurement at most (0: all)")
	flag.IntVar(&o.rssConc, "rss-conc", 8, "connections verifying keys in the memory measurement")
	flag.BoolVar(&o.rssOnly, "rss-only", false, "run the memory measurement only")
	flag.StringVar(&o.only, "only", "", "comma-separated verify workloads besides the baseline (valid,unknown,malformed; default all), e.g. to profile one")
	flag.Parse()
	if *quick {
		o.rounds, o.duration, o.warmup = 1, 300*time.Millisecond, 100*time.Millisecond
		o.lifeDuration, o.lifeRounds = 500*time.Millisecond, 1
		o.listKeys, o.listRequests, o.listRound = min(o.listKeys, 2000), 50, 1
		rssFlag = "10000"
	}
	for _, f := range strings.Split(rssFlag, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 2 {
			fatalf("-rss-keys: %q is not a number of keys ≥ 2", f)
		}
		o.rssKeys = append(o.rssKeys, n)
	}
	for _, f := range strings.Split(concFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatalf("-conc: %q is not a positive number", f)
		}
		o.conc = append(o.conc, n)
	}
	if o.pin {
		reexecPinned(&o)
	}
	if err := run(o); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}

func warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: warning: "+format+"\n", args...)
}

const pinnedEnv = "LOADGEN_PINNED"

// reexecPinned runs this program again under taskset on the client CPU,
// unless it already is; without taskset (or with fewer than 2 CPUs) it
// warns and turns pinning off.
func reexecPinned(o *options) {
	if os.Getenv(pinnedEnv) != "" {
		return
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		warnf("taskset not found (util-linux): server and generator are NOT pinned and share the CPUs")
		o.pin = false
		return
	}
	if runtime.NumCPU() < 2 {
		warnf("fewer than 2 CPUs: server and generator are NOT pinned")
		o.pin = false
		return
	}
	exe, err := os.Executable()
	if err != nil {
		warnf("cannot find this program (%v): the generator is NOT pinned", err)
		return
	}
	cmd := exec.Command(taskset, append([]string{"-c", strconv.Itoa(o.clientCPU), exe}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), pinnedEnv+"=1")
	// The child gets ^C itself (same process group); wait for it.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		fatalf("running under taskset: %v", err)
	}
	os.Exit(0)
}

// --- the run ---------------------------------------------------------------

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tmp, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "loadgen: keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if o.bin == "" {
		o.bin = filepath.Join(tmp, "edge")
		if err := goBuild(o.bin, "github.com/dotenv/apikeys/functions/edge"); err != nil {
			return err
		}
	}
	if o.seedBin == "" && (o.listKeys > 0 || len(o.rssKeys) > 0) {
		o.seedBin = filepath.Join(tmp, "seed")
		if err := goBuild(o.seedBin, "github.com/dotenv/apikeys/shared/loadgen/seed"); err != nil {
			return err
		}
	}
	data := filepath.Join(tmp, "data")
	printMachine(o)
	if len(o.rssKeys) > 0 {
		if err := runRSS(ctx, o, tmp); err != nil {
			return err
		}
		fmt.Println()
	}
	if o.rssOnly {
		return nil
	}

	var lists map[string]seeded
	if o.listKeys > 0 {
		t0 := time.Now()
		out, err := exec.CommandContext(ctx, o.seedBin, "--data", data,
			"--org", fmt.Sprintf("large=%d", o.listKeys), "--org", fmt.Sprintf("small=%d", o.listSmall)).Output()
		if err != nil {
			return fmt.Errorf("seeding: %w%s", err, stderrOf(err))
		}
		if err := json.Unmarshal(out, &lists); err != nil {
			return fmt.Errorf("seeding: reading its output: %w", err)
		}
		fmt.Printf("seeded %d + %d keys in %.1fs\n", o.listKeys, o.listSmall, time.Since(t0).Seconds())
	}

	out, err := exec.CommandContext(ctx, o.bin, "bootstrap", "--data", data, "--log-level", "warn").Output()
	if err != nil {
		return fmt.Errorf("edge bootstrap: %w%s", err, stderrOf(err))
	}
	var boot struct {
		OrganizationID string `json:"organization_id"`
		Token          string `json:"token"`
	}
	if err := json.Unmarshal(out, &boot); err != nil || boot.Token == "" {
		return fmt.Errorf("edge bootstrap: unexpected output (%d bytes)", len(out))
	}

	srv, err := startServer(o, data)
	if err != nil {
		return err
	}
	defer srv.stop()
	o.serverPID = srv.cmd.Process.Pid
	fmt.Printf("server: %s, pid %d%s\n\n", srv.addr, o.serverPID, pinNote(o))

	api := &client{addr: srv.addr}
	valid, err := api.createKey(boot.Token, "loadgen valid")
	if err != nil {
		return err
	}
	gone, err := api.createKey(boot.Token, "loadgen deleted")
	if err != nil {
		return err
	}
	if err := api.deleteKey(boot.Token, gone.ID); err != nil {
		return err
	}
	malformed := corruptChecksum(valid.Token)

	verifyBody := func(tok string) []byte { b, _ := json.Marshal(map[string]string{"token": tok}); return b }
	ws := []workload{
		{name: "healthz (baseline)", req: newRequest("healthz", "GET", srv.addr, "/healthz", "", nil), want: 200, check: `"status":"ok"`},
		{name: "verify valid", req: newRequest("valid", "POST", srv.addr, "/v1/verify", "", verifyBody(valid.Token)), want: 200, check: `"code":"ok"`},
		{name: "verify unknown", req: newRequest("unknown", "POST", srv.addr, "/v1/verify", "", verifyBody(gone.Token)), want: 200, check: `"code":"not_found"`},
		{name: "verify malformed", req: newRequest("malformed", "POST", srv.addr, "/v1/verify", "", verifyBody(malformed)), want: 200, check: `"code":"malformed"`},
	}
	if o.only != "" {
		keep := ws[:1]
		for _, w := range ws[1:] {
			if strings.Contains(","+o.only+",", ","+w.req.name+",") {
				keep = append(keep, w)
			}
		}
		ws = keep
	}
	for _, w := range ws {
		if err := w.sanity(srv.addr); err != nil {
			return err
		}
	}
	if err := runVerify(ctx, o, srv.addr, ws); err != nil {
		return err
	}
	if err := runLifecycle(ctx, o, api, boot.Token); err != nil {
		return err
	}
	if lists != nil {
		if err := runList(ctx, o, srv.addr, lists); err != nil {
			return err
		}
	}
	fmt.Printf("\nload average at the end: %s\n", loadavg())
	return nil
}

func goBuild(out, pkg string) error {
	goCmd := "go"
	if g := os.Getenv("GO"); g != "" {
		goCmd = g
	}
	cmd := exec.Command(goCmd, "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %w", pkg, err)
	}
	return nil
}

func stderrOf(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(exit.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(exit.Stderr))
	}
	return ""
}

func pinNote(o options) string {
	if !o.pin {
		return " (NOT pinned)"
	}
	return fmt.Sprintf(" pinned to CPU %d; generator pinned to CPU %d", o.serverCPU, o.clientCPU)
}

func printMachine(o options) {
	model, cpus := "unknown", 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(l, "processor"):
				cpus++
			case strings.HasPrefix(l, "model name") && model == "unknown":
				model = strings.TrimSpace(l[strings.Index(l, ":")+1:])
			}
		}
	}
	fmt.Printf("machine: %d CPUs (%d usable by the generator), %s, %s; load average %s\n",
		cpus, runtime.NumCPU(), model, runtime.Version(), loadavg())
	fmt.Printf("cells: %d rounds × %v (warm-up %v), concurrency %v, ≤ %d requests per cell\n",
		o.rounds, o.duration, o.warmup, o.conc, o.maxRequests)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// corruptChecksum changes the token's last character: the checksum no longer
// matches, so the token is malformed (refused after every format check,
// before any hashing or store read) and has the valid token's length.
func corruptChecksum(tok string) string {
	b := []byte(tok)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

// --- the server ------------------------------------------------------------

type server struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startServer(o options, data string) (*server, error) {
	// The failed-authentication limit stays on (so every cell pays its
	// lookup) with a budget the unknown and malformed cells never spend;
	// the lifecycle cell creates keys by the thousand in one organization,
	// far past the default key quota, which it does not measure.
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "warn",
		"--auth-failure-rate", "1e9", "--auth-failure-burst", "1000000000",
		"--max-keys-per-organization", "1000000000"}
	var cmd *exec.Cmd
	if o.pin {
		cmd = exec.Command("taskset", append([]string{"-c", strconv.Itoa(o.serverCPU), o.bin}, args...)...)
	} else {
		cmd = exec.Command(o.bin, args...)
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting edge serve: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		// Only the "Listening on" line is read; the rest (which could hold a
		// token on a fresh store) is discarded, never printed.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Listening on http://"); ok {
				addr, _, _ := strings.Cut(rest, " ")
				addrc <- addr
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case s.addr = <-addrc:
		return s, nil
	case <-s.done:
		return nil, errors.New("edge serve exited before listening")
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, errors.New("edge serve did not start listening within 60s")
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// procCPU returns the user + system CPU time of process pid from
// /proc/PID/stat (clock ticks of 10 ms), or 0.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// --- API calls for the setup -------------------------------------------------

type client struct{ addr string }

type createdKey struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func (c *client) call(req request, want int, out any) error {
	cn, err := dial(c.addr)
	if err != nil {
		return err
	}
	defer cn.Close()
	var body []byte
	status, err := cn.do(req, &body)
	if err != nil {
		return fmt.Errorf("%s: %w", req.name, err)
	}
	if status != want {
		return fmt.Errorf("%s: status %d, want %d: %s", req.name, status, want, problemOf(body))
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// problemOf keeps an error body's code and detail (never a token: error
// bodies carry none).
func problemOf(body []byte) string {
	var p struct{ Code, Detail string }
	if json.Unmarshal(body, &p) != nil {
		return fmt.Sprintf("%d bytes", len(body))
	}
	return p.Code + ": " + p.Detail
}

func (c *client) createKey(owner, name string) (createdKey, error) {
	body, _ := json.Marshal(map[string]any{"name": name, "allow_all": true, "expiration": "never"})
	var k createdKey
	err := c.call(newRequest("create key", "POST", c.addr, "/v1/api-keys", owner, body), 201, &k)
	if err == nil && (k.ID == "" || k.Token == "") {
		err = errors.New("create key: the answer has no id or token")
	}
	return k, err
}

func (c *client) deleteKey(owner, id string) error {
	return c.call(newRequest("delete key", "DELETE", c.addr, "/v1/api-keys/"+id, owner, nil), 204, nil)
}

// --- cells -----------------------------------------------------------------

// workload is one kind of request and what its answer must be.
type workload struct {
	name  string
	req   request
	want  int
	check string // a substring of the first answer's body
	// reqs, when set, gives worker w its own request (one key each).
	reqs []request
}

func (w workload) request(worker int) request {
	if w.reqs != nil {
		return w.reqs[worker%len(w.reqs)]
	}
	return w.req
}

// sanity checks one answer's status and body before measuring.
func (w workload) sanity(addr string) error {
	cn, err := dial(addr)
	if err != nil {
		return err
	}
	defer cn.Close()
	var body []byte
	status, err := cn.do(w.request(0), &body)
	if err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	if status != w.want || !bytes.Contains(body, []byte(w.check)) {
		return fmt.Errorf("%s: status %d (want %d), body does not hold %s: %s", w.name, status, w.want, w.check, problemOf(body))
	}
	return nil
}

// cell is the outcome of one workload at one concurrency.
type cell struct {
	n        int64
	elapsed  time.Duration
	lat      []time.Duration // sorted
	failures int64
	firstErr error
	// serverCPU is the CPU time (user + system) the server used during the
	// cell; 0 when unknown.
	serverCPU time.Duration
}

// cpuPerReq is the server's CPU time per request: unlike req/s it does not
// change when other processes take CPU time from the server.
func (c cell) cpuPerReq() time.Duration {
	if c.n == 0 {
		return 0
	}
	return c.serverCPU / time.Duration(c.n)
}

func (c cell) rps() float64 { return float64(c.n) / c.elapsed.Seconds() }
func (c cell) p50() time.Duration {
	return percentile(c.lat, 0.50)
}
func (c cell) p99() time.Duration { return percentile(c.lat, 0.99) }

// measure runs w on conc keep-alive connections, closed loop, for d or
// maxReq requests, whichever comes first, and reads the CPU time of process
// pid (0: none) around the timed part.
func measure(ctx context.Context, addr string, w workload, conc int, d time.Duration, maxReq int64, pid int) (cell, error) {
	conns := make([]*conn, conc)
	for i := range conns {
		c, err := dial(addr)
		if err != nil {
			return cell{}, err
		}
		defer c.Close()
		// One untimed request per connection: accepted and warm.
		if _, err := c.do(w.request(i), nil); err != nil {
			return cell{}, fmt.Errorf("%s: %w", w.name, err)
		}
		conns[i] = c
	}
	var (
		issued   atomic.Int64
		failures atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
		lats     = make([][]time.Duration, conc)
	)
	cpu0 := procCPU(pid)
	start := time.Now()
	deadline := start.Add(d)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := w.request(i)
			l := make([]time.Duration, 0, 4096)
			now := time.Now()
			for now.Before(deadline) && issued.Add(1) <= maxReq && ctx.Err() == nil {
				status, err := conns[i].do(req, nil)
				end := time.Now()
				l = append(l, end.Sub(now))
				now = end
				if err != nil || status != w.want {
					failures.Add(1)
					errOnce.Do(func() {
						if err == nil {
							err = fmt.Errorf("status %d, want %d", status, w.want)
						}
						firstErr = err
					})
					if err != nil {
						return
					}
				}
			}
			lats[i] = l
		}()
	}
	wg.Wait()
	c := cell{elapsed: time.Since(start), failures: failures.Load(), firstErr: firstErr}
	if cpu1 := procCPU(pid); cpu0 > 0 && cpu1 > cpu0 {
		c.serverCPU = cpu1 - cpu0
	}
	for _, l := range lats {
		c.lat = append(c.lat, l...)
	}
	c.n = int64(len(c.lat))
	sortDurations(c.lat)
	if err := ctx.Err(); err != nil {
		return c, err
	}
	if c.failures > 0 {
		return c, fmt.Errorf("%s at c=%d: %d failed requests, first: %v", w.name, conc, c.failures, c.firstErr)
	}
	return c, nil
}

// --- verify vs baseline ------------------------------------------------------

func runVerify(ctx context.Context, o options, addr string, ws []workload) error {
	type key struct{ conc, w int }
	cells := map[key][]cell{}
	for _, c := range o.conc {
		for _, w := range ws {
			if _, err := measure(ctx, addr, w, c, o.warmup, o.maxRequests, o.serverPID); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	for r := 0; r < o.rounds; r++ {
		for _, c := range o.conc {
			// Rotate the order each round so no workload always runs first.
			for j := range ws {
				i := (j + r) % len(ws)
				res, err := measure(ctx, addr, ws[i], c, o.duration, o.maxRequests, o.serverPID)
				if err != nil {
					return err
				}
				cells[key{c, i}] = append(cells[key{c, i}], res)
			}
		}
		fmt.Fprintf(os.Stderr, "loadgen: round %d/%d done\n", r+1, o.rounds)
	}
	fmt.Printf("## POST /v1/verify vs GET /healthz (medians of %d rounds)\n\n", o.rounds)
	fmt.Println("| c | workload | req/s | p50 | p99 | req/s ÷ baseline | p99 ÷ baseline p99 | server CPU/req | baseline CPU/req ÷ CPU/req |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range o.conc {
		base := cells[key{c, 0}]
		for i, w := range ws {
			cs := cells[key{c, i}]
			var rps, p50, p99, rr, pr, cpu, cr []float64
			for r, x := range cs {
				cpu = append(cpu, float64(x.cpuPerReq()))
				if x.cpuPerReq() > 0 {
					cr = append(cr, float64(base[r].cpuPerReq())/float64(x.cpuPerReq()))
				}
				rps = append(rps, x.rps())
				p50 = append(p50, float64(x.p50()))
				p99 = append(p99, float64(x.p99()))
				rr = append(rr, x.rps()/base[r].rps())
				pr = append(pr, float64(x.p99())/float64(base[r].p99()))
			}
			rs, ps, crs := "—", "—", "—"
			if i > 0 {
				rs, ps = fmt.Sprintf("%.3f", median(rr)), fmt.Sprintf("%.3f", median(pr))
				if len(cr) > 0 {
					crs = fmt.Sprintf("%.3f", median(cr))
				}
			}
			fmt.Printf("| %d | %s | %.0f | %s | %s | %s | %s | %s | %s |\n", c, w.name, median(rps),
				fmtDur(median(p50)), fmtDur(median(p99)), rs, ps, fmtDur(median(cpu)), crs)
		}
	}
	fmt.Println("\nratios are medians of the per-round ratios (each round measures every workload back to back);")
	fmt.Println("server CPU/req is the server's user+system CPU time (/proc, 10 ms ticks) per request, which other processes")
	fmt.Println("on the machine do not change: its inverse ratio is the throughput ratio the server would reach on a quiet core")
	return nil
}

func fmtDur(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
}

// --- lifecycle ---------------------------------------------------------------

func runLifecycle(ctx context.Context, o options, api *client, owner string) error {
	createBody, _ := json.Marshal(map[string]any{"name": "loadgen create", "allow_all": true, "expiration": "never"})
	create := workload{name: "create (POST /v1/api-keys)", want: 201, check: `"token"`,
		req: newRequest("create", "POST", api.addr, "/v1/api-keys", owner, createBody)}
	// Every rotating worker rotates its own key: concurrent rotations of
	// one key conflict by design.
	rotate := workload{name: "rotate (POST /v1/api-keys/{id}/rotate)", want: 200, check: `"token"`}
	for i := 0; i < o.lifeConc; i++ {
		k, err := api.createKey(owner, fmt.Sprintf("loadgen rotate %d", i))
		if err != nil {
			return err
		}
		rotate.reqs = append(rotate.reqs, newRequest("rotate", "POST", api.addr, "/v1/api-keys/"+k.ID+"/rotate", owner, nil))
	}
	for _, w := range []workload{create, rotate} {
		if err := w.sanity(api.addr); err != nil {
			return err
		}
	}
	ws := []workload{create, rotate}
	res := make([][]cell, len(ws))
	for r := 0; r < o.lifeRounds; r++ {
		for j := range ws {
			i := (j + r) % len(ws)
			c, err := measure(ctx, api.addr, ws[i], o.lifeConc, o.lifeDuration, o.maxRequests, o.serverPID)
			if err != nil {
				return err
			}
			res[i] = append(res[i], c)
		}
	}
	fmt.Printf("\n## Lifecycle on the embedded store, c=%d, durable (medians of %d rounds × %v)\n\n", o.lifeConc, o.lifeRounds, o.lifeDuration)
	fmt.Println("| operation | ops/s | p50 | p99 |")
	fmt.Println("|---|---:|---:|---:|")
	for i, w := range ws {
		var rps, p50, p99 []float64
		for _, c := range res[i] {
			rps = append(rps, c.rps())
			p50 = append(p50, float64(c.p50()))
			p99 = append(p99, float64(c.p99()))
		}
		fmt.Printf("| %s | %.0f | %s | %s |\n", w.name, median(rps), fmtDur(median(p50)), fmtDur(median(p99)))
	}
	return nil
}

// --- listing -------------------------------------------------------------------

type seeded struct {
	OrganizationID string `json:"organization_id"`
	Token          string `json:"token"`
	Keys           int    `json:"keys"`
}

func runList(ctx context.Context, o options, addr string, orgs map[string]seeded) error {
	names := []string{"small", "large"}
	ws := make([]workload, len(names))
	for i, n := range names {
		ws[i] = workload{name: fmt.Sprintf("%d keys", orgs[n].Keys), want: 200, check: `"next_cursor":"`,
			req: newRequest("list", "GET", addr, "/v1/api-keys?limit=50", orgs[n].Token, nil)}
		if err := ws[i].sanity(addr); err != nil {
			return err
		}
	}
	lat := make([][]time.Duration, len(ws))
	for r := 0; r < o.listRound; r++ {
		for j := range ws {
			i := (j + r) % len(ws)
			c, err := measure(ctx, addr, ws[i], 1, time.Minute, int64(o.listRequests), o.serverPID)
			if err != nil {
				return err
			}
			lat[i] = append(lat[i], c.lat...)
		}
	}
	fmt.Printf("\n## First page of GET /v1/api-keys?limit=50, c=1 (%d rounds × %d requests, interleaved)\n\n", o.listRound, o.listRequests)
	fmt.Println("| organization | p50 | p99 | p50 ÷ small p50 |")
	fmt.Println("|---|---:|---:|---:|")
	small := percentile(sortDurations(lat[0]), 0.5)
	for i, w := range ws {
		s := sortDurations(lat[i])
		fmt.Printf("| %s | %s | %s | %.2f |\n", w.name, fmtDur(float64(percentile(s, 0.5))), fmtDur(float64(percentile(s, 0.99))),
			float64(percentile(s, 0.5))/float64(small))
	}
	return nil
}
