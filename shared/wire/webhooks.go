package wire

import (
	"encoding/json"
	"time"

	"github.com/dotenv/apikeys/shared/webhook"
)

// WebhookSpec is the body of POST /v1/webhooks and PATCH /v1/webhooks/{id}.
type WebhookSpec struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
}

// Spec converts the body to the domain's request.
func (s WebhookSpec) Spec() webhook.Spec {
	return webhook.Spec{URL: s.URL, Events: s.Events, Description: s.Description}
}

// Webhook is a webhook endpoint. Secret is set only in the answers to
// create and rotate-secret: the signing secret is never shown again.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	// PreviousSecretExpiresAt is when the secret replaced by the last
	// rotation stops signing (absent outside that overlap).
	PreviousSecretExpiresAt *string `json:"previous_secret_expires_at,omitempty"`
	Secret                  string  `json:"secret,omitempty"`
}

// WebhookOf converts an endpoint at now, without its secret.
func WebhookOf(e *webhook.Endpoint, now time.Time) Webhook {
	w := Webhook{
		ID: e.ID, URL: e.URL, Events: e.Events, Description: e.Description,
		CreatedAt: Time(e.CreatedAt), UpdatedAt: Time(e.UpdatedAt),
	}
	if e.PreviousSecret != "" && now.Before(e.PreviousSecretExpiresAt) {
		w.PreviousSecretExpiresAt = OptTime(e.PreviousSecretExpiresAt)
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	return w
}

// WebhookList is the answer of GET /v1/webhooks.
type WebhookList struct {
	Items []Webhook `json:"items"`
	// Unreadable lists the stored endpoints the list skipped because they
	// could not be read; absent when there is none.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
}

// DeliveryAttempt is one attempt of a delivery.
type DeliveryAttempt struct {
	At         string `json:"at"`
	Status     int    `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

// Delivery is one event sent to an endpoint, with its attempts.
type Delivery struct {
	ID            string            `json:"id"`
	WebhookID     string            `json:"webhook_id"`
	EventType     string            `json:"event_type"`
	State         string            `json:"state"`
	CreatedAt     string            `json:"created_at"`
	NextAttemptAt *string           `json:"next_attempt_at,omitempty"`
	Attempts      []DeliveryAttempt `json:"attempts"`
	Payload       json.RawMessage   `json:"payload"`
}

// DeliveryOf converts a delivery.
func DeliveryOf(d *webhook.Delivery) Delivery {
	out := Delivery{
		ID: d.ID, WebhookID: d.EndpointID, EventType: d.EventType, State: string(d.State),
		CreatedAt: Time(d.CreatedAt), Attempts: []DeliveryAttempt{}, Payload: d.Payload,
	}
	if d.State == webhook.StatePending {
		out.NextAttemptAt = OptTime(d.NextAttemptAt)
	}
	for _, a := range d.Attempts {
		out.Attempts = append(out.Attempts, DeliveryAttempt{At: Time(a.At), Status: a.Status, DurationMS: a.DurationMS, Error: a.Error})
	}
	return out
}

// DeliveryList is the answer of GET /v1/webhooks/{id}/deliveries.
type DeliveryList struct {
	Items []Delivery `json:"items"`
	// Unreadable lists the stored deliveries the list skipped because
	// they could not be read; absent when there is none.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
}
