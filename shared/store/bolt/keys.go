package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// keyOp is one key write run inside a transaction. Its result may hold a
// refusal (a fault for the caller; the op must not have written anything).
// An error is an engine failure that rolls the transaction back.
type keyOp func(tx *bbolt.Tx) (opResult, error)

// opResult is the outcome of a keyOp that did not fail.
type opResult struct {
	refusal error
}

// refuse is the result of a keyOp that refuses the write.
func refuse(err error) (opResult, error) { return opResult{refusal: err}, nil }

// writeKey runs op, a write of key id, in a group commit: the key's cache
// stripe is marked busy for the whole write, and the cached copy is
// invalidated before answering (committed or not: invalidating is always
// safe).
func (s *Store) writeKey(ctx context.Context, id, what string, op keyOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable(what, bolterrors.ErrDatabaseNotOpen)
	}
	s.cache.begin(id)
	defer s.cache.end(id)
	var res opResult
	// Batch may run the function more than once (when another function of
	// the same batch fails); every run starts from scratch.
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		var err error
		res, err = op(tx)
		return err
	})
	if err != nil {
		return unavailable(what, err)
	}
	return res.refusal
}

// checkEvent refuses, before any transaction, an event that must not be
// written (a bug of the caller: internal error).
func checkEvent(ev *audit.Event) error {
	if err := ev.Check(); err != nil {
		return fault.Wrap(err, fault.CodeInternal, "internal error")
	}
	return checkID("organization_id", ev.OrganizationID)
}

// withEvent writes ev in tx after a key write that neither failed nor was
// refused, so the change and its event commit together; otherwise it
// passes the write's outcome on and writes nothing.
func withEvent(tx *bbolt.Tx, ev *audit.Event, res opResult, err error) (opResult, error) {
	if err != nil || res.refusal != nil {
		return res, err
	}
	return res, writeEvent(tx, ev)
}

// putKey stores the document v of key id (from encodeKey, the gate).
func putKey(tx *bbolt.Tx, id string, v []byte) error {
	return tx.Bucket(bucketKeys).Put([]byte(id), v)
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
func (s *Store) CreateKey(ctx context.Context, k *keys.Key, ev audit.Event) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	if err := checkID("id", k.ID); err != nil {
		return err
	}
	if err := checkID("organization_id", k.OrganizationID); err != nil {
		return err
	}
	r := keyRecordOf(k)
	r.Version = 1
	v, err := encodeKey(r)
	if err != nil {
		return err
	}
	return s.writeKey(ctx, k.ID, "create key "+k.ID, func(tx *bbolt.Tx) (opResult, error) {
		res, err := createKey(tx, r, v)
		return withEvent(tx, &ev, res, err)
	})
}

// createKey stores the new key r, whose document v passed the gate
// (encodeKey), and its index entry (a refusal if the id exists).
func createKey(tx *bbolt.Tx, r *keyRecord, v []byte) (opResult, error) {
	b := tx.Bucket(bucketKeys)
	if b.Get([]byte(r.ID)) != nil {
		return refuse(fmt.Errorf("bolt: create key %s: %w", r.ID, fault.ErrConflict))
	}
	idx, err := tx.Bucket(bucketKeyIndex).CreateBucketIfNotExists([]byte(r.Org))
	if err != nil {
		return opResult{}, err
	}
	if err := idx.Put(keyIndexKey(r.CreatedAt, r.ID), nil); err != nil {
		return opResult{}, err
	}
	if err := moveKeyExpiry(tx, r.ID, time.Time{}, r.ExpiresAt); err != nil {
		return opResult{}, err
	}
	return opResult{}, putKey(tx, r.ID, v)
}

// CreateKeys stores new keys, each with Version 1, in one transaction of
// its own: all or none (fault.ErrConflict if an id exists). It is for bulk
// loads (benchmarks, imports), which it makes much faster than as many
// CreateKey calls; keep each call to some 10^4–10^5 keys.
func (s *Store) CreateKeys(ctx context.Context, ks []*keys.Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable("create keys", bolterrors.ErrDatabaseNotOpen)
	}
	rs := make([]*keyRecord, len(ks))
	docs := make(map[string][]byte, len(ks))
	for i, k := range ks {
		if err := checkID("id", k.ID); err != nil {
			return err
		}
		if err := checkID("organization_id", k.OrganizationID); err != nil {
			return err
		}
		rs[i] = keyRecordOf(k)
		rs[i].Version = 1
		v, err := encodeKey(rs[i])
		if err != nil {
			return err
		}
		docs[rs[i].ID] = v
	}
	// In id order, bbolt appends to the pages it just wrote.
	slices.SortFunc(rs, func(a, b *keyRecord) int { return strings.Compare(a.ID, b.ID) })
	var refusal error
	for _, r := range rs {
		s.cache.begin(r.ID)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		// Pages split while appending in order may stay nearly full
		// (bbolt's default leaves them half empty for random inserts).
		tx.Bucket(bucketKeys).FillPercent = 0.9
		for _, r := range rs {
			res, err := createKey(tx, r, docs[r.ID])
			if err != nil {
				return err
			}
			if res.refusal != nil {
				refusal = res.refusal
				return refusal
			}
		}
		return nil
	})
	for _, r := range rs {
		s.cache.end(r.ID)
	}
	if refusal != nil {
		return refusal
	}
	return engineErr(fmt.Sprintf("create %d keys", len(ks)), err)
}

