// Package handler is the deliver function: it consumes the webhook
// deliveries queue and makes one attempt at each delivery a message names
// (claimed in the store first, so a message received twice sends once). A
// failed HTTP attempt is not a failed message: its retry is scheduled in
// the store and queued again by notify. A message that cannot be handled
// (the store fails, the body is malformed) is reported as a batch item
// failure, so SQS redelivers it and, after the queue's maximum receives,
// moves it to the dead-letter queue.
package handler

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dotenv/apikeys/shared/webhook"
)

// message is the body notify sends.
type message struct {
	WebhookID  string `json:"webhook_id"`
	DeliveryID string `json:"delivery_id"`
}

// Handler attempts the deliveries of a batch of messages, concurrently.
type Handler struct {
	Dispatcher *webhook.Dispatcher
	Logger     *slog.Logger
}

// Handle serves one SQS batch and answers the messages to retry.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		resp events.SQSEventResponse
	)
	fail := func(id string) {
		mu.Lock()
		defer mu.Unlock()
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	for _, rec := range ev.Records {
		var m message
		if err := json.Unmarshal([]byte(rec.Body), &m); err != nil || m.WebhookID == "" || m.DeliveryID == "" {
			h.Logger.Error("deliver: malformed message", "message_id", rec.MessageId)
			fail(rec.MessageId)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent, err := h.Dispatcher.AttemptByID(ctx, m.WebhookID, m.DeliveryID)
			if err != nil {
				h.Logger.Error("deliver: attempt failed", "delivery", m.DeliveryID, "error", err)
				fail(rec.MessageId)
				return
			}
			h.Logger.Info("deliver: done", "delivery", m.DeliveryID, "sent", sent)
		}()
	}
	wg.Wait()
	return resp, nil
}
