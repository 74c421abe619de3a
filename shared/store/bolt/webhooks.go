package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/stdwebhook"
	"github.com/dotenv/apikeys/shared/webhook"
)

// Buckets of the webhooks (see the package documentation's layout).
var (
	bucketKeyExpiry     = []byte("key_expiry")
	bucketWebhooks      = []byte("webhooks")
	bucketWebhookIndex  = []byte("webhook_index")
	bucketDeliveries    = []byte("deliveries")
	bucketDeliveryIndex = []byte("delivery_index")
	bucketDeliveryDue   = []byte("delivery_due")
	bucketNotices       = []byte("notices")
)

var _ webhook.Store = (*Store)(nil)

// tsKey is ts(t) + id, the key of the time-ordered index entries.
func tsKey(t time.Time, id string) []byte {
	return append(appendTS(make([]byte, 0, tsLen+len(id)), t), id...)
}

// initKeyExpiry creates the expiry index; a file written before it
// existed gets it filled from its keys once, at the first open.
func initKeyExpiry(tx *bbolt.Tx) error {
	if tx.Bucket(bucketKeyExpiry) != nil {
		return nil
	}
	idx, err := tx.CreateBucket(bucketKeyExpiry)
	if err != nil {
		return fmt.Errorf("creating bucket %s: %w", bucketKeyExpiry, err)
	}
	return tx.Bucket(bucketKeys).ForEach(func(id, v []byte) error {
		r, err := decodeKeyRecord(v)
		if err != nil || r.ExpiresAt.IsZero() {
			return nil // an unreadable key is reported where it is read
		}
		return idx.Put(tsKey(r.ExpiresAt, string(id)), nil)
	})
}

// moveKeyExpiry moves key id's expiry index entry from old to next (a zero
// time is no entry).
func moveKeyExpiry(tx *bbolt.Tx, id string, old, next time.Time) error {
	if old.Equal(next) {
		return nil
	}
	idx := tx.Bucket(bucketKeyExpiry)
	if !old.IsZero() {
		if err := idx.Delete(tsKey(old, id)); err != nil {
			return err
		}
	}
	if next.IsZero() {
		return nil
	}
	return idx.Put(tsKey(next, id), nil)
}

// ExpiringKeys reads the next page of the keys whose expiry lies in
// [from, to), walking the expiry index (ts(expiry) + id) from after.
func (s *Store) ExpiringKeys(ctx context.Context, from, to time.Time, after webhook.Position, limit int) (webhook.Page[*keys.Key], error) {
	var page webhook.Page[*keys.Key]
	if err := s.usable(ctx, "expiring keys"); err != nil {
		return page, err
	}
	var entries [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		end := appendTS(nil, utc(to))
		entries, page.Next, page.More = walkIndex(tx.Bucket(bucketKeyExpiry).Cursor(), appendTS(nil, utc(from)), after, limit,
			func(k []byte) bool { return bytes.Compare(k[:tsLen], end) < 0 })
		return nil
	})
	if err != nil {
		return webhook.Page[*keys.Key]{}, engineErr("expiring keys", err)
	}
	page.Items = make([]*keys.Key, 0, len(entries))
	for _, e := range entries {
		k, err := s.GetKey(ctx, string(e[tsLen:]))
		if err != nil {
			// Deleted since, or unreadable (logged by GetKey): no notice.
			continue
		}
		page.Items = append(page.Items, k)
	}
	return page, nil
}

// walkIndex reads (copies of) the keys of up to limit entries of a
// time-ordered index (ts + id keys) in order: from the first at or after
// lo (the first of all when lo is nil), strictly after the entry at after
// when it is set, while within holds. It answers the position of the last
// entry read and whether another entry within bounds follows.
func walkIndex(c *bbolt.Cursor, lo []byte, after webhook.Position, limit int, within func(k []byte) bool) (entries [][]byte, last webhook.Position, more bool) {
	var k []byte
	switch {
	case !after.IsZero() && bytes.Compare(tsKey(utc(after.At), after.ID), lo) >= 0:
		start := tsKey(utc(after.At), after.ID)
		if k, _ = c.Seek(start); k != nil && bytes.Equal(k, start) {
			k, _ = c.Next()
		}
	case lo == nil:
		k, _ = c.First()
	default:
		k, _ = c.Seek(lo)
	}
	for ; len(k) >= tsLen && within(k); k, _ = c.Next() {
		if len(entries) == limit {
			return entries, last, true
		}
		entries = append(entries, bytes.Clone(k))
		last = webhook.Position{At: readTS(k), ID: string(k[tsLen:])}
	}
	return entries, last, false
}