// GetKey returns a key: a cached one with no decoding and no allocation,
// otherwise read and decoded from the file, and cached. The result is
// shared and read-only.
func (s *Store) GetKey(_ context.Context, id string) (*keys.Key, error) {
	if s.closed.Load() {
		return nil, unavailable("get key "+id, bolterrors.ErrDatabaseNotOpen)
	}
	if k := s.cache.get(id); k != nil {
		return k, nil
	}
	return s.readKey(id)
}

// readKey reads and decodes a key that is not cached, in a read
// transaction, and offers it to the cache with the generation taken before
// the transaction began (see keyCache).
func (s *Store) readKey(id string) (*keys.Key, error) {
	g := s.cache.stamp(id)
	var (
		k      *keys.Key
		broken *keys.UnreadableError
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(id))
		if v == nil {
			return nil
		}
		var err error
		if k, err = decodeKey(v); err != nil {
			broken = s.noteBrokenKey(id, v, err)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, engineErr("get key "+id, err)
	case broken != nil:
		return nil, fmt.Errorf("bolt: get key %s: %w", id, broken)
	case k == nil:
		return nil, fmt.Errorf("bolt: get key %s: %w", id, fault.ErrNotFound)
	}
	s.cache.add(k, g)
	return k, nil
}

// UpdateKey replaces the key's name, access, digest, hint, UpdatedAt,
// RotatedAt and Version when the stored Version equals expectedVersion
// (fault.ErrConflict otherwise, fault.ErrNotFound when missing). The
// organization, LastUsedAt, CreatedAt and CreatedBy stay as stored.
func (s *Store) UpdateKey(ctx context.Context, k *keys.Key, expectedVersion int64, ev audit.Event) error {
	return s.updateKey(ctx, k, expectedVersion, ev, nil)
}

// UpdateKeyWitnessed is UpdateKey, applied only when the witness key is
// still stored at w.Version, checked inside the same transaction
// (keys.ErrWitnessChanged otherwise).
func (s *Store) UpdateKeyWitnessed(ctx context.Context, k *keys.Key, expectedVersion int64, ev audit.Event, w keys.Witness) error {
	return s.updateKey(ctx, k, expectedVersion, ev, &w)
}

// updateKey is UpdateKey, on the witness w when not nil.
func (s *Store) updateKey(ctx context.Context, k *keys.Key, expectedVersion int64, ev audit.Event, w *keys.Witness) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	in := keyRecordOf(k)
	return s.writeKey(ctx, k.ID, "update key "+k.ID, func(tx *bbolt.Tx) (opResult, error) {
		cur, err := loadKey(tx, in.ID)
		switch {
		case err != nil:
			return opResult{}, err
		case cur == nil:
			return refuse(fmt.Errorf("bolt: update key %s: %w", in.ID, fault.ErrNotFound))
		case cur.Version != expectedVersion:
			return refuse(fmt.Errorf("bolt: update key %s: stored version %d, expected %d: %w", in.ID, cur.Version, expectedVersion, fault.ErrConflict))
		}
		if err := checkWitness(tx, w); err != nil {
			return refuse(fmt.Errorf("bolt: update key %s: %w", in.ID, err))
		}
		next := *in
		next.Org, next.CreatedAt, next.CreatedBy, next.LastUsedAt = cur.Org, cur.CreatedAt, cur.CreatedBy, cur.LastUsedAt
		next.LastUsedIP, next.LastUsedUA = cur.LastUsedIP, cur.LastUsedUA
		if next.PrevDigest != nil && !next.PrevLastUsedAt.IsZero() {
			// A previous token in use keeps what verification recorded; a
			// new one (a rotation's) starts without a last use, and none
			// without a previous token.
			next.PrevLastUsedAt, next.PrevLastUsedIP, next.PrevLastUsedUA = cur.PrevLastUsedAt, cur.PrevLastUsedIP, cur.PrevLastUsedUA
		}
		v, err := encodeKey(&next)
		if err != nil {
			return refuse(err)
		}
		if err := moveKeyExpiry(tx, next.ID, cur.ExpiresAt, next.ExpiresAt); err != nil {
			return opResult{}, err
		}
		return withEvent(tx, &ev, opResult{}, putKey(tx, next.ID, v))
	})
}

// DeleteKey removes the key when the stored Version equals expectedVersion
// (fault.ErrConflict otherwise, fault.ErrNotFound when missing).
func (s *Store) DeleteKey(ctx context.Context, id string, expectedVersion int64, ev audit.Event) error {
	return s.deleteKey(ctx, id, expectedVersion, ev, nil)
}

// DeleteKeyWitnessed is DeleteKey, applied only when the witness key is
// still stored at w.Version, checked inside the same transaction
// (keys.ErrWitnessChanged otherwise).
func (s *Store) DeleteKeyWitnessed(ctx context.Context, id string, expectedVersion int64, ev audit.Event, w keys.Witness) error {
	return s.deleteKey(ctx, id, expectedVersion, ev, &w)
}

