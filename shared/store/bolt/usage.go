package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/usage"
)

// usageRecord is the stored form of a key's day (usage / <key id> / day).
type usageRecord struct {
	Allowed int64            `json:"allowed,omitempty"`
	Denied  map[string]int64 `json:"denied,omitempty"`
}

func (r usageRecord) counts() usage.Counts {
	c := usage.Counts{Allowed: r.Allowed}
	for i, reason := range usage.Reasons {
		c.Denied[i] = r.Denied[string(reason)]
	}
	return c
}

func usageRecordOf(c usage.Counts) usageRecord {
	r := usageRecord{Allowed: c.Allowed}
	for i, reason := range usage.Reasons {
		if c.Denied[i] != 0 {
			if r.Denied == nil {
				r.Denied = map[string]int64{}
			}
			r.Denied[string(reason)] = c.Denied[i]
		}
	}
	return r
}

// AddUsage applies the batch in one transaction: counts are added to each
// key's day (a key that does not exist gets none), days older than
// usage.Retention are pruned from the keys written, and each last use is
// stored on its key when newer than the stored one (the Version does not
// change).
func (s *Store) AddUsage(ctx context.Context, b usage.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable("add usage", bolterrors.ErrDatabaseNotOpen)
	}
	for _, l := range b.LastUses {
		s.cache.begin(l.KeyID)
	}
	defer func() {
		for _, l := range b.LastUses {
			s.cache.end(l.KeyID)
		}
	}()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		keysB := tx.Bucket(bucketKeys)
		for _, d := range b.Days {
			if keysB.Get([]byte(d.KeyID)) == nil {
				continue
			}
			if err := addDay(tx, d); err != nil {
				return err
			}
		}
		for _, l := range b.LastUses {
			if err := storeLastUse(tx, l); err != nil {
				return err
			}
		}
		return nil
	})
	return engineErr(fmt.Sprintf("add usage (%d days, %d last uses)", len(b.Days), len(b.LastUses)), err)
}

// addDay adds d's counts to its day and prunes the key's days that ended
// more than usage.Retention before d's day (the store keeps no clock).
func addDay(tx *bbolt.Tx, d usage.DayDelta) error {
	end, err := usage.DayEnd(d.Date)
	if err != nil {
		return err
	}
	oldest := usage.Date(end.Add(-usage.Retention - 24*time.Hour))
	var kb *bbolt.Bucket
	kb, err = tx.Bucket(bucketUsage).CreateBucketIfNotExists([]byte(d.KeyID))
	if err != nil {
		return err
	}
	var r usageRecord
	if v := kb.Get([]byte(d.Date)); v != nil {
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decoding usage of %s on %s: %w", d.KeyID, d.Date, err)
		}
	}
	c := r.counts()
	c.Add(d.Counts)
	v, err := json.Marshal(usageRecordOf(c))
	if err != nil {
		return err
	}
	if err := kb.Put([]byte(d.Date), v); err != nil {
		return err
	}
	cur := kb.Cursor()
	for k, _ := cur.First(); k != nil && string(k) < oldest; k, _ = cur.First() {
		if err := cur.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// storeLastUse writes l on its key when newer than the stored last use.
func storeLastUse(tx *bbolt.Tx, l usage.LastUseDelta) error {
	cur, err := loadKey(tx, l.KeyID)
	if err != nil || cur == nil {
		return nil // missing or unreadable: nothing to record on
	}
	at := utc(l.At).Truncate(time.Millisecond)
	if l.Previous {
		if !bytes.Equal(cur.PrevDigest, l.PreviousDigest[:]) || !at.After(cur.PrevLastUsedAt) {
			return nil // another previous token (or none) by now, or older
		}
		cur.PrevLastUsedAt, cur.PrevLastUsedIP, cur.PrevLastUsedUA = at, l.IP, l.UserAgent
	} else {
		if !at.After(cur.LastUsedAt) {
			return nil
		}
		cur.LastUsedAt, cur.LastUsedIP, cur.LastUsedUA = at, l.IP, l.UserAgent
	}
	v, err := encodeKey(cur)
	if err != nil {
		return nil // not storable (a time out of range): skipped
	}
	return putKey(tx, cur.ID, v)
}

// deleteUsage removes a deleted key's days.
func deleteUsage(tx *bbolt.Tx, id string) error {
	if tx.Bucket(bucketUsage).Bucket([]byte(id)) == nil {
		return nil
	}
	return tx.Bucket(bucketUsage).DeleteBucket([]byte(id))
}

// KeyUsage returns the key's days from from to to that have counts, oldest
// first (fault.ErrNotFound when the key does not exist).
func (s *Store) KeyUsage(ctx context.Context, id, from, to string) ([]usage.Day, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, unavailable("key usage "+id, bolterrors.ErrDatabaseNotOpen)
	}
	var days []usage.Day
	found := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(id)) == nil {
			return nil
		}
		found = true
		kb := tx.Bucket(bucketUsage).Bucket([]byte(id))
		if kb == nil {
			return nil
		}
		c := kb.Cursor()
		for k, v := c.Seek([]byte(from)); k != nil && string(k) <= to; k, v = c.Next() {
			var r usageRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decoding usage of %s on %s: %w", id, k, err)
			}
			days = append(days, usage.Day{Date: string(k), Counts: r.counts()})
		}
		return nil
	})
	if err != nil {
		return nil, engineErr("key usage "+id, err)
	}
	if !found {
		return nil, fmt.Errorf("bolt: key usage %s: %w", id, fault.NotFound("api key"))
	}
	return days, nil
}