// usable answers an error when the store cannot serve a call.
func (s *Store) usable(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable(what, bolterrors.ErrDatabaseNotOpen)
	}
	return nil
}

// webhookRecord is the stored form of a webhook.Endpoint.
type webhookRecord struct {
	ID                      string    `json:"id"`
	Org                     string    `json:"organization_id"`
	URL                     string    `json:"url"`
	Events                  []string  `json:"events"`
	Description             string    `json:"description,omitempty"`
	Secret                  string    `json:"secret"`
	PreviousSecret          string    `json:"previous_secret,omitempty"`
	PreviousSecretExpiresAt time.Time `json:"previous_secret_expires_at,omitzero"`
	CreatedAt               time.Time `json:"created_at"`
	UpdatedAt               time.Time `json:"updated_at"`
	Version                 int64     `json:"version"`
}

func webhookRecordOf(e *webhook.Endpoint) webhookRecord {
	return webhookRecord{
		ID: e.ID, Org: e.OrganizationID, URL: e.URL, Events: e.Events, Description: e.Description,
		Secret: string(e.Secret), PreviousSecret: string(e.PreviousSecret),
		PreviousSecretExpiresAt: utc(e.PreviousSecretExpiresAt),
		CreatedAt:               utc(e.CreatedAt), UpdatedAt: utc(e.UpdatedAt), Version: e.Version,
	}
}

func (r *webhookRecord) endpoint() *webhook.Endpoint {
	return &webhook.Endpoint{
		ID: r.ID, OrganizationID: r.Org, URL: r.URL, Events: r.Events, Description: r.Description,
		Secret: stdwebhook.Secret(r.Secret), PreviousSecret: stdwebhook.Secret(r.PreviousSecret),
		PreviousSecretExpiresAt: r.PreviousSecretExpiresAt,
		CreatedAt:               r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version,
	}
}

