// Package handler serves the organization's webhooks: /v1/webhooks (create,
// list), /v1/webhooks/{id} (show, edit, delete), rotate-secret, and the
// deliveries with their manual retry (docs/http-api.md, "Webhooks"). The
// signing secret is answered by create and rotate-secret only.
package handler

import (
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/webhook"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the webhooks function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Webhooks} }

// Handlers returns the webhooks function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	return authz.Handlers{
		"createWebhook":         d.Serve(Create(d)),
		"listWebhooks":          d.Serve(List(d)),
		"getWebhook":            d.Serve(Get(d)),
		"updateWebhook":         d.Serve(Update(d)),
		"deleteWebhook":         d.Serve(Delete(d)),
		"rotateWebhookSecret":   d.Serve(RotateSecret(d)),
		"listWebhookDeliveries": d.Serve(Deliveries(d)),
		"retryWebhookDelivery":  d.Serve(Retry(d)),
	}
}

// withSecret is an endpoint's answer with its signing secret, for create
// and rotate-secret only.
func withSecret(d wiring.Deps, e *webhook.Endpoint) wire.Webhook {
	w := wire.WebhookOf(e, d.Now())
	w.Secret = string(e.Secret)
	return w
}

// Create answers 201 with the new endpoint and its signing secret.
func Create(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		body, err := httpapi.Decode[wire.WebhookSpec](w, r)
		if err != nil {
			return 0, nil, err
		}
		e, err := d.Webhooks.Create(r.Context(), caller, body.Spec())
		if err != nil {
			return 0, nil, err
		}
		w.Header().Set("Location", "/v1/webhooks/"+e.ID)
		return http.StatusCreated, withSecret(d, e), nil
	}
}

// List answers the organization's endpoints, oldest first.
func List(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		es, broken, err := d.Webhooks.List(r.Context(), caller)
		if err != nil {
			return 0, nil, err
		}
		out := wire.WebhookList{Items: make([]wire.Webhook, 0, len(es)), Unreadable: wire.NewUnreadable(broken, wire.UnreadableMessage)}
		now := d.Now()
		for _, e := range es {
			out.Items = append(out.Items, wire.WebhookOf(e, now))
		}
		return http.StatusOK, out, nil
	}
}

// Get answers one endpoint, without its secret.
func Get(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		e, err := d.Webhooks.Get(r.Context(), caller, r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.WebhookOf(e, d.Now()), nil
	}
}

// Update changes the url, events or description.
func Update(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		body, err := httpapi.Decode[wire.WebhookSpec](w, r)
		if err != nil {
			return 0, nil, err
		}
		e, err := d.Webhooks.Update(r.Context(), caller, r.PathValue("id"), body.Spec())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.WebhookOf(e, d.Now()), nil
	}
}

// Delete answers 204.
func Delete(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		return http.StatusNoContent, nil, d.Webhooks.Delete(r.Context(), caller, r.PathValue("id"))
	}
}

// RotateSecret answers the endpoint with its new secret; the previous one
// keeps signing next to it for webhook.SecretOverlap.
func RotateSecret(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		e, err := d.Webhooks.RotateSecret(r.Context(), caller, r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, withSecret(d, e), nil
	}
}

// Deliveries answers an endpoint's latest deliveries, newest first
// (?limit=1..100, default 100).
func Deliveries(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		limit, _, err := httpapi.QueryInt(r.URL.Query(), "limit", 1, webhook.MaxDeliveriesListed)
		if err != nil {
			return 0, nil, err
		}
		ds, broken, err := d.Webhooks.Deliveries(r.Context(), caller, r.PathValue("id"), limit)
		if err != nil {
			return 0, nil, err
		}
		out := wire.DeliveryList{Items: make([]wire.Delivery, 0, len(ds)), Unreadable: wire.NewUnreadable(broken, wire.UnreadableMessage)}
		for _, dl := range ds {
			out.Items = append(out.Items, wire.DeliveryOf(dl))
		}
		return http.StatusOK, out, nil
	}
}

// Retry re-queues a delivery at once with the same webhook-id and answers
// the pending delivery.
func Retry(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		dl, err := d.Webhooks.Retry(r.Context(), caller, r.PathValue("id"), r.PathValue("delivery"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.DeliveryOf(dl), nil
	}
}
