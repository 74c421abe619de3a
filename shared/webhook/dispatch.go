package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/safehttp"
	"github.com/dotenv/apikeys/shared/stdwebhook"
)

// The retry schedule: exponential backoff with full jitter, from BaseDelay
// doubling up to MaxDelay per wait, for at least RetryWindow.
const (
	BaseDelay   = 30 * time.Second
	MaxDelay    = 2 * time.Hour
	RetryWindow = 24 * time.Hour
	// Lease is how long a claimed attempt keeps others off the delivery:
	// longer than the send timeout, so only a crashed dispatcher's
	// attempt is ever taken over (and then re-sent with the same id).
	Lease = time.Minute
	// concurrency bounds the attempts one RunDue sends at once.
	concurrency = 8
)

// Backoff returns the wait after the n-th failed attempt (n ≥ 1): a
// uniformly random duration in [1s, min(MaxDelay, BaseDelay·2^(n-1))]
// ("full jitter"), with r drawing from [0, 1).
func Backoff(n int, r func() float64) time.Duration {
	ceiling := MaxDelay
	if n < 1 {
		n = 1
	}
	if n < 20 {
		if d := BaseDelay << (n - 1); d < ceiling {
			ceiling = d
		}
	}
	wait := time.Duration(r() * float64(ceiling))
	if wait < time.Second {
		wait = time.Second
	}
	return wait
}

// Payload is the JSON body of every delivery. Its times, like every time in
// the API, are RFC 3339 UTC with exactly three fraction digits
// (authz.FormatTime), written once when the delivery is stored: the stored
// bytes are what is signed and sent, on every attempt.
type Payload struct {
	Type string `json:"type"`
	// Timestamp is when the event happened (authz.FormatTime).
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// KeyData is the data of the key.* events: ids, names and times, never a
// token nor a digest.
type KeyData struct {
	OrganizationID string  `json:"organization_id"`
	Key            KeyRef  `json:"key"`
	Window         string  `json:"window,omitempty"`
	Reason         string  `json:"reason,omitempty"`
	Actor          *KeyRef `json:"actor,omitempty"`
}

// KeyRef names a key in an event.
type KeyRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// ExpiresAt is the key's expiry (authz.FormatTime), absent when it
	// never expires.
	ExpiresAt string `json:"expires_at,omitempty"`
}

// expiry formats a key's expiry for a KeyRef (the zero time: none).
func expiry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return authz.FormatTime(t)
}

// Dispatcher enqueues events as deliveries and sends the due ones. Several
// dispatchers may share a store: each attempt is claimed with a
// conditional write first.
type Dispatcher struct {
	store Store
	// client sends the deliveries: the one given, or one made from safe
	// at the first send (clientOnce), so a dispatcher that only queues
	// (the key services' publisher) builds no HTTP client and its
	// function links none.
	client     *http.Client
	safe       safehttp.Options
	clientOnce sync.Once
	now        func() time.Time
	jitter     func() float64
	log        *slog.Logger
	page       int
}

// DispatcherOptions configure NewDispatcher.
type DispatcherOptions struct {
	// Client sends the deliveries (safehttp.NewClient when nil, made at
	// the first send: https to public addresses only, no redirects, 10 s
	// timeout).
	Client *http.Client
	// Safe configures the default client.
	Safe safehttp.Options
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Jitter draws from [0, 1) (math/rand/v2 when nil).
	Jitter func() float64
	// Logger reports failed attempts (discarded when nil).
	Logger *slog.Logger
	// PageSize is how many index entries one read of the expiry index,
	// the pending notices or the due deliveries takes (DefaultPageSize
	// when 0); tests make it small to cross pages.
	PageSize int
}

// DefaultPageSize is how many index entries one read takes by default.
const DefaultPageSize = 500

// NewDispatcher returns a Dispatcher on st.
func NewDispatcher(st Store, o DispatcherOptions) *Dispatcher {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	return &Dispatcher{store: st, client: o.Client, safe: o.Safe, now: o.Now, jitter: o.Jitter, log: o.Logger, page: o.PageSize}
}

// httpClient returns the client deliveries are sent with.
func (d *Dispatcher) httpClient() *http.Client {
	d.clientOnce.Do(func() {
		if d.client == nil {
			d.client = safehttp.NewClient(d.safe)
		}
	})
	return d.client
}

// noticeGrace is how long a change's pending notice is left to the
// request that stored it before the sweep queues it instead (the request
// crashed or could not queue it).
const noticeGrace = 30 * time.Second