// attemptRecord is the stored form of a webhook.Attempt.
type attemptRecord struct {
	At         time.Time `json:"at"`
	Status     int       `json:"status,omitempty"`
	DurationMS int64     `json:"duration_ms,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// deliveryRecord is the stored form of a webhook.Delivery.
type deliveryRecord struct {
	ID            string          `json:"id"`
	Org           string          `json:"organization_id"`
	Endpoint      string          `json:"endpoint_id"`
	EventType     string          `json:"event_type"`
	Payload       json.RawMessage `json:"payload"`
	CreatedAt     time.Time       `json:"created_at"`
	Attempts      []attemptRecord `json:"attempts,omitempty"`
	State         string          `json:"state"`
	NextAttemptAt time.Time       `json:"next_attempt_at,omitzero"`
	GiveUpAt      time.Time       `json:"give_up_at,omitzero"`
	Version       int64           `json:"version"`
}

func deliveryRecordOf(d *webhook.Delivery) deliveryRecord {
	r := deliveryRecord{
		ID: d.ID, Org: d.OrganizationID, Endpoint: d.EndpointID, EventType: d.EventType,
		Payload: d.Payload, CreatedAt: utc(d.CreatedAt), State: string(d.State),
		NextAttemptAt: utc(d.NextAttemptAt), GiveUpAt: utc(d.GiveUpAt), Version: d.Version,
	}
	for _, a := range d.Attempts {
		r.Attempts = append(r.Attempts, attemptRecord{At: utc(a.At), Status: a.Status, DurationMS: a.DurationMS, Error: a.Error})
	}
	return r
}

func (r *deliveryRecord) delivery() *webhook.Delivery {
	d := &webhook.Delivery{
		ID: r.ID, OrganizationID: r.Org, EndpointID: r.Endpoint, EventType: r.EventType,
		Payload: r.Payload, CreatedAt: r.CreatedAt, State: webhook.State(r.State),
		NextAttemptAt: r.NextAttemptAt, GiveUpAt: r.GiveUpAt, Version: r.Version,
	}
	for _, a := range r.Attempts {
		d.Attempts = append(d.Attempts, webhook.Attempt{At: a.At, Status: a.Status, DurationMS: a.DurationMS, Error: a.Error})
	}
	return d
}

// loadWebhook reads endpoint id (nil when missing).
func loadWebhook(tx *bbolt.Tx, id string) (*webhookRecord, error) {
	v := tx.Bucket(bucketWebhooks).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var r webhookRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decoding webhook %s: %w", id, err)
	}
	return &r, nil
}

func putJSON(b *bbolt.Bucket, id string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), doc)
}

// CreateWebhook stores a new endpoint with Version 1, and its event in the
// same transaction.
func (s *Store) CreateWebhook(ctx context.Context, e *webhook.Endpoint, ev audit.Event) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	if err := checkID("id", e.ID); err != nil {
		return err
	}
	if err := checkID("organization_id", e.OrganizationID); err != nil {
		return err
	}
	r := webhookRecordOf(e)
	r.Version = 1
	what := "create webhook " + e.ID
	return s.update(ctx, what, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketWebhooks).Get([]byte(r.ID)) != nil {
			return fmt.Errorf("bolt: %s: %w", what, fault.ErrConflict)
		}
		idx, err := tx.Bucket(bucketWebhookIndex).CreateBucketIfNotExists([]byte(r.Org))
		if err != nil {
			return err
		}
		if err := idx.Put(tsKey(r.CreatedAt, r.ID), nil); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketWebhooks), r.ID, r); err != nil {
			return err
		}
		return writeEvent(tx, &ev)
	})
}

// GetWebhook returns the organization's endpoint id. An endpoint that does
// not decode answers a webhook.UnreadableError with what can still be read
// of it (brokenWebhook).
func (s *Store) GetWebhook(ctx context.Context, org, id string) (*webhook.Endpoint, error) {
	var out *webhook.Endpoint
	what := "get webhook " + id
	err := s.view(ctx, what, func(tx *bbolt.Tx) error {
		r, err := loadWebhook(tx, id)
		if err != nil {
			h, ok := brokenWebhook(tx, org, id)
			if !ok {
				return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
			}
			s.log.ErrorContext(ctx, "bolt: stored webhook endpoint cannot be decoded", "id", id, "error", err)
			return fmt.Errorf("bolt: %s: %w", what, webhook.Unreadable(id, h.Org, h.Version, err))
		}
		if r == nil || r.Org != org {
			return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
		}
		out = r.endpoint()
		return nil
	})
	return out, err
}

// ListWebhooks returns the organization's endpoints, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, org string) ([]*webhook.Endpoint, []directory.Unreadable, error) {
	var (
		out    []*webhook.Endpoint
		broken []directory.Unreadable
	)
	err := s.view(ctx, "list webhooks of "+org, func(tx *bbolt.Tx) error {
		out, broken = nil, nil
		idx := tx.Bucket(bucketWebhookIndex).Bucket([]byte(org))
		if idx == nil {
			return nil
		}
		return idx.ForEach(func(k, _ []byte) error {
			id := string(k[tsLen:])
			r, err := loadWebhook(tx, id)
			switch {
			case err != nil:
				s.log.ErrorContext(ctx, "bolt: stored webhook endpoint cannot be decoded", "id", id, "error", err)
				broken = append(broken, unreadable(id))
			case r == nil:
				s.log.ErrorContext(ctx, "bolt: webhook index names the missing endpoint", "id", id)
				broken = append(broken, directory.Unreadable{ID: id, Message: directory.MissingMessage})
			default:
				out = append(out, r.endpoint())
			}
			return nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, broken, nil
}

// UpdateWebhook replaces the endpoint when the stored Version equals
// expectedVersion. The organization and creation time stay as stored.
func (s *Store) UpdateWebhook(ctx context.Context, e *webhook.Endpoint, expectedVersion int64, ev audit.Event) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	r := webhookRecordOf(e)
	what := "update webhook " + e.ID
	return s.update(ctx, what, func(tx *bbolt.Tx) error {
		cur, err := loadWebhook(tx, r.ID)
		switch {
		case err != nil:
			return err
		case cur == nil || cur.Org != r.Org:
			return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
		case cur.Version != expectedVersion:
			return fmt.Errorf("bolt: %s: stored version %d, expected %d: %w", what, cur.Version, expectedVersion, fault.ErrConflict)
		}
		r.CreatedAt = cur.CreatedAt
		if err := putJSON(tx.Bucket(bucketWebhooks), r.ID, r); err != nil {
			return err
		}
		return writeEvent(tx, &ev)
	})
}

// DeleteWebhook removes the endpoint when the stored Version equals
// expectedVersion, with its index entries. An endpoint that does not
// decode is deleted at the version still read from its document, its
// index entries found by a scan of the organization's index (its creation
// time may be unreadable); a missing endpoint that index entries of the
// organization still name has them removed (whatever expectedVersion), so
// that whatever ListWebhooks reports can be cleared.
func (s *Store) DeleteWebhook(ctx context.Context, org, id string, expectedVersion int64, ev audit.Event) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	what := "delete webhook " + id
	return s.update(ctx, what, func(tx *bbolt.Tx) error {
		cur, err := loadWebhook(tx, id)
		switch {
		case err != nil:
			h, ok := brokenWebhook(tx, org, id)
			if !ok {
				return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
			}
			if h.Version < 1 || h.Version != expectedVersion {
				return fmt.Errorf("bolt: delete unreadable webhook %s: stored version %d, expected %d: %w", id, h.Version, expectedVersion, fault.ErrConflict)
			}
		case cur == nil:
			n, err := deleteWebhookIndexOf(tx, org, id)
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
			}
			return writeEvent(tx, &ev)
		case cur.Org != org:
			return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
		case cur.Version != expectedVersion:
			return fmt.Errorf("bolt: %s: stored version %d, expected %d: %w", what, cur.Version, expectedVersion, fault.ErrConflict)
		}
		if _, err := deleteWebhookIndexOf(tx, org, id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketWebhooks).Delete([]byte(id)); err != nil {
			return err
		}
		return writeEvent(tx, &ev)
	})
}

// webhookHeader is what can still be read of an endpoint document that
// does not decode: enough to delete it (never its secret).
type webhookHeader struct {
	Org     string `json:"organization_id"`
	Version int64  `json:"version"`
}

// brokenWebhook reads what it can of the stored endpoint id, which does
// not decode, and reports whether it is org's: its organization as
// written in it, or, when that cannot be read, the organization whose
// index names it.
func brokenWebhook(tx *bbolt.Tx, org, id string) (webhookHeader, bool) {
	var h webhookHeader
	_ = json.Unmarshal(tx.Bucket(bucketWebhooks).Get([]byte(id)), &h) // best effort: a field that does not parse stays empty
	if h.Org == "" && len(webhookIndexOf(tx, org, id)) > 0 {
		h.Org = org
	}
	return h, h.Org == org
}

// webhookIndexOf returns the entries of org's webhook index that name id,
// found by a scan (the index is small: MaxEndpoints entries and the
// unreadable ones).
func webhookIndexOf(tx *bbolt.Tx, org, id string) [][]byte {
	idx := tx.Bucket(bucketWebhookIndex).Bucket([]byte(org))
	if idx == nil {
		return nil
	}
	var out [][]byte
	c := idx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) >= tsLen && string(k[tsLen:]) == id {
			out = append(out, bytes.Clone(k))
		}
	}
	return out
}

// deleteWebhookIndexOf removes the entries of org's webhook index that
// name id and returns how many it removed.
func deleteWebhookIndexOf(tx *bbolt.Tx, org, id string) (int, error) {
	entries := webhookIndexOf(tx, org, id)
	for _, k := range entries {
		if err := tx.Bucket(bucketWebhookIndex).Bucket([]byte(org)).Delete(k); err != nil {
			return 0, err
		}
	}
	return len(entries), nil
}

// loadDelivery reads delivery id (nil when missing).
func loadDelivery(tx *bbolt.Tx, id string) (*deliveryRecord, error) {
	v := tx.Bucket(bucketDeliveries).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var r deliveryRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decoding delivery %s: %w", id, err)
	}
	return &r, nil
}

// setDue moves a delivery's entry in the due index from old to next (only
// pending deliveries have one).
func setDue(tx *bbolt.Tx, id string, old, next *deliveryRecord) error {
	due := tx.Bucket(bucketDeliveryDue)
	if old != nil && old.State == string(webhook.StatePending) {
		if err := due.Delete(tsKey(old.NextAttemptAt, id)); err != nil {
			return err
		}
	}
	if next.State == string(webhook.StatePending) {
		return due.Put(tsKey(next.NextAttemptAt, id), nil)
	}
	return nil
}

// CreateDelivery stores d with Version 1 unless its id exists.
func (s *Store) CreateDelivery(ctx context.Context, d *webhook.Delivery) (bool, error) {
	if err := checkID("id", d.ID); err != nil {
		return false, err
	}
	if err := checkID("endpoint_id", d.EndpointID); err != nil {
		return false, err
	}
	r := deliveryRecordOf(d)
	r.Version = 1
	created := false
	err := s.batch(ctx, "create delivery "+d.ID, func(tx *bbolt.Tx) error {
		created = false
		if tx.Bucket(bucketDeliveries).Get([]byte(r.ID)) != nil {
			return nil
		}
		idx, err := tx.Bucket(bucketDeliveryIndex).CreateBucketIfNotExists([]byte(r.Endpoint))
		if err != nil {
			return err
		}
		if err := idx.Put(tsKey(r.CreatedAt, r.ID), nil); err != nil {
			return err
		}
		if err := setDue(tx, r.ID, nil, &r); err != nil {
			return err
		}
		created = true
		return putJSON(tx.Bucket(bucketDeliveries), r.ID, r)
	})
	return created, err
}

// GetDelivery returns delivery id of endpoint.
func (s *Store) GetDelivery(ctx context.Context, endpoint, id string) (*webhook.Delivery, error) {
	var out *webhook.Delivery
	what := "get delivery " + id
	err := s.view(ctx, what, func(tx *bbolt.Tx) error {
		r, err := loadDelivery(tx, id)
		if err != nil {
			return err
		}
		if r == nil || r.Endpoint != endpoint {
			return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
		}
		out = r.delivery()
		return nil
	})
	return out, err
}

// ListDeliveries returns an endpoint's latest deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, endpoint string, limit int) ([]*webhook.Delivery, []directory.Unreadable, error) {
	var (
		out    []*webhook.Delivery
		broken []directory.Unreadable
	)
	err := s.view(ctx, "list deliveries of "+endpoint, func(tx *bbolt.Tx) error {
		out, broken = nil, nil
		idx := tx.Bucket(bucketDeliveryIndex).Bucket([]byte(endpoint))
		if idx == nil {
			return nil
		}
		c := idx.Cursor()
		for k, _ := c.Last(); k != nil && len(out)+len(broken) < limit; k, _ = c.Prev() {
			id := string(k[tsLen:])
			r, err := loadDelivery(tx, id)
			switch {
			case err != nil:
				// Does not decode: skipped, logged and reported.
				s.log.ErrorContext(ctx, "bolt: stored webhook delivery cannot be decoded", "id", id, "error", err)
				broken = append(broken, unreadable(id))
			case r == nil:
				s.log.ErrorContext(ctx, "bolt: delivery index names the missing delivery", "id", id)
				broken = append(broken, directory.Unreadable{ID: id, Message: directory.MissingMessage})
			default:
				out = append(out, r.delivery())
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, broken, nil
}

// UpdateDelivery replaces the delivery's attempts, state, next attempt and
// retry window when the stored Version equals expectedVersion, and moves
// its due index entry in the same transaction.
func (s *Store) UpdateDelivery(ctx context.Context, d *webhook.Delivery, expectedVersion int64) error {
	in := deliveryRecordOf(d)
	what := "update delivery " + d.ID
	return s.update(ctx, what, func(tx *bbolt.Tx) error {
		cur, err := loadDelivery(tx, in.ID)
		switch {
		case err != nil:
			return err
		case cur == nil || cur.Endpoint != in.Endpoint:
			return fmt.Errorf("bolt: %s: %w", what, fault.ErrNotFound)
		case cur.Version != expectedVersion:
			return fmt.Errorf("bolt: %s: stored version %d, expected %d: %w", what, cur.Version, expectedVersion, fault.ErrConflict)
		}
		next := *cur
		next.Attempts, next.State, next.NextAttemptAt, next.GiveUpAt, next.Version = in.Attempts, in.State, in.NextAttemptAt, in.GiveUpAt, in.Version
		if err := setDue(tx, in.ID, cur, &next); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketDeliveries), in.ID, next)
	})
}

// DueDeliveries reads the next page of the pending deliveries due at now,
// walking the due index (ts(next attempt) + id) from after. A delivery
// that does not decode is logged and skipped.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, after webhook.Position, limit int) (webhook.Page[*webhook.Delivery], error) {
	var page webhook.Page[*webhook.Delivery]
	err := s.view(ctx, "due deliveries", func(tx *bbolt.Tx) error {
		end := appendTS(nil, utc(now))
		var entries [][]byte
		entries, page.Next, page.More = walkIndex(tx.Bucket(bucketDeliveryDue).Cursor(), nil, after, limit,
			func(k []byte) bool { return bytes.Compare(k[:tsLen], end) <= 0 })
		for _, e := range entries {
			id := string(e[tsLen:])
			r, err := loadDelivery(tx, id)
			if err != nil {
				s.log.ErrorContext(ctx, "bolt: stored delivery cannot be decoded", "id", id, "error", err)
				continue
			}
			if r != nil {
				page.Items = append(page.Items, r.delivery())
			}
		}
		return nil
	})
	if err != nil {
		return webhook.Page[*webhook.Delivery]{}, err
	}
	return page, nil
}

var _ webhook.Pruner = (*Store)(nil)

// PruneDeliveries deletes the deliveries whose retry window closed before
// before (GiveUpAt < before), with their listing and due entries, at most
// batch per transaction, and returns how many it deleted. A delivery's
// GiveUpAt moves with a manual retry, so there is no index by it: each
// transaction reads the deliveries once (the embedded store is small; the
// single binary runs it hourly).
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	const batch = 1000
	before = utc(before)
	total := 0
	for {
		n := 0
		err := s.update(ctx, "prune deliveries", func(tx *bbolt.Tx) error {
			n = 0
			var old []deliveryRecord
			err := tx.Bucket(bucketDeliveries).ForEach(func(_, v []byte) error {
				var r deliveryRecord
				if len(old) < batch && json.Unmarshal(v, &r) == nil && !r.GiveUpAt.IsZero() && r.GiveUpAt.Before(before) {
					old = append(old, r)
				}
				return nil
			})
			if err != nil {
				return err
			}
			listing := tx.Bucket(bucketDeliveryIndex)
			for _, r := range old {
				if idx := listing.Bucket([]byte(r.Endpoint)); idx != nil {
					if err := idx.Delete(tsKey(r.CreatedAt, r.ID)); err != nil {
						return err
					}
					if k, _ := idx.Cursor().First(); k == nil {
						if err := listing.DeleteBucket([]byte(r.Endpoint)); err != nil {
							return err
						}
					}
				}
				if r.State == string(webhook.StatePending) {
					if err := tx.Bucket(bucketDeliveryDue).Delete(tsKey(r.NextAttemptAt, r.ID)); err != nil {
						return err
					}
				}
				if err := tx.Bucket(bucketDeliveries).Delete([]byte(r.ID)); err != nil {
					return err
				}
			}
			n = len(old)
			return nil
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// noticeRecord is a pending notice: what a change announces, stored with
// its audit event until the webhooks queued it.
type noticeRecord struct {
	At   time.Time       `json:"at"`
	Org  string          `json:"organization_id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// writeNotice stores ev's notice, if any, as pending, in tx (the change's
// and its event's transaction).
func writeNotice(tx *bbolt.Tx, ev *audit.Event) error {
	if ev.Notice == nil {
		return nil
	}
	doc, err := json.Marshal(noticeRecord{At: utc(ev.At), Org: ev.OrganizationID, Type: ev.Notice.Type, Data: ev.Notice.Data})
	if err != nil {
		return fmt.Errorf("bolt: encode the notice of event %s: %w", ev.ID, err)
	}
	return tx.Bucket(bucketNotices).Put(tsKey(ev.At, ev.ID), doc)
}

// PendingNotices reads the next page of the pending notices stored at or
// before before, walking them (keyed ts(at) + event id) from after. A
// notice that does not decode is logged and skipped.
func (s *Store) PendingNotices(ctx context.Context, before time.Time, after webhook.Position, limit int) (webhook.Page[webhook.PendingNotice], error) {
	var page webhook.Page[webhook.PendingNotice]
	err := s.view(ctx, "pending notices", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketNotices)
		end := appendTS(nil, utc(before))
		var entries [][]byte
		entries, page.Next, page.More = walkIndex(b.Cursor(), nil, after, limit,
			func(k []byte) bool { return bytes.Compare(k[:tsLen], end) <= 0 })
		for _, e := range entries {
			var r noticeRecord
			if err := json.Unmarshal(b.Get(e), &r); err != nil {
				s.log.ErrorContext(ctx, "bolt: stored notice cannot be decoded", "id", string(e[tsLen:]), "error", err)
				continue
			}
			page.Items = append(page.Items, webhook.PendingNotice{EventID: string(e[tsLen:]), OrganizationID: r.Org, At: r.At,
				Notice: audit.Notice{Type: r.Type, Data: r.Data}})
		}
		return nil
	})
	return page, err
}

// DeleteNotice removes a pending notice.
func (s *Store) DeleteNotice(ctx context.Context, n webhook.PendingNotice) error {
	return s.batch(ctx, "delete notice "+n.EventID, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketNotices).Delete(tsKey(n.At, n.EventID))
	})
}
