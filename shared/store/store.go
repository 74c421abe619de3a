// Package store names what a storage engine provides: the key store, the
// directory store, usage counts, the audit trail's reader, the webhook
// store, a health check and Close. Engines live in subpackages (bolt,
// dynamo) and all pass the conformance suite in storetest.
package store

import (
	"context"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/webhook"
)

// Store is a complete storage engine.
type Store interface {
	keys.Store
	directory.Store
	usage.Store
	audit.Reader
	// webhook.Store keeps webhook endpoints, their deliveries and the
	// expiry index of keys the expiry sweep reads.
	webhook.Store
	// Ping answers nil when the store is reachable (healthz).
	Ping(ctx context.Context) error
	// Close releases the engine's resources.
	Close() error
}

// Initializer is an engine that can create its first organization and owner
// key in one atomic write with an "initialized" marker (the embedded one).
// The DynamoDB engine has none: there `serve` never bootstraps by itself.
type Initializer = keys.Initializer
