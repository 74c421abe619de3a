package webhook

import (
	"context"
	"log/slog"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/keys"
)

// Publisher turns the key changes the key service stores into deliveries
// for the endpoints subscribed to them (keys.Publisher): the audit action
// names the event (EventOfAction), the data names the key, its expiry and
// the acting key, never a token. It runs right after the change and its
// audit event are stored; a failure to queue is logged, and the change
// stands (docs/design.md, "Change events").
type Publisher struct {
	service *Service
	log     *slog.Logger
}

// NewPublisher returns a Publisher queueing through s.
func NewPublisher(s *Service, log *slog.Logger) Publisher { return Publisher{service: s, log: log} }

// Published queues the event of a stored key change, if it is one
// webhooks announce.
func (p Publisher) Published(ctx context.Context, ev audit.Event, k *keys.Key) {
	event, ok := EventOfAction(ev.Action)
	if !ok {
		return
	}
	data := KeyData{OrganizationID: k.OrganizationID, Key: KeyRef{ID: k.ID, Name: k.Name}}
	if !k.ExpiresAt.IsZero() {
		exp := k.ExpiresAt
		data.Key.ExpiresAt = &exp
	}
	if ev.Actor.Type == audit.ActorKey {
		data.Actor = &KeyRef{ID: ev.Actor.ID, Name: ev.Actor.Name}
	}
	if event == EventKeyRevoked && k.Revoked != nil {
		data.Reason = k.Revoked.Reason
	}
	if _, err := p.service.Announce(ctx, k.OrganizationID, event, data); err != nil {
		p.log.ErrorContext(ctx, "webhook not queued", "event", event, "key_id", k.ID, "error", err)
	}
}
