package dynamo_test

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/token"
)

// rawEvent reads the stored item of ev from its month partition, as the
// table holds it (nil when absent).
func rawEvent(t *testing.T, b *dynamotest.Backend, ev audit.Event) map[string]types.AttributeValue {
	t.Helper()
	kc, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(dynamo.AttrPK).Equal(expression.Value("AUDIT#" + ev.OrganizationID + "#" + ev.At.UTC().Format("2006-01")))).Build()
	if err != nil {
		t.Fatal(err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(b.Table),
		KeyConditionExpression:    kc.KeyCondition(),
		ExpressionAttributeNames:  kc.Names(),
		ExpressionAttributeValues: kc.Values(),
		ConsistentRead:            aws.Bool(true),
	}
	var found map[string]types.AttributeValue
	for {
		res, err := b.Client.Query(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			if v, ok := it["id"].(*types.AttributeValueMemberS); ok && v.Value == ev.ID {
				if found != nil {
					t.Fatalf("event %s is stored twice", ev.ID)
				}
				found = it
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return found
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// TestEventTTL: an event item's ttl attribute (the table's TTL attribute)
// is its time plus the store's audit retention, in epoch seconds rounded
// up, read from the raw item; with the default and with a configured
// retention.
func TestEventTTL(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		skipWithoutTransactions(t, b)
		gen := token.NewGenerator()
		at := time.Date(2026, 11, 25, 12, 0, 0, 250e6, time.UTC) // 250 ms: the ttl rounds up
		for _, tc := range []struct {
			name      string
			opts      []dynamo.Option
			retention time.Duration
		}{
			{"default", nil, audit.DefaultRetention},
			{"30 days", []dynamo.Option{dynamo.WithAuditRetention(30 * 24 * time.Hour)}, 30 * 24 * time.Hour},
		} {
			s := dynamo.New(b.Client, b.Table, tc.opts...)
			org, _ := gen.RandomID("org_", 16)
			ev := newEvent(t, gen, org, audit.OrganizationCreated, audit.Target{Type: "organization", ID: org}, at)
			if err := s.CreateOrganization(t.Context(), &directory.Organization{ID: org, Name: "ttl", CreatedAt: at, UpdatedAt: at}, ev); err != nil {
				t.Fatal(err)
			}
			item := rawEvent(t, b, ev)
			if item == nil {
				t.Fatalf("%s: event %s not stored", tc.name, ev.ID)
			}
			n, ok := item[dynamo.AttrTTL].(*types.AttributeValueMemberN)
			if !ok {
				t.Fatalf("%s: the event item has no numeric %s attribute: %v", tc.name, dynamo.AttrTTL, item[dynamo.AttrTTL])
			}
			want := at.Add(tc.retention).Unix() + 1
			if got, err := strconv.ParseInt(n.Value, 10, 64); err != nil || got != want {
				t.Errorf("%s: ttl = %s, want %d (at + retention, rounded up to the second)", tc.name, n.Value, want)
			}
		}
	})
}

// newEvent is an event of org by the system at at.
func newEvent(t *testing.T, gen *token.Generator, org, action string, target audit.Target, at time.Time) audit.Event {
	t.Helper()
	id, err := audit.NewID(gen, at)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Event{ID: id, At: at, OrganizationID: org, Action: action, Actor: audit.System(audit.SystemBootstrap), Target: target}
}

// droppingTransport loses the first TransactWriteItems: before sending it
// (the server never sees it) or after (the server applied it, the answer
// is lost, like a connection reset).
type droppingTransport struct {
	next        http.RoundTripper
	afterServer bool
	dropped     atomic.Int32
}

func (d *droppingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tx := strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems")
	if tx && !d.afterServer && d.dropped.Add(1) == 1 {
		return nil, errors.New("connection reset before sending (request lost by the test)")
	}
	resp, err := d.next.RoundTrip(r)
	if err != nil || !tx || !d.afterServer || d.dropped.Add(1) != 1 {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("connection reset by peer (answer lost by the test)")
}

// TestLostAnswerNotRetried: when a change's TransactWriteItems is lost and
// the SDK does not retry (retries off), the store answers an error, and the
// change and its event are both stored (the server applied it, only the
// answer was lost) or both absent (the request never arrived): never one
// without the other. For a key's create, update and delete.
func TestLostAnswerNotRetried(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		skipWithoutTransactions(t, b)
		ctx := t.Context()
		base := dynamo.New(b.Client, b.Table)
		gen := token.NewGenerator()
		for _, afterServer := range []bool{true, false} {
			name := map[bool]string{true: "answer lost", false: "request lost"}[afterServer]
			org, _ := gen.RandomID("org_", 16)
			at := time.Now().UTC().Truncate(time.Millisecond)
			if err := base.CreateOrganization(ctx, &directory.Organization{ID: org, Name: "lost", CreatedAt: at, UpdatedAt: at},
				newEvent(t, gen, org, audit.OrganizationCreated, audit.Target{Type: "organization", ID: org}, at)); err != nil {
				t.Fatal(err)
			}
			sec, err := gen.New()
			if err != nil {
				t.Fatal(err)
			}
			k := &keys.Key{ID: sec.KeyID(), OrganizationID: org, Name: "ci", Access: authz.Access{AllowAll: true},
				SecretDigest: sec.Digest(), Hint: "dotenv_x…y", CreatedAt: at, UpdatedAt: at, Version: 1}
			target := audit.Target{Type: "key", ID: k.ID, Name: k.Name}
			// keyIs reports whether the key is stored as the step left
			// it (stored name and version), or absent.
			keyIs := func(name string, version int64) bool {
				got, err := base.GetKey(ctx, k.ID)
				if name == "" {
					return errors.Is(err, fault.ErrNotFound)
				}
				return err == nil && got.Name == name && got.Version == version
			}
			steps := []struct {
				step             string
				do               func(s *dynamo.Store, ev audit.Event) error
				applied, skipped func() bool
				redo             func(ev audit.Event) error
			}{
				{"CreateKey", func(s *dynamo.Store, ev audit.Event) error { return s.CreateKey(ctx, k.Clone(), ev) },
					func() bool { return keyIs("ci", 1) }, func() bool { return keyIs("", 0) },
					func(ev audit.Event) error { return base.CreateKey(ctx, k.Clone(), ev) }},
				{"UpdateKey", func(s *dynamo.Store, ev audit.Event) error {
					up := k.Clone()
					up.Name, up.Version = "renamed", 2
					return s.UpdateKey(ctx, up, 1, ev)
				}, func() bool { return keyIs("renamed", 2) }, func() bool { return keyIs("ci", 1) },
					func(ev audit.Event) error {
						up := k.Clone()
						up.Name, up.Version = "renamed", 2
						return base.UpdateKey(ctx, up, 1, ev)
					}},
				{"DeleteKey", func(s *dynamo.Store, ev audit.Event) error { return s.DeleteKey(ctx, k.ID, 2, ev) },
					func() bool { return keyIs("", 0) }, func() bool { return keyIs("renamed", 2) },
					func(ev audit.Event) error { return base.DeleteKey(ctx, k.ID, 2, ev) }},
			}
			for i, st := range steps {
				action := map[string]string{"CreateKey": audit.KeyCreated, "UpdateKey": audit.KeyUpdated, "DeleteKey": audit.KeyDeleted}[st.step]
				ev := newEvent(t, gen, org, action, target, at.Add(time.Duration(i+1)*time.Millisecond))
				dt := &droppingTransport{next: http.DefaultTransport, afterServer: afterServer}
				c := client(t, b, func(o *dynamodb.Options) {
					o.HTTPClient = &http.Client{Transport: dt}
					o.Retryer = aws.NopRetryer{}
				})
				if err := st.do(dynamo.New(c, b.Table), ev); err == nil {
					t.Fatalf("%s, %s: the store answered success without an answer", name, st.step)
				}
				stored := rawEvent(t, b, ev) != nil
				switch {
				case stored && st.applied():
					if !afterServer {
						t.Fatalf("%s, %s: the change is stored though the request never left", name, st.step)
					}
				case !stored && st.skipped():
					if afterServer {
						t.Fatalf("%s, %s: nothing stored though the server received the request", name, st.step)
					}
					// The caller tries again (a new request, a new event):
					// the next step starts from the change.
					ev = newEvent(t, gen, org, ev.Action, target, ev.At)
					if err := st.redo(ev); err != nil {
						t.Fatalf("%s, %s again: %v", name, st.step, err)
					}
				default:
					t.Fatalf("%s, %s: event stored %v, change applied %v, unchanged %v: the change and its event must be both there or both absent",
						name, st.step, stored, st.applied(), st.skipped())
				}
			}
		}
	})
}
