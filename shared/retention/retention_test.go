package retention

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKeep: every job runs at start with its own bound (now - retention);
// a failing job is logged and does not stop the next one; Keep returns when
// its context ends.
func TestKeep(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	bounds := map[string]time.Time{}
	ran := make(chan struct{}, 2)
	job := func(name string, retention time.Duration, n int, err error) Job {
		return Job{Name: name, Retention: retention, Prune: func(_ context.Context, before time.Time) (int, error) {
			mu.Lock()
			bounds[name] = before
			mu.Unlock()
			ran <- struct{}{}
			return n, err
		}}
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		Keep(ctx, []Job{job("events", 400*24*time.Hour, 0, errors.New("disk full")), job("deliveries", 30*24*time.Hour, 3, nil)}, time.Hour, func() time.Time { return now }, logger)
		close(done)
	}()
	<-ran
	<-ran
	cancel()
	<-done
	if got, want := bounds["events"], now.Add(-400*24*time.Hour); !got.Equal(want) {
		t.Errorf("events pruned before %s, want %s", got, want)
	}
	if got, want := bounds["deliveries"], now.Add(-30*24*time.Hour); !got.Equal(want) {
		t.Errorf("deliveries pruned before %s, want %s", got, want)
	}
	out := logs.String()
	if !strings.Contains(out, "retention: pruning events") || !strings.Contains(out, "disk full") || !strings.Contains(out, "retention: pruned deliveries") || !strings.Contains(out, "deleted=3") {
		t.Errorf("logs:\n%s", out)
	}
}
