package audit

import (
	"context"
	"log/slog"
	"time"
)

// Pruner deletes the events older than an instant (the embedded store;
// DynamoDB expires them through the table's TTL instead).
type Pruner interface {
	PruneEvents(ctx context.Context, before time.Time) (int, error)
}

// PruneInterval is how often the single binary prunes events.
const PruneInterval = time.Hour

// KeepPruning deletes p's events older than retention at once and then
// every interval, until ctx ends. A failed run is logged and retried at the
// next tick.
func KeepPruning(ctx context.Context, p Pruner, retention, interval time.Duration, now func() time.Time, logger *slog.Logger) {
	prune := func() {
		n, err := p.PruneEvents(ctx, now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.ErrorContext(ctx, "audit: pruning events past retention", "error", err)
		case n > 0:
			logger.InfoContext(ctx, "audit: pruned events past retention", "events", n, "retention", retention.String())
		}
	}
	prune()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			prune()
		}
	}
}
