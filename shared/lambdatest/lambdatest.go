// Package lambdatest runs the Lambda functions the way AWS does, for tests
// and measurements: it builds each function's static bootstrap, builds the
// AWS Lambda Runtime Interface Emulator (aws-lambda-rie) at a pinned
// version, starts one emulator per function on free loopback ports and
// invokes it with API Gateway event JSON over the emulator's invoke API.
//
// Failures to build or start anything are errors that say what went wrong:
// the tests that use this package fail, they never skip.
package lambdatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/proctest"
)

// The emulator's Go module and the version this project pins; functions/make.mk
// pins the same one.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

// RIEEnv may name a prebuilt aws-lambda-rie binary (e.g. build/tools/aws-lambda-rie
// from `make rie`) to use instead of building one.
const RIEEnv = "AWS_LAMBDA_RIE"

// BuildFlags are the flags every bootstrap is built with (besides
// CGO_ENABLED=0): the runtime API client without RPC, no file system paths,
// no symbol table or DWARF.
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// ModuleRoot walks up from the working directory to go.mod.
func ModuleRoot() (string, error) { return proctest.ModuleRoot() }

// BuildFunctions builds the given functions with one `go build` (which
// compiles and links them in parallel) as static binaries for goos/goarch
// (this machine's when empty) and returns each one's path,
// dir/<function>/bootstrap.
func BuildFunctions(ctx context.Context, root, dir, goos, goarch string, fs ...authz.Function) (map[authz.Function]string, error) {
	staging, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return nil, fmt.Errorf("lambdatest: %w", err)
	}
	defer os.RemoveAll(staging)
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", staging+string(filepath.Separator))
	for _, f := range fs {
		args = append(args, "./functions/"+string(f))
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos)
	}
	if goarch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+goarch)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lambdatest: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	paths := make(map[authz.Function]string, len(fs))
	for _, f := range fs {
		to := filepath.Join(dir, string(f), "bootstrap")
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return nil, fmt.Errorf("lambdatest: %w", err)
		}
		if err := os.Rename(filepath.Join(staging, string(f)), to); err != nil {
			return nil, fmt.Errorf("lambdatest: placing the %s bootstrap: %w", f, err)
		}
		paths[f] = to
	}
	return paths, nil
}

// BuildRIE returns the emulator binary: the one RIEEnv names when set,
// otherwise aws-lambda-rie built from RIEModule at RIEVersion into dir with
// `go install` (through the Go module proxy and the build cache).
func BuildRIE(ctx context.Context, dir string) (string, error) {
	if p := os.Getenv(RIEEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("lambdatest: %s=%s: %w", RIEEnv, p, err)
		}
		return p, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("lambdatest: %w", err)
	}
	pkg := RIEModule + "/cmd/aws-lambda-rie@" + RIEVersion
	cmd := exec.CommandContext(ctx, "go", "install", pkg)
	// GOFLAGS of the project (-mod, -overlay) do not apply to another module.
	cmd.Env = append(os.Environ(), "GOBIN="+abs, "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lambdatest: go install %s (needs the Go module proxy or a module cache holding it): %w\n%s", pkg, err, out)
	}
	return filepath.Join(abs, "aws-lambda-rie"), nil
}

// Emulator is one function's bootstrap under aws-lambda-rie.
type Emulator struct {
	// URL is the emulator's invoke endpoint.
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	logs *proctest.Tail
}

// EmulatorConfig says what to run.
type EmulatorConfig struct {
	// RIE is the aws-lambda-rie binary; Bootstrap the function's.
	RIE, Bootstrap string
	// Env is added to this process's environment for the emulator, which
	// passes it on to the function.
	Env []string
}

// StartEmulator starts the emulator with the bootstrap on two free loopback
// ports (the emulator's invoke API and the Lambda Runtime API) and waits
// until it accepts invocations. The function itself starts (cold) on the
// first invocation, as on Lambda. A few attempts are made in case another
// process takes a port first.
func StartEmulator(ctx context.Context, cfg EmulatorConfig) (*Emulator, error) {
	var lastErr error
	for range 3 {
		e, err := startEmulator(ctx, cfg)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startEmulator(ctx context.Context, cfg EmulatorConfig) (*Emulator, error) {
	// The emulator runs in the bootstrap's folder, as Lambda runs it in
	// /var/task: relative paths would no longer hold.
	rie, err := filepath.Abs(cfg.RIE)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: %w", err)
	}
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: %w", err)
	}
	ports, err := proctest.FreePorts(2)
	if err != nil {
		return nil, err
	}
	invoke, runtime := "127.0.0.1:"+strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1])
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invoke,
		"--runtime-api-address", runtime,
		"--log-level", "error",
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(os.Environ(), cfg.Env...)
	logs := proctest.NewTail(maxLog)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lambdatest: starting %s: %w", rie, err)
	}
	e := &Emulator{
		URL:  "http://" + invoke + "/2015-03-31/functions/function/invocations",
		cmd:  cmd,
		done: make(chan struct{}),
		logs: logs,
	}
	go func() { e.err = cmd.Wait(); close(e.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", invoke, 200*time.Millisecond)
		if err == nil {
			c.Close()
			// Another process may hold the port: then this emulator fails
			// to bind and exits at once, while the dial reached the other.
			if proctest.ExitedAfterReady(e.done) {
				return nil, fmt.Errorf("lambdatest: aws-lambda-rie for %s exited after start (%v), port %s taken?: %s", cfg.Bootstrap, e.err, invoke, logs.String())
			}
			return e, nil
		}
		select {
		case <-e.done:
			return nil, fmt.Errorf("lambdatest: aws-lambda-rie for %s exited before listening (%v): %s", cfg.Bootstrap, e.err, logs.String())
		case <-ctx.Done():
			e.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Close()
			return nil, fmt.Errorf("lambdatest: aws-lambda-rie for %s did not listen on %s within 15s: %s", cfg.Bootstrap, invoke, logs.String())
		}
	}
}

