package dynamo_test

import (
	"context"
	"errors"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
)

// TestConditionMapping checks that every lost condition becomes a conflict
// or a not-found, and that the item is left as it was.
func TestConditionMapping(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		skipWithoutTransactions(t, b)
		s := dynamo.New(b.Client, b.Table)
		ctx := t.Context()
		at := time.Now().UTC().Truncate(time.Millisecond)
		k := testKey(ids("org_"), at)
		created := storetest.Event()
		if err := s.CreateKey(ctx, k, created); err != nil {
			t.Fatal(err)
		}
		check := func(what string, err, want error) {
			t.Helper()
			if !errors.Is(err, want) {
				t.Errorf("%s: got %v, want an error wrapping %v", what, err, want)
			}
			if errors.Is(err, fault.ErrUnavailable) || fault.CodeOf(err) == fault.CodeInternal {
				t.Errorf("%s: %v is also unavailable/internal", what, err)
			}
		}
		dup := testKey(k.OrganizationID, at)
		dup.ID = k.ID
		dup.SecretDigest[0] ^= 0xff // another writer's key with the same id
		check("CreateKey of an existing id", s.CreateKey(ctx, dup, storetest.Event()), fault.ErrConflict)
		// The same create sent again (the SDK retries when an answer is
		// lost: same transaction, same event) finds its own event: success,
		// not a conflict. The same key with another event is a new
		// request: a conflict.
		if err := s.CreateKey(ctx, k.Clone(), created); err != nil {
			t.Errorf("CreateKey retried after it was stored: %v", err)
		}
		check("CreateKey of the same key, another request", s.CreateKey(ctx, k.Clone(), storetest.Event()), fault.ErrConflict)
		stale := k.Clone()
		stale.Version = 5
		check("UpdateKey with a stale version", s.UpdateKey(ctx, stale, 4, storetest.Event()), fault.ErrConflict)
		// An update sent again after it was applied (the SDK retries when
		// an answer is lost) finds its own write: success. Another writer's
		// update of the same version is still a conflict.
		rotated := k.Clone()
		rotated.Version, rotated.UpdatedAt = 2, at.Add(time.Second)
		rotated.SecretDigest[1] ^= 0xff
		rotatedEv := storetest.Event()
		if err := s.UpdateKey(ctx, rotated, 1, rotatedEv); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateKey(ctx, rotated.Clone(), 1, rotatedEv); err != nil {
			t.Errorf("UpdateKey retried after it was applied: %v", err)
		}
		check("UpdateKey of the same key and version, another request", s.UpdateKey(ctx, rotated.Clone(), 1, storetest.Event()), fault.ErrConflict)
		rival := rotated.Clone()
		rival.SecretDigest[2] ^= 0xff
		check("UpdateKey of the same version by another writer", s.UpdateKey(ctx, rival, 1, storetest.Event()), fault.ErrConflict)
		// An edit racing in the same millisecond (same version, same time,
		// same digest) that changes something else is still a conflict.
		renamed := rotated.Clone()
		renamed.Name = "renamed by a racing editor"
		check("UpdateKey of the same version and time, another name", s.UpdateKey(ctx, renamed, 1, storetest.Event()), fault.ErrConflict)
		neverExpires := rotated.Clone()
		neverExpires.ExpiresAt = time.Time{}
		check("UpdateKey of the same version and time, no expiry", s.UpdateKey(ctx, neverExpires, 1, storetest.Event()), fault.ErrConflict)
		check("DeleteKey with a stale version", s.DeleteKey(ctx, k.ID, 7, storetest.Event()), fault.ErrConflict)
		check("UpdateKey of a missing key", s.UpdateKey(ctx, testKey(k.OrganizationID, at), 1, storetest.Event()), fault.ErrNotFound)
		check("DeleteKey of a missing key", s.DeleteKey(ctx, ids("key_"), 1, storetest.Event()), fault.ErrNotFound)
		_, err := s.TouchKey(ctx, ids("key_"), time.Time{}, at)
		check("TouchKey of a missing key", err, fault.ErrNotFound)
		if got, err := s.GetKey(ctx, k.ID); err != nil || got.Version != 2 || got.SecretDigest != rotated.SecretDigest {
			t.Fatalf("key after the refused writes: %+v, %v", got, err)
		}
		_, err = s.GetKey(ctx, "key_never")
		check("GetKey of a missing key", err, fault.ErrNotFound)

		_, err = s.RenameOrganization(ctx, ids("org_"), "x", at, storetest.Event())
		check("RenameOrganization of a missing organization", err, fault.ErrNotFound)
		org := &directory.Organization{ID: ids("org_"), Name: "o", CreatedAt: at, UpdatedAt: at}
		orgEv := storetest.Event()
		if err := s.CreateOrganization(ctx, org, orgEv); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateOrganization(ctx, org, orgEv); err != nil {
			t.Errorf("CreateOrganization retried after it was stored: %v", err)
		}
		other := *org
		other.Name = "another writer"
		check("CreateOrganization of an existing id", s.CreateOrganization(ctx, &other, storetest.Event()), fault.ErrConflict)
	})
}

