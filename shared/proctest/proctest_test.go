package proctest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/proctest"
)

// TestFreePortsNeverRepeat: ports are distinct within a call and across
// calls of one process, even when the kernel would hand a closed one out
// again.
func TestFreePortsNeverRepeat(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		ps, err := proctest.FreePorts(3)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 3 {
			t.Fatalf("got %d ports, want 3", len(ps))
		}
		for _, p := range ps {
			if seen[p] {
				t.Fatalf("port %d handed out twice", p)
			}
			seen[p] = true
		}
	}
	p, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if seen[p] {
		t.Fatalf("FreePort handed out %d again", p)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := proctest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(mod), "module github.com/dotenv/apikeys") {
		t.Errorf("go.mod at %s is not this module's", root)
	}
}

func TestTailKeepsTheLastBytes(t *testing.T) {
	tl := proctest.NewTail(4)
	for _, s := range []string{"ab", "cd", "ef"} {
		if n, err := tl.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := tl.String(); got != "cdef" {
		t.Errorf("String() = %q, want %q", got, "cdef")
	}
}

func TestExitedAfterReady(t *testing.T) {
	exited := make(chan struct{})
	close(exited)
	if !proctest.ExitedAfterReady(exited) {
		t.Error("a process that exited counts as started")
	}
	if proctest.ExitedAfterReady(make(chan struct{})) {
		t.Error("a running process counts as exited")
	}
}

// TestTailOf: short output whole, long output's last bytes marked as cut.
func TestTailOf(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abcdef", 2, "…ef"},
		{"", 2, ""},
	} {
		if got := proctest.TailOf(tc.s, tc.n); got != tc.want {
			t.Errorf("TailOf(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
