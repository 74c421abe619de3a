// Package proctest is what tests that start servers as processes share
// (the Lambda Runtime Interface Emulator in shared/lambdatest, moto and
// dynalite in shared/store/dynamo/dynamotest): the module root, free
// loopback ports that are never handed out twice in a process, the tail of
// a process's output for error messages, and the check that a server which
// answered the readiness probe is still the one running.
package proctest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ModuleRoot walks up from the working directory to go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("proctest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("proctest: go.mod not found above the working directory")
		}
		dir = up
	}
}

// handedOut holds every port FreePorts has returned in this process. The
// kernel may give a just-closed port out again; two servers started on one
// port would answer for each other (the second fails to bind, and the
// readiness probe reaches the first), so a port is never handed out twice.
// The port space is process-wide and the emulators and the DynamoDB servers
// of one test process draw from it together, so this record is process-wide
// too: the one piece of package state, on purpose.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePorts asks the kernel for n distinct free loopback ports that this
// process has not handed out before.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	handedOut.Lock()
	defer handedOut.Unlock()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("proctest: free port: %w", err)
		}
		ls = append(ls, l) // held until all are chosen: no duplicates among them
		port := l.Addr().(*net.TCPAddr).Port
		if handedOut.ports[port] {
			continue
		}
		handedOut.ports[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}

// FreePort is FreePorts(1).
func FreePort() (int, error) {
	ps, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ps[0], nil
}

// Settle is how long a server must keep running after its readiness probe
// answered before it counts as started (see ExitedAfterReady).
const Settle = 50 * time.Millisecond

// ExitedAfterReady reports whether the process whose exit closes done ends
// within Settle. A server that lost its port to another process fails to
// bind and exits at once, while its readiness probe reached the other: such
// a start must be refused and retried on another port.
func ExitedAfterReady(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	case <-time.After(Settle):
		return false
	}
}

// TailOf returns the last n bytes of s (a process's output in an error
// message), marked with "…" when cut.
func TailOf(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Tail keeps the last bytes a process printed, safe for concurrent use.
type Tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// NewTail keeps at most max bytes.
func NewTail(max int) *Tail { return &Tail{max: max} }

// Write appends p, dropping the oldest bytes beyond the limit.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

// String returns what is kept.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
