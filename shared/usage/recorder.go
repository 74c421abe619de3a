package usage

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Recorder aggregates uses and writes them to a store: in the background
// every interval (Start, for a long-running process) or when the caller
// asks (FlushIfDue, for a Lambda instance that may be frozen between
// invocations). A failed flush is logged and its counts dropped: a retry
// could count twice what a partly applied batch already added.
type Recorder struct {
	agg      *Aggregator
	store    Store
	logger   *slog.Logger
	interval time.Duration
	now      func() time.Time

	flushMu   sync.Mutex // one flush at a time
	lastFlush time.Time  // under flushMu

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// FlushTimeout bounds one flush's store writes.
const FlushTimeout = 10 * time.Second

// NewRecorder returns a Recorder writing to st at most every interval (on
// the clock now; time.Now when nil). It flushes nothing by itself until
// Start.
func NewRecorder(st Store, logger *slog.Logger, interval time.Duration, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{agg: NewAggregator(), store: st, logger: logger, interval: interval, now: now, lastFlush: now()}
}

// Record counts one use of key id (see Aggregator.Record).
func (r *Recorder) Record(id string, u Use) { r.agg.Record(id, u) }

// Flush writes what was recorded so far.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	return r.flushLocked(ctx)
}

func (r *Recorder) flushLocked(ctx context.Context) error {
	r.lastFlush = r.now()
	b := r.agg.Drain()
	if b.Empty() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, FlushTimeout)
	defer cancel()
	if err := r.store.AddUsage(ctx, b); err != nil {
		r.logger.WarnContext(ctx, "writing key usage failed; its counts are dropped", "days", len(b.Days), "last_uses", len(b.LastUses), "error", err)
		return err
	}
	return nil
}

// FlushIfDue flushes when at least the interval has passed since the last
// flush (Lambda: at the end of an invocation).
func (r *Recorder) FlushIfDue(ctx context.Context) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if r.now().Sub(r.lastFlush) < r.interval {
		return
	}
	_ = r.flushLocked(ctx) // logged
}

// Start flushes every interval in the background until Close.
func (r *Recorder) Start() {
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = r.Flush(context.Background()) // logged
			case <-r.stop:
				return
			}
		}
	}()
}

// Close stops the background loop (when started) and flushes what is left
// (the drain on shutdown). It is safe to call more than once.
func (r *Recorder) Close() {
	r.once.Do(func() {
		if r.stop != nil {
			close(r.stop)
			<-r.done
		}
		_ = r.Flush(context.Background()) // logged
	})
}
