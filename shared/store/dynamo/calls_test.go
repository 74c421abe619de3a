package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/verify"
)

// recorder records every SDK operation a client calls (once per call, not
// per retry: the Initialize step runs once per operation) and its input.
type recorder struct {
	mu     sync.Mutex
	ops    []string
	inputs []any
}

// option installs the recording middleware on a client.
func (r *recorder) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("recordCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				r.mu.Lock()
				r.ops = append(r.ops, middleware.GetOperationName(ctx))
				r.inputs = append(r.inputs, in.Parameters)
				r.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// take returns and forgets what was recorded.
func (r *recorder) take() ([]string, []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops, ins := r.ops, r.inputs
	r.ops, r.inputs = nil, nil
	return ops, ins
}

func ids(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano())
}

func testKey(org string, at time.Time) *keys.Key {
	return &keys.Key{
		ID: ids("key_"), OrganizationID: org, Name: "ci",
		Access:    authz.Access{Grants: []authz.Grant{{Permission: "secrets:read"}}, ExpiresAt: at.Add(30 * 24 * time.Hour)},
		Hint:      "dotenv_abcd…wxyz",
		CreatedAt: at, UpdatedAt: at, Version: 1,
	}
}

// TestCallsPerOperation counts the SDK calls of every store operation that
// writes through a transaction (on a server that has them), so a change
// that adds a call fails here; TestReadCallsOnEveryServer counts the read
// path (GetKey, TouchKey, listings, usage) on every server. docs/dynamodb.md
// has the same table.
func TestCallsPerOperation(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		rec := &recorder{}
		s := dynamo.New(client(t, b, rec.option), b.Table)
		ctx := t.Context()
		at := time.Now().UTC().Truncate(time.Millisecond)
		skipWithoutTransactions(t, b)
		var updated audit.Event

		var k *keys.Key
		var first token.Secret // the key's token before its rotation
		gen := token.NewGenerator()
		verifier := verify.New(s, s, authz.NewCatalog(), func() time.Time { return at }, nil)
		var team, prj *directory.Node
		org := &directory.Organization{ID: ids("org_"), Name: "acme", CreatedAt: at, UpdatedAt: at}
		steps := []callStep{
			{"Ping", []string{"GetItem"}, func() error { return s.Ping(ctx) }},
			{"CreateOrganization", []string{"TransactWriteItems"}, func() error { return s.CreateOrganization(ctx, org, storetest.Event()) }},
			{"GetOrganization", []string{"GetItem"}, func() error { _, err := s.GetOrganization(ctx, org.ID); return err }},
			{"RenameOrganization", []string{"GetItem", "TransactWriteItems"}, func() error { _, err := s.RenameOrganization(ctx, org.ID, "Acme", at, storetest.Event()); return err }},
			{"CreateNode (team)", []string{"TransactWriteItems"}, func() error {
				team = &directory.Node{ID: ids("team_"), OrganizationID: org.ID, Name: "t", CreatedAt: at, UpdatedAt: at}
				team.Path.Team = team.ID
				return s.CreateNode(ctx, team, storetest.Event())
			}},
			{"CreateNode (project)", []string{"TransactWriteItems"}, func() error {
				prj = &directory.Node{ID: ids("prj_"), OrganizationID: org.ID, Name: "p", CreatedAt: at, UpdatedAt: at}
				prj.Path = authz.Node{Team: team.ID, Project: prj.ID}
				return s.CreateNode(ctx, prj, storetest.Event())
			}},
			{"GetNode", []string{"GetItem"}, func() error { _, err := s.GetNode(ctx, org.ID, prj.ID); return err }},
			{"ListNodes (level)", []string{"Query"}, func() error {
				_, err := s.ListNodes(ctx, org.ID, authz.LevelProject, "", directory.ListOptions{})
				return err
			}},
			{"ListNodes (children)", []string{"Query"}, func() error {
				_, err := s.ListNodes(ctx, org.ID, authz.LevelProject, team.ID, directory.ListOptions{})
				return err
			}},
			{"RenameNode", []string{"GetItem", "TransactWriteItems"}, func() error {
				_, err := s.RenameNode(ctx, org.ID, prj.ID, "p2", at, storetest.Event())
				return err
			}},
			{"RenameNode (same name)", []string{"GetItem", "TransactWriteItems"}, func() error {
				_, err := s.RenameNode(ctx, org.ID, prj.ID, "p2", at, storetest.Event())
				return err
			}},
			{"DeleteNode", []string{"GetItem", "TransactWriteItems"}, func() error { return s.DeleteNode(ctx, org.ID, prj.ID, storetest.Event()) }},
			{"CreateKey", []string{"TransactWriteItems"}, func() error {
				var err error
				if first, err = gen.New(); err != nil {
					return err
				}
				k = testKey(org.ID, at)
				k.ID, k.SecretDigest = first.KeyID(), first.Digest()
				return s.CreateKey(ctx, k, storetest.Event())
			}},
			{"verify (GetKey)", []string{"GetItem"}, func() error { _, err := s.GetKey(ctx, k.ID); return err }},
			{"UpdateKey (edit, rotate)", []string{"TransactWriteItems"}, func() error {
				k.Name, k.Version = "ci 2", 2
				updated = storetest.Event()
				return s.UpdateKey(ctx, k, 1, updated)
			}},
			{"UpdateKey (retried after it was applied)", []string{"TransactWriteItems"}, func() error {
				return s.UpdateKey(ctx, k, 1, updated)
			}},
			{"UpdateKey (stale version)", []string{"TransactWriteItems"}, func() error {
				rival := k.Clone()
				rival.UpdatedAt = rival.UpdatedAt.Add(time.Millisecond)
				if err := s.UpdateKey(ctx, rival, 1, storetest.Event()); err == nil {
					return fmt.Errorf("stale UpdateKey succeeded")
				}
				return nil
			}},
			{"UpdateKey (rotate with a grace period)", []string{"TransactWriteItems"}, func() error {
				next, err := gen.WithSelector(first.Parsed.Selector)
				if err != nil {
					return err
				}
				k.Previous = &keys.PreviousToken{Digest: k.SecretDigest, Hint: k.Hint, ExpiresAt: at.Add(time.Hour)}
				k.SecretDigest, k.RotatedAt, k.Version = next.Digest(), at, 3
				return s.UpdateKey(ctx, k, 2, storetest.Event())
			}},
			{"verify (previous token, in its grace period)", []string{"GetItem"}, func() error {
				res, err := verifier.Authenticate(ctx, first.Token)
				if err == nil && (res.Code != verify.CodeOK || !res.Previous) {
					err = fmt.Errorf("verification of the previous token: code %s, previous %v; want ok, previous", res.Code, res.Previous)
				}
				return err
			}},
			{"ListKeys", []string{"Query"}, func() error { _, err := s.ListKeys(ctx, org.ID, directory.ListOptions{}); return err }},
			{"DeleteKey", []string{"TransactWriteItems"}, func() error { return s.DeleteKey(ctx, k.ID, 3, storetest.Event()) }},
			{"GetKey (missing)", []string{"GetItem"}, func() error {
				if _, err := s.GetKey(ctx, k.ID); err == nil {
					return fmt.Errorf("deleted key found")
				}
				return nil
			}},
			{"DeleteKey (missing)", []string{"TransactWriteItems", "GetItem"}, func() error {
				if err := s.DeleteKey(ctx, k.ID, 3, storetest.Event()); err == nil {
					return fmt.Errorf("deleted key deleted again")
				}
				return nil
			}},
		}
		runCallSteps(t, rec, "calls per operation on "+b.Name, steps)
	})
}

