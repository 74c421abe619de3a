package dynamo_test

import (
	"errors"
	"io"
	"net/http"
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
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/token"
)

// losingTransport sends every request to the server, then loses the answer
// of the first TransactWriteItems (a dropped connection after the server
// applied it): the SDK's retryer sends the same transaction again, with the
// same ClientRequestToken.
type losingTransport struct {
	next http.RoundTripper
	lost atomic.Int32
	sent atomic.Int32
}

func (l *losingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
		return resp, err
	}
	l.sent.Add(1)
	if l.lost.Add(1) == 1 {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("connection reset by peer (answer lost by the test)")
	}
	return resp, nil
}

// TestTransactionRetriedOnce: a change whose TransactWriteItems answer was
// lost is sent again by the SDK with the same ClientRequestToken (the event
// id); the store answers success and exactly one event is stored, for
// creates, updates and deletes of keys and for node creates.
func TestTransactionRetriedOnce(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		skipWithoutTransactions(t, b)
		ctx := t.Context()
		base := dynamo.New(b.Client, b.Table)
		gen := token.NewGenerator()
		org, _ := gen.RandomID("org_", 16)
		at := time.Now().UTC().Truncate(time.Millisecond)
		mkEvent := func(action string, target audit.Target, at time.Time) audit.Event {
			id, err := audit.NewID(gen, at)
			if err != nil {
				t.Fatal(err)
			}
			return audit.Event{ID: id, At: at, OrganizationID: org, Action: action, Actor: audit.System(audit.SystemBootstrap), Target: target}
		}
		o := &directory.Organization{ID: org, Name: "retried", CreatedAt: at, UpdatedAt: at}
		if err := base.CreateOrganization(ctx, o, mkEvent(audit.OrganizationCreated, audit.Target{Type: "organization", ID: org}, at)); err != nil {
			t.Fatal(err)
		}
		sec, err := gen.New()
		if err != nil {
			t.Fatal(err)
		}
		k := &keys.Key{ID: sec.KeyID(), OrganizationID: org, Name: "ci", Access: authz.Access{AllowAll: true},
			SecretDigest: sec.Digest(), Hint: "dotenv_x…y", CreatedAt: at, UpdatedAt: at, Version: 1}
		target := audit.Target{Type: "key", ID: k.ID, Name: k.Name}
		team, _ := gen.RandomID("team_", 16)
		steps := []struct {
			name  string
			event audit.Event
			do    func(s *dynamo.Store, ev audit.Event) error
		}{
			{"CreateKey", mkEvent(audit.KeyCreated, target, at.Add(1*time.Millisecond)), func(s *dynamo.Store, ev audit.Event) error { return s.CreateKey(ctx, k.Clone(), ev) }},
			{"UpdateKey", mkEvent(audit.KeyUpdated, target, at.Add(2*time.Millisecond)), func(s *dynamo.Store, ev audit.Event) error {
				up := k.Clone()
				up.Name, up.Version, up.UpdatedAt = "renamed", 2, at.Add(2*time.Millisecond)
				return s.UpdateKey(ctx, up, 1, ev)
			}},
			{"DeleteKey", mkEvent(audit.KeyDeleted, target, at.Add(3*time.Millisecond)), func(s *dynamo.Store, ev audit.Event) error { return s.DeleteKey(ctx, k.ID, 2, ev) }},
			{"CreateNode", mkEvent("team.created", audit.Target{Type: "team", ID: team}, at.Add(4*time.Millisecond)), func(s *dynamo.Store, ev audit.Event) error {
				return s.CreateNode(ctx, &directory.Node{ID: team, OrganizationID: org, Path: authz.Node{Team: team}, Name: "core", CreatedAt: at, UpdatedAt: at}, ev)
			}},
		}
		for _, st := range steps {
			lt := &losingTransport{next: http.DefaultTransport}
			c := client(t, b, func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: lt} })
			if err := st.do(dynamo.New(c, b.Table), st.event); err != nil {
				t.Fatalf("%s with its first answer lost: %v", st.name, err)
			}
			if n := lt.sent.Load(); n != 2 {
				t.Fatalf("%s: %d TransactWriteItems sent, want 2 (the call and its retry)", st.name, n)
			}
			kc, err := expression.NewBuilder().WithKeyCondition(
				expression.Key(dynamo.AttrPK).Equal(expression.Value("AUDIT#" + org + "#" + st.event.At.Format("2006-01")))).Build()
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Client.Query(ctx, &dynamodb.QueryInput{
				TableName:                 aws.String(b.Table),
				KeyConditionExpression:    kc.KeyCondition(),
				ExpressionAttributeNames:  kc.Names(),
				ExpressionAttributeValues: kc.Values(),
				ConsistentRead:            aws.Bool(true),
			})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, it := range got.Items {
				if v, ok := it["id"].(*types.AttributeValueMemberS); ok && v.Value == st.event.ID {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s: %d events stored with id %s, want 1", st.name, n, st.event.ID)
			}
		}
		page, err := base.ListEvents(ctx, org, audit.Query{Now: at})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != len(steps)+1 {
			t.Fatalf("listed %d events, want %d", len(page.Items), len(steps)+1)
		}
	})
}
