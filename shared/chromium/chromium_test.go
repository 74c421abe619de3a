package chromium

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFind: $CHROMIUM wins when set (and must exist); otherwise each name
// is found on PATH, in order; with none, ErrNotFound. The names on PATH are
// tried without the absolute /usr/bin/chromium, which this machine may have.
func TestFind(t *testing.T) {
	onPath := slices.DeleteFunc(slices.Clone(Names), filepath.IsAbs)
	if len(onPath) != 3 {
		t.Fatalf("Names = %v, want chromium, chromium-browser and google-chrome on PATH", Names)
	}
	stub := func(dir, name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i, name := range onPath {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want := stub(dir, name)
			for _, later := range onPath[i+1:] {
				stub(dir, later) // a later name never wins over an earlier one
			}
			t.Setenv("PATH", dir)
			if got, err := find("", onPath); err != nil || got != want {
				t.Errorf("find = %q, %v; want %q", got, err, want)
			}
		})
	}
	t.Run("$CHROMIUM", func(t *testing.T) {
		dir := t.TempDir()
		want := stub(dir, "my-chrome")
		stub(dir, "chromium")
		t.Setenv("PATH", dir)
		if got, err := find(want, onPath); err != nil || got != want {
			t.Errorf("find = %q, %v; want %q", got, err, want)
		}
		if _, err := find(filepath.Join(dir, "missing"), onPath); !errors.Is(err, ErrNotFound) {
			t.Errorf("find with a missing $CHROMIUM = %v, want ErrNotFound", err)
		}
	})
	t.Run("none", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if _, err := find("", onPath); !errors.Is(err, ErrNotFound) {
			t.Errorf("find with nothing on PATH = %v, want ErrNotFound", err)
		}
	})
}