// callStep is one store operation and the SDK calls it must make.
type callStep struct {
	name string
	want []string
	run  func() error
}

// runCallSteps runs each step and fails when its SDK calls (recorded by
// rec) differ from its want; a GetKey, the verify path, must also be one
// strongly consistent GetItem by primary key. It logs the table of calls
// under title (docs/dynamodb.md has the same table).
func runCallSteps(t *testing.T, rec *recorder, title string, steps []callStep) {
	t.Helper()
	var table strings.Builder
	for _, st := range steps {
		rec.take()
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, inputs := rec.take()
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: SDK calls %v, want %v", st.name, got, st.want)
		}
		for _, in := range inputs {
			if g, ok := in.(*dynamodb.GetItemInput); ok && strings.HasPrefix(st.name, "verify") && (!aws.ToBool(g.ConsistentRead) || len(g.Key) != 2) {
				t.Errorf("%s: input %+v, want a strongly consistent GetItem by primary key", st.name, in)
			}
		}
		fmt.Fprintf(&table, "| %s | %s |\n", st.name, strings.Join(got, " + "))
	}
	t.Logf("%s:\n%s", title, table.String())
}

// returnsOldItem reports whether b returns the item with a lost condition
// when asked with ReturnValuesOnConditionCheckFailure=ALL_OLD, and checks
// what was observed for moto (yes, like DynamoDB) and dynalite (no).
func returnsOldItem(t *testing.T, b *dynamotest.Backend) bool {
	t.Helper()
	key := map[string]types.AttributeValue{
		dynamo.AttrPK: &types.AttributeValueMemberS{Value: ids("PROBE#")},
		dynamo.AttrSK: &types.AttributeValueMemberS{Value: "PROBE"},
	}
	if _, err := b.Client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(b.Table), Item: key}); err != nil {
		t.Fatal(err)
	}
	defer b.Client.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(b.Table), Key: key})
	_, err := b.Client.PutItem(t.Context(), &dynamodb.PutItemInput{
		TableName: aws.String(b.Table), Item: key,
		ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put on an existing item: %v, want ConditionalCheckFailedException", err)
	}
	got := len(ccf.Item) > 0
	if want, known := map[string]bool{"moto": true, "dynalite": false}[b.Name]; known && got != want {
		t.Errorf("%s returns the old item on a lost condition: %v, it used to be %v (docs/dynamodb.md)", b.Name, got, want)
	}
	return got
}

