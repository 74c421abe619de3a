package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dotenv/apikeys/shared/keys"
)

// The expiry notice windows and how far back the sweep looks for keys
// that expired (a sweep that was down longer misses those notices).
const (
	WindowWeek      = 7 * 24 * time.Hour
	WindowDay       = 24 * time.Hour
	ExpiredLookback = 7 * 24 * time.Hour
)

// Sweep enqueues the change notices left pending (PublishPending: their
// request crashed or failed to queue them) and the expiry notices due at
// now, and returns how many deliveries it stored: key.expiring for keys
// expiring within 7 days (window "7d") and
// within 1 day (window "1d"), key.expired for keys that expired in the last
// ExpiredLookback. Each notice's webhook-id is derived from the endpoint,
// the key, the window and the expiry instant, so running the sweep again
// stores nothing new, and an edit of the expiry re-arms the notices.
// Keys are found through the store's expiry index, never by a scan.
func (d *Dispatcher) Sweep(ctx context.Context) (n int, err error) {
	// A notice that cannot be published now does not hold up the expiry
	// notices: its error is reported with theirs.
	n, pendingErr := d.PublishPending(ctx)
	defer func() { err = errors.Join(pendingErr, err) }()
	now := d.now().UTC()
	endpoints := map[string][]*Endpoint{}
	visit := func(k *keys.Key, event, window string) error {
		es, ok := endpoints[k.OrganizationID]
		if !ok {
			var err error
			if es, _, err = d.store.ListWebhooks(ctx, k.OrganizationID); err != nil {
				return fmt.Errorf("webhook: listing endpoints of %s: %w", k.OrganizationID, err)
			}
			endpoints[k.OrganizationID] = es
		}
		for _, e := range es {
			if !e.Subscribed(event) {
				continue
			}
			exp := k.ExpiresAt.UTC()
			data := KeyData{OrganizationID: k.OrganizationID, Key: KeyRef{ID: k.ID, Name: k.Name, ExpiresAt: expiry(exp)}, Window: window}
			_, created, err := d.enqueue(ctx, e, noticeID(e.ID, event, k.ID, window, exp), event, data, now)
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		return nil
	}
	// Expired: expiry in [now-lookback, now].
	err = d.eachExpiring(ctx, now.Add(-ExpiredLookback), now.Add(time.Nanosecond), func(k *keys.Key) error {
		return visit(k, EventKeyExpired, "")
	})
	if err != nil {
		return n, err
	}
	// Expiring: expiry in (now, now+7d].
	err = d.eachExpiring(ctx, now.Add(time.Nanosecond), now.Add(WindowWeek+time.Nanosecond), func(k *keys.Key) error {
		window := "7d"
		if k.ExpiresAt.Sub(now) <= WindowDay {
			window = "1d"
		}
		return visit(k, EventKeyExpiring, window)
	})
	return n, err
}

// eachExpiring calls fn for every key expiring in [from, to), reading the
// index page by page. Each page starts after the (expiry, id) position
// where the previous one ended, so any number of keys may share one
// expiry instant (round dates, across every organization), and a page
// shortened by keys deleted or unreadable since does not end the walk:
// only an exhausted listing does.
func (d *Dispatcher) eachExpiring(ctx context.Context, from, to time.Time, fn func(*keys.Key) error) error {
	for after := (Position{}); ; {
		page, err := d.store.ExpiringKeys(ctx, from, to, after, d.page)
		if err != nil {
			return fmt.Errorf("webhook: reading the expiry index: %w", err)
		}
		for _, k := range page.Items {
			if err := fn(k); err != nil {
				return err
			}
		}
		if !page.More {
			return nil
		}
		after = page.Next
	}
}
