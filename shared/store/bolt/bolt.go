// Package bolt is the embedded storage engine: one bbolt file that holds the
// keys and the directory, used by the single binary by default. It passes
// the conformance suite in storetest.
//
// # Consistency and performance
//
// Every write runs in one bbolt transaction, so a key is never half written,
// and every change to a key is conditional on its Version (or, for TouchKey,
// on its LastUsedAt) inside that transaction. Key writes go through
// bbolt.DB.Batch: concurrent writers share one commit and one fsync (group
// commit) while fsync stays on, so an acknowledged key survives a crash.
//
// Decoded keys are kept in a cache bounded by their approximate size in
// memory (WithKeyCacheBytes, DefaultKeyCacheBytes by default), so the
// store's memory does not grow with the number of keys. Open reads no key:
// a key is decoded from bbolt, in a read transaction, the first time it is
// asked for (a cold key) and then served from memory until it is evicted
// or written. GetKey of a cached key, the verification hot path, is a
// lookup with no decoding and no allocation. Writers invalidate the key
// after their commit and before they answer; a reader only adds what it
// read when no write of that key was applied since its read began (see
// keyCache), so a read that starts after a write was acknowledged never
// sees the older value, and a deleted key never comes back.
//
// # On-disk format (format version 1)
//
// Top-level buckets; "+" concatenates bytes, ts(t) is the 12-byte sortable
// form of an instant (big-endian uint64 of t.Unix() with the sign bit
// flipped, then big-endian uint32 of t.Nanosecond()), and values are JSON
// documents with snake_case field names and UTC RFC 3339 times (nanosecond
// precision; zero times are omitted):
//
//	meta                          "format" → "1"; "initialized" → id of the first organization (init.go)
//	keys                          key id → key document (keyRecord)
//	key_index / <org id>          ts(created_at) + key id → "" (ListKeys walks it backwards: newest first)
//	key_expiry                    ts(expires_at) + key id → "" (keys that expire; the expiry sweep, webhooks.go)
//	webhooks                      endpoint id → endpoint document (webhookRecord)
//	webhook_index / <org id>      ts(created_at) + endpoint id → ""
//	deliveries                    delivery id → delivery document (deliveryRecord); pruned webhook.DeliveryRetention after give_up_at
//	delivery_index / <endpoint>   ts(created_at) + delivery id → "" (newest first, backwards)
//	delivery_due                  ts(next_attempt_at) + delivery id → "" (pending deliveries only)
//	notices                       ts(event at) + event id → pending notice (noticeRecord), written with its event, deleted once queued
//	orgs                          organization id → organization document (orgRecord)
//	dir / <org id> / nodes        node id → node document (nodeRecord)
//	dir / <org id> / names        level byte + parent id + 0x00 + name → node id (sibling names are unique)
//	dir / <org id> / children     parent id + 0x00 + ts(created_at) + node id → "" (a team's parent id is "")
//	dir / <org id> / levels       level byte + ts(created_at) + node id → "" (ListNodes without a parent)
//	usage / <key id>              "yyyy-mm-dd" (UTC day) → usage document (usageRecord); days older than usage.Retention are pruned
//
// Times are kept from year 0000 to 9999 in UTC (RFC 3339 in JSON); no write
// stores a document that does not decode back to what was given (the write
// gate, docs/dynamodb.md), and a document that does not decode never keeps
// the file from opening nor a listing from answering: it is logged and
// reported as unreadable.
//
// Node ids never contain 0x00. A listing cursor is the unpadded base64url
// form of: a format byte (1), the listing kind ('k' keys, 'n' nodes), the
// organization id, the level and the parent id (nodes), and the index key of
// the last item returned, each string preceded by its uvarint length,
// followed by the CRC-32 (IEEE) of all that. A cursor is only ever used
// inside the index of the organization (and level and parent) it names, and
// one naming another listing is refused, so it cannot reach anybody else's
// items.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/store"
)

// formatVersion is the on-disk format this package reads and writes.
const formatVersion = "1"

// Bucket names.
var (
	bucketMeta     = []byte("meta")
	bucketKeys     = []byte("keys")
	bucketKeyIndex = []byte("key_index")
	bucketOrgs     = []byte("orgs")
	bucketDir      = []byte("dir")
	bucketNodes    = []byte("nodes")
	bucketNames    = []byte("names")
	bucketChildren = []byte("children")
	bucketLevels   = []byte("levels")
	bucketUsage    = []byte("usage")
	metaFormat     = []byte("format")
)