// TestUsageCallsPerThousandVerifications: counting usage keeps verification
// at one GetItem, and a flush costs one UpdateItem per key and day counted
// plus one per key whose last use was due: 1,000 verifications of 10 keys
// in one flush interval are 1,000 GetItem and 20 UpdateItem
// (docs/performance.md).
func TestUsageCallsPerThousandVerifications(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		rec := &recorder{}
		s := dynamo.New(client(t, b, rec.option), b.Table)
		ctx := t.Context()
		at := time.Now().UTC().Truncate(time.Millisecond)
		const nKeys, nVerify = 10, 1000
		toks := make([]string, nKeys)
		for i := range toks {
			sec, err := token.NewGenerator().New()
			if err != nil {
				t.Fatal(err)
			}
			k := testKey(ids("org_"), at)
			k.ID, k.SecretDigest = sec.KeyID(), sec.Digest()
			item, err := dynamo.KeyItem(k) // seeded: dynalite has no transactions
			if err != nil {
				t.Fatal(err)
			}
			seed(t, b, item)
			toks[i] = sec.Token
		}
		rec.take()
		counter := usage.NewRecorder(s, nil, time.Hour, nil)
		v := verify.New(s, s, authz.NewCatalog(), time.Now, counter)
		for i := range nVerify {
			res, err := v.Authenticate(ctx, toks[i%nKeys])
			if err != nil || res.Code != verify.CodeOK {
				t.Fatalf("verification %d: %v %v", i, res.Code, err)
			}
			v.RecordUse(res, "", verify.Client{IP: "192.0.2.1", UserAgent: "calls-test"})
		}
		ops, _ := rec.take()
		if got := countOps(ops); got["GetItem"] != nVerify || len(got) != 1 {
			t.Fatalf("%d verifications made %v, want %d GetItem and nothing else", nVerify, got, nVerify)
		}
		if err := counter.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		ops, _ = rec.take()
		if got := countOps(ops); got["UpdateItem"] != 2*nKeys || len(got) != 1 {
			t.Fatalf("the flush made %v, want %d UpdateItem (one ADD per key and day, one last use per key)", got, 2*nKeys)
		}
		t.Logf("%d verifications of %d keys: %d GetItem, then %d UpdateItem in one flush", nVerify, nKeys, nVerify, 2*nKeys)
	})
}

func countOps(ops []string) map[string]int {
	out := map[string]int{}
	for _, o := range ops {
		out[o]++
	}
	return out
}
