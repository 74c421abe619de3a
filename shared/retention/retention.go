// Package retention deletes, in the background, what the embedded store
// keeps past its retention: audit events and webhook deliveries. DynamoDB
// expires the same items through the table's TTL instead, so only the
// single binary runs it (docs/design.md, "Retention").
package retention

import (
	"context"
	"log/slog"
	"time"
)

// Interval is how often the single binary prunes.
const Interval = time.Hour

// Job is one kind of item kept for Retention: Prune deletes the items
// older than before and reports how many it deleted.
type Job struct {
	// Name says what is pruned, in the logs ("audit events").
	Name      string
	Retention time.Duration
	Prune     func(ctx context.Context, before time.Time) (int, error)
}

// Keep runs every job at once and then every interval, until ctx ends. A
// failed run is logged and retried at the next tick; one job's failure does
// not keep the others from running.
func Keep(ctx context.Context, jobs []Job, interval time.Duration, now func() time.Time, logger *slog.Logger) {
	run := func() {
		for _, j := range jobs {
			n, err := j.Prune(ctx, now().Add(-j.Retention))
			switch {
			case err != nil && ctx.Err() == nil:
				logger.ErrorContext(ctx, "retention: pruning "+j.Name, "error", err)
			case n > 0:
				logger.InfoContext(ctx, "retention: pruned "+j.Name, "deleted", n, "retention", j.Retention.String())
			}
		}
	}
	run()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}
