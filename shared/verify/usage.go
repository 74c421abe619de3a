package verify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dotenv/apikeys/shared/keys"
)

// SyncUsage writes the last use before verification answers. Lambda uses
// it: a function may be frozen as soon as it has answered.
type SyncUsage struct {
	Store  keys.Store
	Logger *slog.Logger
}

// Record writes the last use (to the millisecond, the precision of every
// stored time), conditional on the previous value.
func (s SyncUsage) Record(ctx context.Context, k *keys.Key, now time.Time) {
	if _, err := s.Store.TouchKey(ctx, k.ID, k.LastUsedAt, usedAt(now)); err != nil {
		s.Logger.WarnContext(ctx, "recording last use failed", "key_id", k.ID, "error", err)
	}
}

// AsyncUsage records last uses in the background so verification never
// waits for a write. At most one write per key is in flight; when the queue
// is full a use is dropped (the next verification after UsageInterval
// records it again).
type AsyncUsage struct {
	store    keys.Store
	logger   *slog.Logger
	queue    chan usage
	inFlight sync.Map // key id → struct{}
	done     chan struct{}
}

type usage struct {
	id        string
	prev, now time.Time
}

// NewAsyncUsage starts a background writer; Close stops it after draining.
func NewAsyncUsage(store keys.Store, logger *slog.Logger) *AsyncUsage {
	a := &AsyncUsage{store: store, logger: logger, queue: make(chan usage, 1024), done: make(chan struct{})}
	go a.run()
	return a
}

// Record queues a write unless one for the same key is already queued.
func (a *AsyncUsage) Record(_ context.Context, k *keys.Key, now time.Time) {
	if _, busy := a.inFlight.LoadOrStore(k.ID, struct{}{}); busy {
		return
	}
	select {
	case a.queue <- usage{id: k.ID, prev: k.LastUsedAt, now: usedAt(now)}:
	default:
		a.inFlight.Delete(k.ID)
	}
}

// usedAt is the last-use time to store: UTC, truncated to the millisecond
// like every time the service stores (docs/design.md).
func usedAt(now time.Time) time.Time { return now.UTC().Truncate(time.Millisecond) }

func (a *AsyncUsage) run() {
	defer close(a.done)
	for u := range a.queue {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := a.store.TouchKey(ctx, u.id, u.prev, u.now); err != nil {
			a.logger.Warn("recording last use failed", "key_id", u.id, "error", err)
		}
		cancel()
		a.inFlight.Delete(u.id)
	}
}

// Close stops accepting uses and waits until the queued ones are written.
func (a *AsyncUsage) Close() {
	close(a.queue)
	<-a.done
}
