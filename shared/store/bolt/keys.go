package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// keyOp is one key write run inside a transaction. Its result holds the
// change to apply to the cache once committed (empty id: nothing changed)
// or a refusal (a fault for the caller; the op must not have written
// anything). An error is an engine failure that rolls the transaction back.
type keyOp func(tx *bbolt.Tx, seq uint64) (opResult, error)

// opResult is the outcome of a keyOp that did not fail.
type opResult struct {
	ch      keyChange
	refusal error
}

// refuse is the result of a keyOp that refuses the write.
func refuse(err error) (opResult, error) { return opResult{refusal: err}, nil }

// writeKey runs op in a group commit and applies its change to the cache
// after the commit.
func (s *Store) writeKey(ctx context.Context, what string, op keyOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable(what, bolterrors.ErrDatabaseNotOpen)
	}
	ticket := s.cache.begin()
	var res opResult
	// Batch may run the function more than once (when another function of
	// the same batch fails); every run starts from scratch.
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		var err error
		res, err = op(tx, s.seq.Add(1))
		return err
	})
	if err != nil {
		s.cache.finish(ticket, keyChange{})
		return unavailable(what, err)
	}
	s.cache.finish(ticket, res.ch)
	return res.refusal
}

// putKey stores the document v of key k (both from encodeKey, the gate)
// and returns the cache change.
func putKey(tx *bbolt.Tx, v []byte, k *keys.Key, seq uint64) (keyChange, error) {
	if err := tx.Bucket(bucketKeys).Put([]byte(k.ID), v); err != nil {
		return keyChange{}, err
	}
	return keyChange{id: k.ID, key: k, seq: seq}, nil
}

// loadKey reads the stored record of id (nil when missing).
func loadKey(tx *bbolt.Tx, id string) (*keyRecord, error) {
	v := tx.Bucket(bucketKeys).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	return decodeKeyRecord(v)
}

// CreateKey stores a new key with Version 1 (fault.ErrConflict if the id
// exists).
func (s *Store) CreateKey(ctx context.Context, k *keys.Key) error {
	if err := checkID("id", k.ID); err != nil {
		return err
	}
	if err := checkID("organization_id", k.OrganizationID); err != nil {
		return err
	}
	r := keyRecordOf(k)
	r.Version = 1
	v, stored, err := encodeKey(r)
	if err != nil {
		return err
	}
	return s.writeKey(ctx, "create key "+k.ID, func(tx *bbolt.Tx, seq uint64) (opResult, error) {
		return createKey(tx, r, v, stored, seq)
	})
}

// createKey stores a new key and its index entry inside tx; an existing id
// is refused (fault.ErrConflict) without writing.
func createKey(tx *bbolt.Tx, r *keyRecord, v []byte, stored *keys.Key, seq uint64) (opResult, error) {
	if tx.Bucket(bucketKeys).Get([]byte(r.ID)) != nil {
		return refuse(fmt.Errorf("bolt: create key %s: %w", r.ID, fault.ErrConflict))
	}
	idx, err := tx.Bucket(bucketKeyIndex).CreateBucketIfNotExists([]byte(r.Org))
	if err != nil {
		return opResult{}, err
	}
	if err := idx.Put(keyIndexKey(r.CreatedAt, r.ID), nil); err != nil {
		return opResult{}, err
	}
	ch, err := putKey(tx, v, stored, seq)
	return opResult{ch: ch}, err
}

// GetKey returns a key from memory: no decoding, no allocation. The result
// is shared and read-only.
func (s *Store) GetKey(_ context.Context, id string) (*keys.Key, error) {
	if s.closed.Load() {
		return nil, unavailable("get key "+id, bolterrors.ErrDatabaseNotOpen)
	}
	if k := s.cache.get(id); k != nil {
		return k, nil
	}
	if e := s.broken.get(id); e != nil {
		s.log.Error("bolt: stored key cannot be decoded", "id", id, "error", e.Cause)
		return nil, fmt.Errorf("bolt: get key %s: %w", id, e)
	}
	return nil, fmt.Errorf("bolt: get key %s: %w", id, fault.ErrNotFound)
}

// UpdateKey replaces the key's name, access, digest, hint, UpdatedAt,
// RotatedAt and Version when the stored Version equals expectedVersion
// (fault.ErrConflict otherwise, fault.ErrNotFound when missing). The
// organization, LastUsedAt, CreatedAt and CreatedBy stay as stored.
func (s *Store) UpdateKey(ctx context.Context, k *keys.Key, expectedVersion int64) error {
	in := keyRecordOf(k)
	return s.writeKey(ctx, "update key "+k.ID, func(tx *bbolt.Tx, seq uint64) (opResult, error) {
		cur, err := loadKey(tx, in.ID)
		switch {
		case err != nil:
			return opResult{}, err
		case cur == nil:
			return refuse(fmt.Errorf("bolt: update key %s: %w", in.ID, fault.ErrNotFound))
		case cur.Version != expectedVersion:
			return refuse(fmt.Errorf("bolt: update key %s: stored version %d, expected %d: %w", in.ID, cur.Version, expectedVersion, fault.ErrConflict))
		}
		next := *in
		next.Org, next.CreatedAt, next.CreatedBy, next.LastUsedAt = cur.Org, cur.CreatedAt, cur.CreatedBy, cur.LastUsedAt
		v, stored, err := encodeKey(&next)
		if err != nil {
			return refuse(err)
		}
		ch, err := putKey(tx, v, stored, seq)
		return opResult{ch: ch}, err
	})
}