// FunctionError is a function's error answer (the Runtime API's error
// document), e.g. the authorizer's "Unauthorized".
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// Error names the error type and message the function answered.
func (e *FunctionError) Error() string { return "function error " + e.Type + ": " + e.Message }

// Invoke sends one event and returns the function's answer. An error
// answer of the function is a *FunctionError; an emulator failure (the
// function could not start, timed out or crashed) is another error with the
// emulator's output.
func (e *Emulator) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(event))
	if err != nil {
		return nil, fmt.Errorf("lambdatest: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: invoking: %w; emulator output: %s", err, e.Logs())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("lambdatest: the emulator answered %d: %s; emulator output: %s", resp.StatusCode, body, e.Logs())
	}
	// The Runtime API's error document is the only answer with errorType.
	var probe struct {
		FunctionError
		Present *string `json:"errorType"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.Present != nil {
		return nil, &FunctionError{Message: probe.Message, Type: *probe.Present}
	}
	return body, nil
}

// Logs returns what the emulator and the function printed so far.
func (e *Emulator) Logs() string { return e.logs.String() }

// Reports returns the REPORT lines the emulator printed so far.
func (e *Emulator) Reports() []Report { return ParseReports(e.Logs()) }

// Close stops the emulator and the function (its process group) and waits
// for them.
func (e *Emulator) Close() error {
	select {
	case <-e.done:
		return nil
	default:
	}
	pid := e.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-e.done
	}
	return nil
}

// Report is one invocation's REPORT line.
type Report struct {
	RequestID string
	// Init is the cold start's Init Duration; zero on warm invocations.
	Init time.Duration
	// Duration is the invocation's duration.
	Duration time.Duration
}

var (
	reportLine   = regexp.MustCompile(`REPORT RequestId: (\S+)`)
	initField    = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)
	durationItem = regexp.MustCompile(`\tDuration: ([0-9.]+) ms`)
)

// ParseReports reads the REPORT lines of emulator output, e.g.
// "REPORT RequestId: 1b2c…\tInit Duration: 9.81 ms\tDuration: 3.02 ms\t…".
func ParseReports(logs string) []Report {
	var out []Report
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		m := reportLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r := Report{RequestID: m[1]}
		if m := initField.FindStringSubmatch(line); m != nil {
			r.Init = millis(m[1])
		}
		if m := durationItem.FindStringSubmatch(line); m != nil {
			r.Duration = millis(m[1])
		}
		out = append(out, r)
	}
	return out
}

// initLine matches the line lambdamain logs when a function's init is done.
var initLine = regexp.MustCompile(`"msg":"init done".*"init_ms":([0-9.]+)`)

// InitLogged returns the init duration the function logged (lambdamain's
// "init done" line, at LOG_LEVEL info), if it logged one.
func InitLogged(logs string) (time.Duration, bool) {
	m := initLine.FindStringSubmatch(logs)
	if m == nil {
		return 0, false
	}
	return millis(m[1]), true
}

func millis(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

// maxLog is how much of an emulator's output is kept (the last 1 MiB).
const maxLog = 1 << 20

// placeholder matches {{name}} in an event template, and wholePlaceholder
// one that is a whole JSON string.
var (
	placeholder      = regexp.MustCompile(`\{\{([a-z_]+)\}\}`)
	wholePlaceholder = regexp.MustCompile(`"\{\{([a-z_]+)\}\}"`)
)

// Render fills an event template: a placeholder that is a whole JSON string,
// "{{name}}", becomes the JSON encoding of vars[name] (a string, a map,
// nil for null, ...); a placeholder inside a longer string becomes the
// string vars[name] escaped for JSON. A placeholder without a value is an
// error, and so is a result that is not JSON.
func Render(template []byte, vars map[string]any) ([]byte, error) {
	var missing []string
	var bad error
	out := wholePlaceholder.ReplaceAllFunc(template, func(m []byte) []byte {
		name := string(m[3 : len(m)-3])
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		b, err := json.Marshal(v)
		if err != nil {
			bad = fmt.Errorf("lambdatest: encoding %s: %w", name, err)
		}
		return b
	})
	out = placeholder.ReplaceAllFunc(out, func(m []byte) []byte {
		name := string(m[2 : len(m)-2])
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		s, ok := v.(string)
		if !ok {
			bad = fmt.Errorf("lambdatest: %s is inside a string and must be a string, not %T", name, v)
			return m
		}
		b, _ := json.Marshal(s)
		return b[1 : len(b)-1]
	})
	if bad != nil {
		return nil, bad
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lambdatest: no value for %s", strings.Join(missing, ", "))
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("lambdatest: the rendered event is not JSON: %s", out)
	}
	return out, nil
}
