package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
)

// Audit buckets: audit / <org id> / events holds ts(at) + event id → event
// document (audit.Event as JSON); audit / <org id> / keys holds key id +
// 0x00 + ts(at) + event id → "" for the events whose target is a key.
var (
	bucketAudit       = []byte("audit")
	bucketAuditEvents = []byte("events")
	bucketAuditKeys   = []byte("keys")
)

// cursorAudit is the kind of an audit listing's cursor; its parent field
// holds the key filter.
const cursorAudit = 'a'

var _ audit.Reader = (*Store)(nil)

// eventPos is the position of an event in its organization's events bucket.
func eventPos(ev *audit.Event) []byte {
	return append(appendTS(nil, ev.At.UTC()), ev.ID...)
}

// keyEventPrefix is the prefix of a key's entries in the keys bucket.
func keyEventPrefix(keyID string) []byte { return append([]byte(keyID), 0) }

// writeEvent stores ev inside tx, the transaction of the change it records:
// both are committed or neither is. An event that fails audit.Event.Check,
// or whose id is already stored, is an error that rolls the change back.
func writeEvent(tx *bbolt.Tx, ev *audit.Event) error {
	if err := ev.Check(); err != nil {
		return fault.Wrap(err, fault.CodeInternal, "internal error")
	}
	if err := checkID("organization_id", ev.OrganizationID); err != nil {
		return err
	}
	if err := checkTimes("event", ev.ID, []string{"at"}, []time.Time{ev.At}); err != nil {
		return err
	}
	doc, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("bolt: encode event %s: %w", ev.ID, err)
	}
	root, err := tx.CreateBucketIfNotExists(bucketAudit)
	if err != nil {
		return err
	}
	ob, err := root.CreateBucketIfNotExists([]byte(ev.OrganizationID))
	if err != nil {
		return err
	}
	events, err := ob.CreateBucketIfNotExists(bucketAuditEvents)
	if err != nil {
		return err
	}
	pos := eventPos(ev)
	if events.Get(pos) != nil {
		return fault.Wrap(fmt.Errorf("bolt: event %s exists", ev.ID), fault.CodeInternal, "internal error")
	}
	if err := events.Put(pos, doc); err != nil {
		return err
	}
	if err := writeNotice(tx, ev); err != nil {
		return err
	}
	if k := ev.KeyID(); k != "" {
		byKey, err := ob.CreateBucketIfNotExists(bucketAuditKeys)
		if err != nil {
			return err
		}
		return byKey.Put(append(keyEventPrefix(k), pos...), nil)
	}
	return nil
}

// ListEvents returns a page of org's events, newest first: it walks the
// organization's events (or the key's entries) backwards from the cursor or
// q.Until, keeping those of q.Action, down to q.Since or the retention
// horizon at q.Now (never the wall clock), whichever is later: events the
// pruner has not deleted yet are not listed beyond it either.
func (s *Store) ListEvents(ctx context.Context, org string, q audit.Query) (audit.Page, error) {
	var page audit.Page
	want := cursor{kind: cursorAudit, org: org, parent: q.KeyID}
	var after []byte
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, want)
		if err != nil {
			return page, fmt.Errorf("bolt: list events of %s: %w", org, err)
		}
		after = c.pos
	}
	from, until, err := q.Bounds(s.retention)
	if err != nil {
		return page, fault.Wrap(err, fault.CodeInternal, "internal error")
	}
	since := appendTS(nil, from)
	limit := q.PageSize()
	err = s.view(ctx, "list events of "+org, func(tx *bbolt.Tx) error {
		root := tx.Bucket(bucketAudit)
		if root == nil {
			return nil
		}
		ob := root.Bucket([]byte(org))
		if ob == nil {
			return nil
		}
		events := ob.Bucket(bucketAuditEvents)
		var b *bbolt.Bucket
		var prefix []byte
		if q.KeyID != "" {
			b, prefix = ob.Bucket(bucketAuditKeys), keyEventPrefix(q.KeyID)
		} else {
			b = events
		}
		if b == nil || events == nil {
			return nil
		}
		start := append(bytes.Clone(prefix), appendTS(nil, until.UTC())...)
		if after != nil {
			start = append(bytes.Clone(prefix), after...)
		}
		c := b.Cursor()
		k, _ := c.Seek(start)
		if k == nil {
			k, _ = c.Last()
		}
		for k != nil && bytes.Compare(k, start) >= 0 {
			k, _ = c.Prev()
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			pos := k[len(prefix):]
			if bytes.Compare(pos[:tsLen], since) < 0 {
				break
			}
			doc := events.Get(pos)
			if doc == nil {
				continue
			}
			var ev audit.Event
			if err := json.Unmarshal(doc, &ev); err != nil {
				s.log.ErrorContext(ctx, "bolt: stored event cannot be decoded", "organization", org, "error", err)
				continue
			}
			if q.Action != "" && ev.Action != q.Action {
				continue
			}
			if len(page.Items) == limit {
				page.Next = cursor{kind: cursorAudit, org: org, parent: q.KeyID, pos: last}.encode()
				break
			}
			page.Items = append(page.Items, ev)
			last = bytes.Clone(pos)
		}
		return nil
	})
	if err != nil {
		return audit.Page{}, err
	}
	return page, nil
}

// PruneEvents deletes the events older than before (and their key
// entries), at most batch of them per transaction, and returns how many it
// deleted. The single binary runs it in the background (retention).
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	const batch = 1000
	bound := appendTS(nil, before.UTC())
	total := 0
	for {
		n := 0
		err := s.update(ctx, "prune events", func(tx *bbolt.Tx) error {
			n = 0
			root := tx.Bucket(bucketAudit)
			if root == nil {
				return nil
			}
			return root.ForEachBucket(func(org []byte) error {
				ob := root.Bucket(org)
				events := ob.Bucket(bucketAuditEvents)
				if events == nil {
					return nil
				}
				byKey := ob.Bucket(bucketAuditKeys)
				c := events.Cursor()
				for k, v := c.First(); k != nil && n < batch && bytes.Compare(k[:tsLen], bound) < 0; k, v = c.First() {
					var ev audit.Event
					if json.Unmarshal(v, &ev) == nil && ev.KeyID() != "" && byKey != nil {
						if err := byKey.Delete(append(keyEventPrefix(ev.KeyID()), k...)); err != nil {
							return err
						}
					}
					if err := c.Delete(); err != nil {
						return err
					}
					n++
				}
				return nil
			})
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}
