package audit

import (
	"context"
	"time"
)

// Pruner deletes the events older than an instant (the embedded store, run
// by shared/retention; DynamoDB expires them through the table's TTL
// instead).
type Pruner interface {
	PruneEvents(ctx context.Context, before time.Time) (int, error)
}
