// Package handler is the notify function: on every scheduled event it runs
// the expiry sweep (key.expiring and key.expired notices, found through the
// expiry index) and sends the due webhook deliveries to the deliveries
// queue, which the deliver function consumes. A delivery sent to the queue
// twice is attempted once: each attempt is claimed in the store first.
package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dotenv/apikeys/shared/webhook"
)

// Message is the body of one queue message: which delivery to attempt.
type Message struct {
	WebhookID  string `json:"webhook_id"`
	DeliveryID string `json:"delivery_id"`
}

// Queue is the part of the SQS client notify uses.
type Queue interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Result is what one run did (the function's answer, for its logs).
type Result struct {
	Notices  int `json:"notices"`
	Enqueued int `json:"enqueued"`
}

// Handler runs the sweep and enqueues the due deliveries.
type Handler struct {
	Dispatcher *webhook.Dispatcher
	Queue      Queue
	QueueURL   string
	Logger     *slog.Logger
	// MaxDue bounds the deliveries one run enqueues (the rest wait for
	// the next run); 0 means 1000.
	MaxDue int
}

// DueReserve is the part of a run the sweep leaves to queueing the due
// deliveries (half the run when the run is shorter than twice this).
const DueReserve = 15 * time.Second

// sweepContext is ctx ending DueReserve before ctx's deadline (ctx itself
// when it has none).
func sweepContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := DueReserve
	if left := time.Until(deadline); left < 2*reserve {
		reserve = left / 2
	}
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// Handle serves one scheduled event.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	var res Result
	// A failing sweep (a notice that cannot be queued now) is reported
	// after the due deliveries are queued: it must not stop them. Nor may
	// a long one (a backlog of notices, many keys expiring): it stops
	// DueReserve before the run's deadline, leaving the rest of the run to
	// queue what is due; what it did not reach, the next run sweeps (every
	// notice it stores is stored once, whichever run stores it).
	sweepCtx, cancel := sweepContext(ctx)
	n, sweepErr := h.Dispatcher.Sweep(sweepCtx)
	cancel()
	res.Notices = n
	if sweepErr != nil {
		h.Logger.Error("notify: sweep failed", "error", sweepErr)
	}
	max := h.MaxDue
	if max <= 0 {
		max = 1000
	}
	due, err := h.Dispatcher.Due(ctx, max)
	if err != nil {
		return res, fmt.Errorf("notify: %w", err)
	}
	for start := 0; start < len(due); start += 10 {
		batch := due[start:min(start+10, len(due))]
		entries := make([]types.SendMessageBatchRequestEntry, 0, len(batch))
		for i, d := range batch {
			body, _ := json.Marshal(Message{WebhookID: d.EndpointID, DeliveryID: d.ID}) // strings only
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := h.Queue.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(h.QueueURL), Entries: entries})
		if err != nil {
			return res, fmt.Errorf("notify: sending to the deliveries queue: %w", err)
		}
		res.Enqueued += len(out.Successful)
		for _, f := range out.Failed {
			// Left due in the store: the next run sends it again.
			h.Logger.Warn("notify: a delivery was not queued", "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
		}
	}
	h.Logger.Info("notify: run done", "event_id", ev.ID, "notices", res.Notices, "enqueued", res.Enqueued)
	if sweepErr != nil {
		return res, fmt.Errorf("notify: sweep: %w", sweepErr)
	}
	return res, nil
}
