// Package chromium finds the headless Chromium the browser tests drive. It
// is the one place that decides which programs count: the browser tests
// (functions/edge) and `make system-tools` (through findchromium) both ask
// it, so the Makefile never installs a browser the tests would not find,
// nor fails on one they would.
package chromium

import (
	"errors"
	"os"
	"os/exec"
)

// Env names a Chromium executable to use before looking for one.
const Env = "CHROMIUM"

// Names are the programs looked up on PATH, in order, after $CHROMIUM:
// Debian's chromium, Ubuntu's and others' chromium-browser, Google Chrome,
// and Debian's chromium again at its path when PATH lacks /usr/bin.
var Names = []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"}

// ErrNotFound says no Chromium was found.
var ErrNotFound = errors.New("no Chromium found ($CHROMIUM, chromium, chromium-browser or google-chrome)")

// Find returns the path of the Chromium to use: $CHROMIUM when set (it must
// be an executable), otherwise the first of Names found.
func Find() (string, error) { return find(os.Getenv(Env), Names) }

func find(env string, names []string) (string, error) {
	if p := env; p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", errors.Join(ErrNotFound, err)
		}
		return path, nil
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}