// Publish queues a change's notice for every endpoint of its organization
// subscribed to its type and added before the change (an endpoint hears of
// the changes made after it was added, however late the notice is
// published), each under a webhook-id derived from the event and the
// endpoint (changeID), then deletes the pending notice. Publishing
// a notice again (after a crash, or by the request and the sweep at once)
// stores each delivery once. It reports how many deliveries it stored.
func (d *Dispatcher) Publish(ctx context.Context, n PendingNotice) (int, error) {
	endpoints, _, err := d.store.ListWebhooks(ctx, n.OrganizationID)
	if err != nil {
		return 0, fmt.Errorf("webhook: listing endpoints of %s: %w", n.OrganizationID, err)
	}
	stored := 0
	for _, e := range endpoints {
		if !e.Subscribed(n.Notice.Type) || e.CreatedAt.After(n.At) {
			continue
		}
		_, created, err := d.enqueue(ctx, e, changeID(e.ID, n.EventID), n.Notice.Type, n.Notice.Data, n.At)
		if err != nil {
			return stored, err
		}
		if created {
			stored++
		}
	}
	if err := d.store.DeleteNotice(ctx, n); err != nil {
		return stored, fmt.Errorf("webhook: deleting the pending notice of event %s: %w", n.EventID, err)
	}
	return stored, nil
}

// PublishPending publishes every change notice still pending noticeGrace
// after its change, oldest first, reading them a page at a time, and
// reports how many deliveries it stored. A notice that fails stays pending
// for the next run and does not hold up the others, also when a whole
// page of them fails (the next page starts after it, not over again): the
// errors are joined.
func (d *Dispatcher) PublishPending(ctx context.Context) (int, error) {
	before := d.now().UTC().Add(-noticeGrace)
	stored := 0
	var errs []error
	for after := (Position{}); ; {
		page, err := d.store.PendingNotices(ctx, before, after, d.page)
		if err != nil {
			errs = append(errs, fmt.Errorf("webhook: reading pending notices: %w", err))
			return stored, errors.Join(errs...)
		}
		for _, n := range page.Items {
			c, err := d.Publish(ctx, n)
			stored += c
			if err != nil {
				errs = append(errs, err)
			}
		}
		if !page.More {
			return stored, errors.Join(errs...)
		}
		after = page.Next
	}
}

// changeID is the webhook-id of a change's notice to one endpoint: the
// same event and endpoint always give the same id.
func changeID(endpoint, eventID string) string {
	sum := sha256.Sum256([]byte("change\x00" + endpoint + "\x00" + eventID))
	return DeliveryIDPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// enqueue stores a pending delivery of one event (which happened at
// happened: the payload's timestamp) to e under id, due now; an existing
// delivery with that id is kept as it is (created false).
func (d *Dispatcher) enqueue(ctx context.Context, e *Endpoint, id, eventType string, data any, happened time.Time) (*Delivery, bool, error) {
	now := d.now().UTC().Truncate(time.Millisecond)
	body, err := json.Marshal(Payload{Type: eventType, Timestamp: authz.FormatTime(happened), Data: data})
	if err != nil {
		return nil, false, fmt.Errorf("webhook: encoding %s payload: %w", eventType, err)
	}
	dl := &Delivery{
		ID: id, OrganizationID: e.OrganizationID, EndpointID: e.ID, EventType: eventType,
		Payload: body, CreatedAt: now, State: StatePending, NextAttemptAt: now,
		GiveUpAt: now.Add(RetryWindow), Version: 1,
	}
	created, err := d.store.CreateDelivery(ctx, dl)
	if err != nil {
		return nil, false, fmt.Errorf("webhook: storing delivery %s: %w", id, err)
	}
	return dl, created, nil
}

// noticeID is the webhook-id of a notice that must be sent once: the same
// endpoint, event, key, window and expiry always give the same id, so a
// sweep that runs again (or on two machines) stores it once.
func noticeID(endpoint, eventType, key, window string, expires time.Time) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{endpoint, eventType, key, window, expires.UTC().Format(time.RFC3339Nano)}, "\x00")))
	return DeliveryIDPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// Due returns the deliveries due at now, earliest first, at most limit
// (for a queue: the deliver function attempts each with AttemptByID). It
// reads the due queue a page at a time and stops at limit deliveries or
// at the end of the queue, never at a short page.
func (d *Dispatcher) Due(ctx context.Context, limit int) ([]*Delivery, error) {
	now := d.now().UTC()
	var due []*Delivery
	for after := (Position{}); len(due) < limit; {
		page, err := d.store.DueDeliveries(ctx, now, after, min(d.page, limit-len(due)))
		if err != nil {
			return due, fmt.Errorf("webhook: finding due deliveries: %w", err)
		}
		due = append(due, page.Items...)
		if !page.More {
			break
		}
		after = page.Next
	}
	return due, nil
}

// AttemptByID reads delivery id of endpoint and makes one attempt at it
// when it is due (see Attempt). A delivery that is gone is not an error.
func (d *Dispatcher) AttemptByID(ctx context.Context, endpoint, id string) (bool, error) {
	dl, err := d.store.GetDelivery(ctx, endpoint, id)
	if errors.Is(err, fault.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("webhook: reading delivery %s: %w", id, err)
	}
	return d.Attempt(ctx, dl)
}

