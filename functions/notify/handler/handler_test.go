package handler

import (
	"context"
	"testing"
	"time"
)

// TestSweepLeavesTimeToQueue: the sweep ends DueReserve before the run's
// deadline (half the run when it is short), so that queueing the due
// deliveries always gets its share of the run.
func TestSweepLeavesTimeToQueue(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  time.Duration // 0: no deadline
		want time.Duration // the sweep's share, about
	}{
		{"Lambda's 50 s", 50 * time.Second, 35 * time.Second},
		{"a short run", 10 * time.Second, 5 * time.Second},
		{"no deadline", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.run > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.run)
				defer cancel()
			}
			sweep, cancel := sweepContext(ctx)
			defer cancel()
			deadline, ok := sweep.Deadline()
			if tc.want == 0 {
				if ok {
					t.Fatalf("the sweep has a deadline %v without a run deadline", deadline)
				}
				return
			}
			if got := time.Until(deadline); !ok || got > tc.want || got < tc.want-time.Second {
				t.Fatalf("the sweep ends in %v, want about %v", got, tc.want)
			}
		})
	}
}
