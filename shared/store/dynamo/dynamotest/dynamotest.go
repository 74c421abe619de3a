// Package dynamotest starts DynamoDB-compatible servers for tests: moto 5
// (moto_server's app, one request at a time, see motoServe) and dynalite (npm, pinned under localstack/tools), each on
// a free loopback port, plus the server AWS_ENDPOINT_URL_DYNAMODB points at
// when it is set. Each backend gets a uniquely named table, made with
// dynamo.EnsureTable, that Close deletes before it stops the servers.
//
// A server that cannot be started is an error that says what to install:
// tests fail, they never skip.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dotenv/apikeys/shared/proctest"
	"github.com/dotenv/apikeys/shared/store/dynamo"
)

// Local servers are reached with these static dummy credentials and region.
const (
	Region          = "us-east-1"
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// EndpointEnv is the SDK's standard variable for a DynamoDB endpoint; when
// set, Start adds that server as a backend too.
const EndpointEnv = "AWS_ENDPOINT_URL_DYNAMODB"

// DynaliteEnv may name the dynalite executable (default:
// localstack/tools/node_modules/.bin/dynalite under the module root).
const DynaliteEnv = "DYNALITE"

// Backend is one server with a table of its own for the test package.
type Backend struct {
	// Name is "moto", "dynalite" or "env".
	Name     string
	Endpoint string
	Table    string
	// Client reaches Endpoint; build others with NewClient.
	Client *dynamodb.Client
	// NoTransactions is "" when the server has TransactWriteItems, which
	// every audited change needs; otherwise it names the gap, and tests
	// that write skip with it (docs/dynamodb.md).
	NoTransactions string
	proc           *process
}

// noTransactWriteItems is the gap of dynalite (UnknownOperationException).
const noTransactWriteItems = "dynalite has no TransactWriteItems: changes and their audit events cannot be written"

// process is a server this package started.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	err  error         // Wait's result, once done is closed
}

// Env is the set of backends a test package runs against.
type Env struct {
	Backends []*Backend
	log      *slog.Logger
}

// Options select the servers to start.
type Options struct {
	// Moto and Dynalite start those servers.
	Moto, Dynalite bool
	// Logger receives the servers' start-up and EnsureTable messages
	// (default: discarded).
	Logger *slog.Logger
}

// Start starts the selected servers, waits until they answer and creates a
// table on each (and on the AWS_ENDPOINT_URL_DYNAMODB server when set). On
// error, whatever was started is stopped again.
func Start(ctx context.Context, opt Options) (_ *Env, err error) {
	e := &Env{log: opt.Logger}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Close())
		}
	}()
	if opt.Moto {
		if err := e.startLocal(ctx, "moto", motoCommand); err != nil {
			return nil, err
		}
	}
	if opt.Dynalite {
		if err := e.startLocal(ctx, "dynalite", dynaliteCommand); err != nil {
			return nil, err
		}
	}
	if ep := os.Getenv(EndpointEnv); ep != "" {
		client, err := NewClient(ctx, "")
		if err != nil {
			return nil, err
		}
		b := &Backend{Name: "env", Endpoint: ep, Client: client}
		if err := e.addTable(ctx, b); err != nil {
			return nil, fmt.Errorf("dynamotest: server at %s=%s: %w", EndpointEnv, ep, err)
		}
	}
	return e, nil
}

// NewClient returns a client from the SDK's standard configuration. With an
// endpoint it talks to that local server with the static dummy credentials
// and region us-east-1; without one it uses the environment as it is
// (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials), defaulting the
// region and credentials to the dummy ones when unset. optFns adjust the
// client (e.g. APIOptions for counting middleware, a retryer).
func NewClient(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	var load []func(*config.LoadOptions) error
	if endpoint != "" || os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		load = append(load, config.WithRegion(Region))
	}
	if endpoint != "" || os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("dynamotest: load AWS config: %w", err)
	}
	opts := optFns
	if endpoint != "" {
		opts = append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }}, optFns...)
	}
	return dynamodb.NewFromConfig(cfg, opts...), nil
}

// command returns the command that serves DynamoDB on port, or an error
// saying what to install.
type command func(port int) (*exec.Cmd, error)

// motoServe runs moto's server app like `moto_server -H host -p port`, but
// applying one request at a time. moto_server serves each request on its
// own thread and evaluates a write's condition and applies the write
// without a lock, so two concurrent conditional writes to one item can both
// succeed (seen here: two UpdateItem with "version = 1" both won). DynamoDB
// applies a conditional write atomically per item, and the store relies on
// it. A lock around the app restores that guarantee; connections are still
// served on threads with HTTP/1.1 keep-alive (a single-threaded server
// closes every connection, and the SDK then retries writes whose answers
// were lost).
const motoServe = `import os, sys, threading
from werkzeug.serving import run_simple, WSGIRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
def serialized(environ, start_response):
    with lock:
        return list(app(environ, start_response))
WSGIRequestHandler.protocol_version = "HTTP/1.1"
run_simple(host, port, serialized, threaded=True)
`

