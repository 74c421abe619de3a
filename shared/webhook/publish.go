package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/keys"
)

// Publisher turns the key changes the key service stores into deliveries
// for the endpoints subscribed to them (keys.Publisher). Notice names what
// a change announces: the audit action names the event (EventOfAction), the
// data names the key, its expiry and the acting key, never a token. The
// store writes that notice with the change and its audit event, as pending;
// Published queues it right after, and the sweep queues what a crash or a
// failure left pending, so no stored change loses its notice
// (docs/design.md, "Change events").
type Publisher struct {
	queue *Dispatcher
	log   *slog.Logger
}

// NewPublisher returns a Publisher queueing through d, logging to log
// (discarded when nil).
func NewPublisher(d *Dispatcher, log *slog.Logger) Publisher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return Publisher{queue: d, log: log}
}

// Notice returns what the change of k that ev records announces, or nil
// when webhooks do not announce its action or no endpoint of the
// organization subscribes to it (then the change writes nothing more than
// before webhooks existed; an endpoint added while the change is made may
// miss it). When the endpoints cannot be read, the notice is stored: the
// sweep decides later.
func (p Publisher) Notice(ctx context.Context, ev audit.Event, k *keys.Key) (*audit.Notice, error) {
	event, ok := EventOfAction(ev.Action)
	if !ok {
		return nil, nil
	}
	endpoints, _, err := p.queue.store.ListWebhooks(ctx, k.OrganizationID)
	if err != nil {
		p.log.WarnContext(ctx, "webhook endpoints not read before a change: its notice is stored for the sweep", "event", event, "error", err)
	} else if !slices.ContainsFunc(endpoints, func(e *Endpoint) bool { return e.Subscribed(event) }) {
		return nil, nil
	}
	data := KeyData{OrganizationID: k.OrganizationID, Key: KeyRef{ID: k.ID, Name: k.Name, ExpiresAt: expiry(k.ExpiresAt)}}
	if ev.Actor.Type == audit.ActorKey {
		data.Actor = &KeyRef{ID: ev.Actor.ID, Name: ev.Actor.Name}
	}
	if event == EventKeyRevoked && k.Revoked != nil {
		data.Reason = k.Revoked.Reason
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("webhook: encoding the %s notice: %w", event, err)
	}
	return &audit.Notice{Type: event, Data: raw}, nil
}

// Published queues the notice of a change that was just stored with ev. A
// failure is logged: the notice stays pending and the sweep queues it.
func (p Publisher) Published(ctx context.Context, ev audit.Event) {
	if ev.Notice == nil {
		return
	}
	n := PendingNotice{EventID: ev.ID, OrganizationID: ev.OrganizationID, At: ev.At, Notice: *ev.Notice}
	if _, err := p.queue.Publish(ctx, n); err != nil {
		p.log.ErrorContext(ctx, "webhook not queued yet: the sweep will", "event", ev.Notice.Type, "audit_event", ev.ID, "error", err)
	}
}