// deleteKey is DeleteKey, on the witness w when not nil.
func (s *Store) deleteKey(ctx context.Context, id string, expectedVersion int64, ev audit.Event, w *keys.Witness) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	return s.writeKey(ctx, id, "delete key "+id, func(tx *bbolt.Tx) (opResult, error) {
		cur, err := loadKey(tx, id)
		if err != nil {
			res, err := deleteBrokenKey(tx, id, expectedVersion)
			return withEvent(tx, &ev, res, err)
		}
		switch {
		case cur == nil:
			return refuse(fmt.Errorf("bolt: delete key %s: %w", id, fault.ErrNotFound))
		case cur.Version != expectedVersion:
			return refuse(fmt.Errorf("bolt: delete key %s: stored version %d, expected %d: %w", id, cur.Version, expectedVersion, fault.ErrConflict))
		}
		if err := checkWitness(tx, w); err != nil {
			return refuse(fmt.Errorf("bolt: delete key %s: %w", id, err))
		}
		if err := tx.Bucket(bucketKeys).Delete([]byte(id)); err != nil {
			return opResult{}, err
		}
		if idx := tx.Bucket(bucketKeyIndex).Bucket([]byte(cur.Org)); idx != nil {
			if err := idx.Delete(keyIndexKey(cur.CreatedAt, id)); err != nil {
				return opResult{}, err
			}
		}
		if err := moveKeyExpiry(tx, id, cur.ExpiresAt, time.Time{}); err != nil {
			return opResult{}, err
		}
		return withEvent(tx, &ev, opResult{}, deleteUsage(tx, id))
	})
}

// checkWitness answers keys.ErrWitnessChanged unless w is nil or its key
// is stored in tx at w.Version (a witness that no longer decodes fails
// too).
func checkWitness(tx *bbolt.Tx, w *keys.Witness) error {
	if w == nil {
		return nil
	}
	r, err := loadKey(tx, w.ID)
	switch {
	case err != nil || r == nil:
		return fmt.Errorf("witness %s is gone or unreadable: %w", w.ID, keys.ErrWitnessChanged)
	case r.Version != w.Version:
		return fmt.Errorf("witness %s at version %d, expected %d: %w", w.ID, r.Version, w.Version, keys.ErrWitnessChanged)
	}
	return nil
}

// deleteBrokenKey deletes a key whose document does not decode, on the
// version that can still be read from it.
func deleteBrokenKey(tx *bbolt.Tx, id string, expectedVersion int64) (opResult, error) {
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
	return opResult{}, nil
}

// TouchKey sets LastUsedAt to now when the stored LastUsedAt still equals
// prev, and reports whether it wrote. A missing key reports false and no
// error. The Version does not change.
func (s *Store) TouchKey(ctx context.Context, id string, prev, now time.Time) (bool, error) {
	wrote := false
	err := s.writeKey(ctx, id, "touch key "+id, func(tx *bbolt.Tx) (opResult, error) {
		wrote = false
		cur, err := loadKey(tx, id)
		if err != nil || cur == nil || !cur.LastUsedAt.Equal(utc(prev)) {
			return opResult{}, err
		}
		cur.LastUsedAt = utc(now)
		v, err := encodeKey(cur)
		if err != nil {
			return refuse(err)
		}
		err = putKey(tx, cur.ID, v)
		wrote = err == nil
		return opResult{}, err
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
	epoch := s.cache.epoch() // before the snapshot: see listedKey
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
			key, err := s.listedKey(tx, k[tsLen:], epoch)
			if errors.Is(err, errMissingRecord) {
				// An index entry without its record: reported, not fatal.
				page.Unreadable = append(page.Unreadable, directory.Unreadable{ID: string(k[tsLen:]), Message: directory.MissingMessage})
				continue
			}
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

// errMissingRecord is what a listing meets when an index entry names an
// item that is not stored: the listing reports it as unreadable
// (directory.MissingMessage) and goes on.
var errMissingRecord = errors.New("the index names a missing record")

// listedKey returns the key with id for a listing: from the cache, or, when
// it is not cached, decoded from the snapshot and offered to the cache,
// which takes it only if no key was written since epoch was taken (before
// the snapshot began). A document that does not decode is logged and
// returns nil (the listing reports it as unreadable).
func (s *Store) listedKey(tx *bbolt.Tx, id []byte, epoch uint64) (*keys.Key, error) {
	if k := s.cache.getBytes(id); k != nil {
		return k, nil
	}
	v := tx.Bucket(bucketKeys).Get(id)
	if v == nil {
		s.log.Error("bolt: key index names the missing key", "id", string(id))
		return nil, fmt.Errorf("key index names the missing key %s: %w", id, errMissingRecord)
	}
	k, err := decodeKey(v)
	if err != nil {
		s.noteBrokenKey(string(id), v, err)
		return nil, nil
	}
	s.cache.addListed(k, epoch)
	return k, nil
}
