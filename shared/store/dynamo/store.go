// Package dynamo is the DynamoDB engine of store.Store: one table holds
// keys, organizations, their hierarchy and the name claims that keep
// sibling names unique, and the audit trail (docs/dynamodb.md). Every
// audited change is one TransactWriteItems holding its conditional writes
// and its event; verification is one strongly consistent GetItem by
// primary key.
//
// The engine does not decide whether a key has expired: DynamoDB's TTL
// deletes expired items only eventually (up to days later), so every read
// path above the store (the keys domain) checks Key.ExpiresAt itself.
//
// Region, credentials and endpoint belong to the *dynamodb.Client the caller
// builds from the SDK's standard configuration (AWS_REGION,
// AWS_ENDPOINT_URL_DYNAMODB, profiles). Throttling and transient errors are
// retried by the client's retryer; what still fails surfaces wrapping
// fault.ErrUnavailable.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/store"
)

// Store is the DynamoDB engine. It is safe for concurrent use.
type Store struct {
	client *dynamodb.Client
	table  *string
	log    *slog.Logger
	// retention is how long audit events are kept (their ttl).
	retention time.Duration
}

var _ store.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger for what the store cannot return: stored
// items that do not decode (default: slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.log = l
		}
	}
}

// New returns a store on table through client. It does no I/O; Ping checks
// that the table answers.
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: aws.String(table), log: slog.Default(), retention: audit.DefaultRetention}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table returns the table's name.
func (s *Store) Table() string { return *s.table }

// pingPK is the partition key Ping reads; no item ever has it.
const pingPK = "PING"

// Ping reads one (absent) item by primary key: it needs only the GetItem
// permission every function has, and proves the table answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table,
		Key:       primaryKey(pingPK, pingPK),
	})
	if err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close releases nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }

func primaryKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// conditionFailed reports whether err is a lost condition, and whether the
// item existed (from ReturnValuesOnConditionCheckFailure=ALL_OLD).
func conditionFailed(err error) (failed bool, old map[string]types.AttributeValue) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true, ccf.Item
	}
	return false, nil
}

// existed tells, after a lost condition, whether the item exists: from the
// old item DynamoDB returned (ReturnValuesOnConditionCheckFailure=ALL_OLD,
// no extra read), or, when the server returned none, from one strongly
// consistent GetItem. Real DynamoDB and moto return the old item; dynalite
// ignores the parameter, and a missing item returns none everywhere, so the
// extra read only happens on a not-found path or on dynalite.
func (s *Store) existed(ctx context.Context, key map[string]types.AttributeValue, old map[string]types.AttributeValue) (bool, error) {
	if len(old) > 0 {
		return true, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            s.table,
		Key:                  key,
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String(AttrPK),
	})
	if err != nil {
		return false, s.fail("read after a lost condition", err)
	}
	return len(out.Item) > 0, nil
}

// fail wraps an SDK error with what the store was doing and the code it
// maps to: unavailable for throttling, server faults, network failures and
// context deadlines (after the SDK's retries), internal otherwise (a request
// the service refused: a bug or a misconfiguration such as a missing table).
func (s *Store) fail(op string, err error) error {
	msg := fmt.Sprintf("dynamo: %s on %s", op, *s.table)
	if transient(err) {
		return fault.Wrap(fmt.Errorf("%s: %w", msg, err), fault.CodeUnavailable, "the store is unavailable, try again")
	}
	return fault.Wrap(fmt.Errorf("%s: %w", msg, err), fault.CodeInternal, "internal error")
}

// transient reports whether err is worth answering 503 (try again) rather
// than 500.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var (
		pte *types.ProvisionedThroughputExceededException
		rle *types.RequestLimitExceeded
		thr *types.ThrottlingException
		ise *types.InternalServerError
		tce *types.TransactionConflictException
		max *retry.MaxAttemptsError
		api smithy.APIError
	)
	switch {
	case errors.As(err, &pte), errors.As(err, &rle), errors.As(err, &thr), errors.As(err, &ise), errors.As(err, &tce), errors.As(err, &max):
		return true
	case errors.As(err, &api):
		if _, ok := retry.DefaultThrottleErrorCodes[api.ErrorCode()]; ok {
			return true
		}
		if _, ok := retry.DefaultRetryableErrorCodes[api.ErrorCode()]; ok {
			return true
		}
		return api.ErrorFault() == smithy.FaultServer
	}
	// No API error at all: the request never got an answer (connection
	// refused, reset, DNS, timeout).
	return true
}

// getItem is one strongly consistent GetItem by primary key; a missing item
// is a nil map.
func (s *Store) getItem(ctx context.Context, key map[string]types.AttributeValue, what string) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, s.fail(what, err)
	}
	return out.Item, nil
}

// oldItem returns the item a lost condition found: the one DynamoDB
// returned (ReturnValuesOnConditionCheckFailure=ALL_OLD), or, from a server
// that returns none (dynalite), one strongly consistent read.
func (s *Store) oldItem(ctx context.Context, key, old map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	if len(old) > 0 {
		return old, nil
	}
	return s.getItem(ctx, key, "read after a lost condition")
}