// DeleteKey removes the key when the stored Version equals expectedVersion
// (fault.ErrConflict otherwise, fault.ErrNotFound when missing).
func (s *Store) DeleteKey(ctx context.Context, id string, expectedVersion int64) error {
	err := s.writeKey(ctx, "delete key "+id, func(tx *bbolt.Tx, seq uint64) (opResult, error) {
		cur, err := loadKey(tx, id)
		if err != nil {
			return deleteBrokenKey(tx, id, expectedVersion, seq)
		}
		switch {
		case cur == nil:
			return refuse(fmt.Errorf("bolt: delete key %s: %w", id, fault.ErrNotFound))
		case cur.Version != expectedVersion:
			return refuse(fmt.Errorf("bolt: delete key %s: stored version %d, expected %d: %w", id, cur.Version, expectedVersion, fault.ErrConflict))
		}
		if err := tx.Bucket(bucketKeys).Delete([]byte(id)); err != nil {
			return opResult{}, err
		}
		if idx := tx.Bucket(bucketKeyIndex).Bucket([]byte(cur.Org)); idx != nil {
			if err := idx.Delete(keyIndexKey(cur.CreatedAt, id)); err != nil {
				return opResult{}, err
			}
		}
		return opResult{ch: keyChange{id: id, seq: seq}}, nil
	})
	if err == nil {
		s.broken.drop(id)
	}
	return err
}

// deleteBrokenKey deletes a key whose document does not decode, on the
// version that can still be read from it.
func deleteBrokenKey(tx *bbolt.Tx, id string, expectedVersion int64, seq uint64) (opResult, error) {
	h := readKeyHeader(id, tx.Bucket(bucketKeys).Get([]byte(id)))
	if h.Version != expectedVersion {
		return refuse(fmt.Errorf("bolt: delete unreadable key %s: stored version %d, expected %d: %w", id, h.Version, expectedVersion, fault.ErrConflict))
	}
	if err := tx.Bucket(bucketKeys).Delete([]byte(id)); err != nil {
		return opResult{}, err
	}
	if err := deleteKeyIndexOf(tx, h.Org, id); err != nil {
		return opResult{}, err
	}
	return opResult{ch: keyChange{id: id, seq: seq}}, nil
}

// TouchKey sets LastUsedAt to now when the stored LastUsedAt still equals
// prev, and reports whether it wrote. A missing key reports false and no
// error. The Version does not change.
func (s *Store) TouchKey(ctx context.Context, id string, prev, now time.Time) (bool, error) {
	wrote := false
	err := s.writeKey(ctx, "touch key "+id, func(tx *bbolt.Tx, seq uint64) (opResult, error) {
		wrote = false
		cur, err := loadKey(tx, id)
		if err != nil || cur == nil || !cur.LastUsedAt.Equal(utc(prev)) {
			return opResult{}, err
		}
		cur.LastUsedAt = utc(now)
		v, stored, err := encodeKey(cur)
		if err != nil {
			return refuse(err)
		}
		ch, err := putKey(tx, v, stored, seq)
		wrote = err == nil
		return opResult{ch: ch}, err
	})
	return wrote && err == nil, err
}

// ListKeys returns an organization's keys, newest first (CreatedAt, then
// id, descending). A page costs the same whatever the organization's size:
// it walks the organization's index backwards from the cursor.
func (s *Store) ListKeys(ctx context.Context, org string, opt directory.ListOptions) (directory.Page[*keys.Key], error) {
	var page directory.Page[*keys.Key]
	if err := ctx.Err(); err != nil {
		return page, err
	}
	var after []byte
	if opt.Cursor != "" {
		c, err := decodeCursor(opt.Cursor, cursor{kind: cursorKeys, org: org})
		if err != nil {
			return page, fmt.Errorf("bolt: list keys of %s: %w", org, err)
		}
		after = c.pos
	}
	limit := opt.PageSize()
	err := s.db.View(func(tx *bbolt.Tx) error {
		idx := tx.Bucket(bucketKeyIndex).Bucket([]byte(org))
		if idx == nil {
			return nil
		}
		c := idx.Cursor()
		var k []byte
		if after == nil {
			k, _ = c.Last()
		} else {
			if k, _ = c.Seek(after); k == nil {
				k, _ = c.Last()
			}
			for k != nil && bytes.Compare(k, after) >= 0 {
				k, _ = c.Prev()
			}
		}
		page.Items = make([]*keys.Key, 0, limit)
		var last []byte
		for ; k != nil; k, _ = c.Prev() {
			if len(page.Items) == limit {
				page.Next = cursor{kind: cursorKeys, org: org, pos: last}.encode()
				break
			}
			key, err := s.listedKey(tx, k[tsLen:])
			if err != nil {
				return err
			}
			if key == nil {
				// Does not decode: skipped, logged and reported.
				page.Unreadable = append(page.Unreadable, unreadable(string(k[tsLen:])))
				continue
			}
			page.Items = append(page.Items, key)
			last = k
		}
		return nil
	})
	if err != nil {
		return directory.Page[*keys.Key]{}, engineErr("list keys of "+org, err)
	}
	return page, nil
}

// listedKey returns the key with id for a listing: from the cache, or, when
// the cache has not caught up with the snapshot yet, decoded from it. A
// document that does not decode is noted (logged, and answered by GetKey
// as unreadable) and returns nil.
func (s *Store) listedKey(tx *bbolt.Tx, id []byte) (*keys.Key, error) {
	if k := s.cache.getBytes(id); k != nil {
		return k, nil
	}
	v := tx.Bucket(bucketKeys).Get(id)
	if v == nil {
		return nil, fmt.Errorf("key index names the missing key %s", id)
	}
	k, err := decodeKey(v)
	if err != nil {
		s.noteBrokenKey(string(id), v, err)
		return nil, nil
	}
	return k, nil
}