// TestCursorTampering checks that a cursor cannot be moved to another
// organization or listing, and that garbage is a validation error.
func TestCursorTampering(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		skipWithoutTransactions(t, b)
		s := dynamo.New(b.Client, b.Table)
		ctx := t.Context()
		at := time.Now().UTC().Truncate(time.Millisecond)
		org := ids("org_")
		for i := range 3 {
			if err := s.CreateKey(ctx, testKey(org, at.Add(time.Duration(i)*time.Second)), storetest.Event()); err != nil {
				t.Fatal(err)
			}
		}
		p, err := s.ListKeys(ctx, org, directory.ListOptions{Limit: 1})
		if err != nil || p.Next == "" {
			t.Fatalf("first page: %q, %v", p.Next, err)
		}
		_, err = s.ListNodes(ctx, org, 1, "", directory.ListOptions{Cursor: p.Next})
		if fault.CodeOf(err) != fault.CodeValidation {
			t.Errorf("a keys cursor used to list nodes: %v, want a validation error", err)
		}
		_, err = s.ListKeys(ctx, org, directory.ListOptions{Cursor: "e30"}) // "{}"
		if fault.CodeOf(err) != fault.CodeValidation {
			t.Errorf("an empty JSON cursor: %v, want a validation error", err)
		}
	})
}

// TestContextDeadline checks that a request's deadline is honoured against
// a server that never answers, and surfaces as unavailable and as the
// context's error.
func TestContextDeadline(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	c, err := dynamotest.NewClient(t.Context(), hang.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := dynamo.New(c, "t")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.GetKey(ctx, "key_x")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("GetKey took %v with a 200ms deadline", took)
	}
	if !errors.Is(err, fault.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetKey past its deadline: %v, want an error wrapping both unavailable and the deadline", err)
	}

	// A cancelled context on a real server fails at once, as unavailable.
	b := env.Backends[0]
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	start = time.Now()
	err = dynamo.New(b.Client, b.Table).Ping(ctx)
	if !errors.Is(err, fault.ErrUnavailable) || !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("Ping with a cancelled context: %v after %v", err, time.Since(start))
	}
}

// throttler answers ThrottlingException to the first fail requests, then
// an empty GetItem result.
type throttler struct {
	fail     int32
	attempts atomic.Int32
}

func (h *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.attempts.Add(1)
	status, body := http.StatusOK, []byte(`{}`)
	if n <= h.fail {
		status = http.StatusBadRequest
		body = []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// TestRetry checks that throttling is retried by the SDK's retryer and,
// once the attempts are spent, surfaces as unavailable.
func TestRetry(t *testing.T) {
	noWait := func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	for _, tc := range []struct {
		name         string
		fail         int32
		wantAttempts int32
		want         error
	}{
		{"throttled twice then answered", 2, 3, fault.ErrNotFound},
		{"throttled every time", 100, 3, fault.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &throttler{fail: tc.fail}
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := dynamotest.NewClient(t.Context(), srv.URL, noWait)
			if err != nil {
				t.Fatal(err)
			}
			_, err = dynamo.New(c, "t").GetKey(t.Context(), "key_x")
			if !errors.Is(err, tc.want) {
				t.Errorf("GetKey: %v, want an error wrapping %v", err, tc.want)
			}
			if got := h.attempts.Load(); got != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
			}
		})
	}

	// The client's default retryer (no options) retries throttling too.
	h := &throttler{fail: 1}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := dynamotest.NewClient(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dynamo.New(c, "t").GetKey(t.Context(), "key_x"); !errors.Is(err, fault.ErrNotFound) || h.attempts.Load() != 2 {
		t.Errorf("default retryer: %v after %d attempts, want not found after 2", err, h.attempts.Load())
	}
}

// skipWithoutTransactions skips a test that writes on a server without
// TransactWriteItems, naming the gap.
func skipWithoutTransactions(t *testing.T, b *dynamotest.Backend) {
	t.Helper()
	if b.NoTransactions != "" {
		t.Skip(b.NoTransactions)
	}
}