// Store is the bbolt engine. It is safe for concurrent use. Keys returned by
// GetKey and ListKeys are shared: callers treat them as read-only.
type Store struct {
	db     *bbolt.DB
	cache  *keyCache
	closed atomic.Bool
	// log reports stored items that do not decode.
	log *slog.Logger
	// retention is how long audit events are listed (the pruner deletes
	// them later; a listing never shows one beyond it).
	retention time.Duration
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*config)

type config struct {
	lockTimeout   time.Duration
	batchDelay    time.Duration
	maxBatchSize  int
	keyCacheBytes int64
	log           *slog.Logger
	retention     time.Duration
}

// WithLogger sets the logger for stored items that cannot be decoded
// (default: slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithLockTimeout sets how long Open waits for the file lock held by
// another process (default 5s).
func WithLockTimeout(d time.Duration) Option { return func(c *config) { c.lockTimeout = d } }

// WithBatchDelay sets how long a key write waits for others to share its
// commit (bbolt's MaxBatchDelay; default 1ms). Longer delays give bigger
// group commits and more latency.
func WithBatchDelay(d time.Duration) Option { return func(c *config) { c.batchDelay = d } }

// WithMaxBatchSize sets how many key writes one commit holds at most
// (bbolt's MaxBatchSize; default 256).
func WithMaxBatchSize(n int) Option { return func(c *config) { c.maxBatchSize = n } }

// WithKeyCacheBytes bounds the decoded keys kept in memory to about n
// bytes, counted as their approximate size in memory (default
// DefaultKeyCacheBytes). 0 keeps none: every GetKey reads the file.
func WithKeyCacheBytes(n int64) Option { return func(c *config) { c.keyCacheBytes = n } }

// WithAuditRetention sets how long audit events are kept (default
// audit.DefaultRetention): a listing never shows an event older than its
// Query.Now minus d, as on DynamoDB, whether or not the pruner
// (PruneEvents, run with the same period) has deleted it yet.
func WithAuditRetention(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.retention = d
		}
	}
}

// Open opens the store in the file at path, creating the file and its
// directory when missing. It reads no key: keys are decoded when first
// read, so opening takes the same time whatever the number of keys.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := config{lockTimeout: 5 * time.Second, batchDelay: time.Millisecond, maxBatchSize: 256, keyCacheBytes: DefaultKeyCacheBytes, log: slog.Default(), retention: audit.DefaultRetention}
	for _, o := range opts {
		o(&cfg)
	}
	cache, err := newKeyCache(cfg.keyCacheBytes)
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: cfg.lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	db.MaxBatchDelay = cfg.batchDelay
	db.MaxBatchSize = cfg.maxBatchSize
	s := &Store{db: db, cache: cache, log: cfg.log, retention: cfg.retention}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets and checks the format.
func (s *Store) init() error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketKeys, bucketKeyIndex, bucketOrgs, bucketDir, bucketUsage,
			bucketWebhooks, bucketWebhookIndex, bucketDeliveries, bucketDeliveryIndex, bucketDeliveryDue, bucketNotices} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("creating bucket %s: %w", name, err)
			}
		}
		if err := initKeyExpiry(tx); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(metaFormat); {
		case v == nil:
			return meta.Put(metaFormat, []byte(formatVersion))
		case string(v) != formatVersion:
			return fmt.Errorf("unsupported format version %q (this build reads %q)", v, formatVersion)
		}
		return nil
	})
}

// Ping answers nil while the store is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable("ping", bolterrors.ErrDatabaseNotOpen)
	}
	return s.db.View(func(*bbolt.Tx) error { return nil })
}

// Close releases the file. Calls after Close answer fault.ErrUnavailable.
func (s *Store) Close() error {
	s.closed.Store(true)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// unavailable wraps an engine failure as fault.ErrUnavailable with context.
func unavailable(op string, err error) error {
	return fmt.Errorf("bolt: %s: %w", op, fault.Wrap(err, fault.CodeUnavailable, "the store is unavailable"))
}

// engineErr returns err when it is already a fault (refusals made by this
// package), and wraps anything else (bbolt or I/O failures) as unavailable.
func engineErr(op string, err error) error {
	var f *fault.Error
	if err == nil || errors.As(err, &f) {
		return err
	}
	return unavailable(op, err)
}