// RunDue sends every delivery due at now, a page at a time (each page a
// few at once), and returns how many attempts it made. A delivery another
// dispatcher claimed first, or whose endpoint is gone, is skipped without
// ending the run: it stops at the end of the due queue (as it stood at
// now; an attempt moves its delivery past now), or at the first error.
func (d *Dispatcher) RunDue(ctx context.Context) (int, error) {
	now := d.now().UTC()
	sent := 0
	for after := (Position{}); ; {
		page, err := d.store.DueDeliveries(ctx, now, after, d.page)
		if err != nil {
			return sent, fmt.Errorf("webhook: finding due deliveries: %w", err)
		}
		n, err := d.attemptAll(ctx, page.Items)
		sent += n
		if err != nil || !page.More {
			return sent, err
		}
		after = page.Next
	}
}

// attemptAll attempts the deliveries, a few at once, and returns how many
// attempts it made and the first error.
func (d *Dispatcher) attemptAll(ctx context.Context, due []*Delivery) (int, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		sent  int
		first error
	)
	sem := make(chan struct{}, concurrency)
	for _, dl := range due {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := d.Attempt(ctx, dl)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				sent++
			}
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return sent, first
}

// Attempt makes one attempt at a due delivery read from the store: it
// claims the attempt (recorded, with a lease, before anything is sent),
// sends the signed request, and records the outcome with the next attempt
// or the final state. It reports whether it sent; false with a nil error
// means the delivery was not due or another dispatcher claimed it. A crash
// between the two writes leaves the claim, and the attempt is made again
// once the lease passes, under the same webhook-id.
func (d *Dispatcher) Attempt(ctx context.Context, dl *Delivery) (bool, error) {
	now := d.now().UTC().Truncate(time.Millisecond)
	if dl.State != StatePending || now.Before(dl.NextAttemptAt) {
		return false, nil
	}
	claimed := dl.Clone()
	if n := len(claimed.Attempts); n > 0 && claimed.Attempts[n-1].Status == 0 && claimed.Attempts[n-1].Error == "" {
		claimed.Attempts[n-1].Error = "interrupted: no outcome was recorded"
	}
	claimed.Attempts = append(claimed.Attempts, Attempt{At: now})
	claimed.NextAttemptAt = now.Add(Lease)
	claimed.Version = dl.Version + 1
	switch err := d.store.UpdateDelivery(ctx, claimed, dl.Version); {
	case errors.Is(err, fault.ErrConflict), errors.Is(err, fault.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("webhook: claiming delivery %s: %w", dl.ID, err)
	}
	done := claimed.Clone()
	done.Version = claimed.Version + 1
	last := &done.Attempts[len(done.Attempts)-1]
	e, err := d.store.GetWebhook(ctx, dl.OrganizationID, dl.EndpointID)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		last.Error = "the endpoint was deleted"
		done.State, done.NextAttemptAt = StateFailed, time.Time{}
		return false, d.record(ctx, done, claimed.Version)
	case err != nil:
		return false, fmt.Errorf("webhook: reading endpoint %s: %w", dl.EndpointID, err)
	}
	status, sendErr := d.send(ctx, e, done, now)
	end := d.now().UTC().Truncate(time.Millisecond)
	last.Status = status
	last.DurationMS = end.Sub(now).Milliseconds()
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		done.State, done.NextAttemptAt = StateDelivered, time.Time{}
	default:
		if sendErr != nil {
			last.Error = sendErr.Error()
		} else {
			last.Error = fmt.Sprintf("answered HTTP %d", status)
		}
		if !end.Before(done.GiveUpAt) {
			done.State, done.NextAttemptAt = StateFailed, time.Time{}
		} else {
			done.NextAttemptAt = end.Add(Backoff(failures(done.Attempts), d.jitter))
		}
		d.log.LogAttrs(ctx, slog.LevelWarn, "webhook attempt failed",
			slog.String("delivery", done.ID), slog.String("endpoint", done.EndpointID),
			slog.Int("status", status), slog.String("error", last.Error))
	}
	return true, d.record(ctx, done, claimed.Version)
}

// failures counts the failed attempts of a delivery.
func failures(as []Attempt) int {
	n := 0
	for _, a := range as {
		if a.Status < 200 || a.Status >= 300 {
			n++
		}
	}
	return n
}

// record writes an attempt's outcome over the claim.
func (d *Dispatcher) record(ctx context.Context, dl *Delivery, expected int64) error {
	if err := d.store.UpdateDelivery(ctx, dl, expected); err != nil {
		return fmt.Errorf("webhook: recording attempt of %s: %w", dl.ID, err)
	}
	return nil
}

// send POSTs the delivery's payload to the endpoint, signed at now, and
// returns the HTTP status (0 when none came) and what went wrong. The error
// never carries the URL (which may hold a customer's query secrets).
func (d *Dispatcher) send(ctx context.Context, e *Endpoint, dl *Delivery, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, errors.New("the endpoint URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dotenv-apikeys-webhooks/1")
	if err := stdwebhook.SetHeaders(req.Header, dl.ID, now, dl.Payload, e.Secrets(now)...); err != nil {
		return 0, fmt.Errorf("signing: %w", err)
	}
	resp, err := d.httpClient().Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// describe turns a client error into a short message without the URL.
func describe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timed out")
		}
		err = ue.Err
	}
	if safehttp.Refused(err) {
		return errors.New("destination not allowed: not a public address")
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return errors.New(msg)
}