func motoCommand(port int) (*exec.Cmd, error) {
	const install = "install moto 5 with its server extra: pip install 'moto[server]>=5,<6'"
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, fmt.Errorf("moto_server not found on PATH (%w): %s", err, install)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("python3 not found on PATH (%w): %s", err, install)
	}
	if out, err := exec.Command(python, "-c", "import moto.moto_server.werkzeug_app, werkzeug.serving").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("python3 cannot import moto's server (%v: %s): %s", err, out, install)
	}
	return exec.Command(python, "-c", motoServe, "127.0.0.1", strconv.Itoa(port)), nil
}

func dynaliteCommand(port int) (*exec.Cmd, error) {
	bin := os.Getenv(DynaliteEnv)
	if bin == "" {
		root, err := proctest.ModuleRoot()
		if err != nil {
			return nil, err
		}
		bin = filepath.Join(root, "localstack", "tools", "node_modules", ".bin", "dynalite")
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("dynalite not installed (%w): run `make dynalite` (npm ci --prefix localstack/tools; needs Node.js and npm), or set %s to a dynalite executable", err, DynaliteEnv)
	}
	return exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"), nil
}

// startLocal starts a server on a free port (a few tries, in case another
// process takes the port first), waits until it answers and adds a table.
func (e *Env) startLocal(ctx context.Context, name string, cmd command) error {
	var lastErr error
	for range 3 {
		port, err := proctest.FreePort()
		if err != nil {
			return fmt.Errorf("dynamotest: %s: %w", name, err)
		}
		c, err := cmd(port)
		if err != nil {
			return fmt.Errorf("dynamotest: cannot start %s: %w", name, err)
		}
		b, err := e.launch(ctx, name, port, c)
		if err != nil {
			lastErr = err
			continue
		}
		e.Backends = append(e.Backends, b) // Close stops it from now on
		if err := e.addTable(ctx, b); err != nil {
			e.Backends = e.Backends[:len(e.Backends)-1]
			stop(b.proc)
			return fmt.Errorf("dynamotest: %s: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("dynamotest: cannot start %s: %w", name, lastErr)
}

// launch runs c in its own process group and waits until the server answers
// ListTables.
func (e *Env) launch(ctx context.Context, name string, port int, c *exec.Cmd) (*Backend, error) {
	out := proctest.NewTail(4096)
	c.Stdout, c.Stderr = out, out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	p := &process{cmd: c, done: make(chan struct{})}
	go func() { p.err = c.Wait(); close(p.done) }()
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	client, err := NewClient(ctx, endpoint)
	if err != nil {
		stop(p)
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(pctx, &dynamodb.ListTablesInput{})
		cancel()
		if err == nil {
			// Another process may hold the port: then this server fails to
			// bind and exits at once, while ListTables reached the other.
			if proctest.ExitedAfterReady(p.done) {
				return nil, fmt.Errorf("%s exited after answering on %s (%v), port taken?: %s", name, endpoint, p.err, out.String())
			}
			e.log.Info("dynamodb test server up", "server", name, "endpoint", endpoint, "pid", c.Process.Pid)
			b := &Backend{Name: name, Endpoint: endpoint, Client: client, proc: p}
			if name == "dynalite" {
				b.NoTransactions = noTransactWriteItems
			}
			return b, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before answering (%v): %s", name, p.err, out.String())
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			stop(p)
			return nil, ctx.Err()
		}
		if time.Now().After(deadline) {
			stop(p)
			return nil, fmt.Errorf("%s did not answer on %s within 60s: %v; output: %s", name, endpoint, err, out.String())
		}
	}
}

// addTable creates the backend's uniquely named table and waits for it.
func (e *Env) addTable(ctx context.Context, b *Backend) error {
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	b.Table = "apikeys-test-" + hex.EncodeToString(rnd[:])
	if err := dynamo.EnsureTable(ctx, b.Client, b.Table, e.log.With("server", b.Name)); err != nil {
		return err
	}
	if b.proc == nil {
		e.Backends = append(e.Backends, b)
	}
	return nil
}

// Close deletes every table and stops every server this Env started.
func (e *Env) Close() error {
	var errs []error
	for _, b := range e.Backends {
		if b.Table != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := b.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(b.Table)})
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("dynamotest: delete table %s on %s: %w", b.Table, b.Name, err))
			}
		}
		if b.proc != nil {
			stop(b.proc)
		}
	}
	e.Backends = nil
	return errors.Join(errs...)
}

// stop ends the server's process group (the server and any child it
// started, nothing else) and reaps it.
func stop(p *process) {
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
}
