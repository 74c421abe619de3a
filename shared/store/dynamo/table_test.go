package dynamo_test

import (
	"bytes"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
)

func TestCreateTableInput(t *testing.T) {
	in := dynamo.CreateTableInput("x")
	if in.BillingMode != types.BillingModePayPerRequest || aws.ToString(in.TableName) != "x" {
		t.Errorf("CreateTableInput: billing %s, name %q", in.BillingMode, aws.ToString(in.TableName))
	}
	spec := dynamo.Spec()
	if len(in.GlobalSecondaryIndexes) != len(spec.GSIs) || len(in.AttributeDefinitions) != 2+2*len(spec.GSIs) {
		t.Errorf("CreateTableInput: %d GSIs, %d attribute definitions", len(in.GlobalSecondaryIndexes), len(in.AttributeDefinitions))
	}
	if spec.TTLAttribute != dynamo.AttrTTL || spec.PartitionKey != "PK" || spec.SortKey != "SK" {
		t.Errorf("Spec: %+v", spec)
	}
}

// TestEnsureTable checks that EnsureTable is idempotent, enables TTL where
// the server has it and says so in the log where it has not, and refuses a
// table of another shape.
func TestEnsureTable(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		ctx := t.Context()
		var log bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&log, nil))
		if err := dynamo.EnsureTable(ctx, b.Client, b.Table, logger); err != nil {
			t.Fatalf("EnsureTable on the existing table: %v", err)
		}
		ttl, err := b.Client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(b.Table)})
		if err != nil {
			t.Fatalf("DescribeTimeToLive: %v", err)
		}
		d := ttl.TimeToLiveDescription
		enabled := d != nil && aws.ToString(d.AttributeName) == dynamo.AttrTTL && d.TimeToLiveStatus == types.TimeToLiveStatusEnabled
		unsupported := strings.Contains(log.String(), "does not support")
		switch {
		case b.Name == "moto" && !enabled:
			t.Errorf("moto: TTL %+v, want ENABLED on %s", d, dynamo.AttrTTL)
		case b.Name == "dynalite" && (!unsupported || d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusDisabled):
			// dynalite answers DescribeTimeToLive with DISABLED and
			// UpdateTimeToLive with UnknownOperationException.
			t.Errorf("dynalite: TTL %+v, log:\n%s\nwant DISABLED and a log saying TTL is unsupported", d, log.String())
		case !enabled && !unsupported:
			t.Errorf("%s: TTL %+v and nothing logged", b.Name, d)
		}

		// A table keyed differently is refused, not used.
		other := b.Table + "-wrong"
		_, err = b.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(other),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(other)})
		if err := dynamo.EnsureTable(ctx, b.Client, other, logger); err == nil || !strings.Contains(err.Error(), "key schema") {
			t.Errorf("EnsureTable on a table of another shape: %v, want a key schema error", err)
		}
	})
}

// TestTTLAttribute checks that an expiring key carries its expiry in epoch
// seconds (rounded up) in the TTL attribute, and a key that never expires
// none, also after an edit.
func TestTTLAttribute(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		skipWithoutTransactions(t, b)
		s := dynamo.New(b.Client, b.Table)
		ctx := t.Context()
		at := time.Now().UTC().Truncate(time.Millisecond)
		k := testKey(ids("org_"), at)
		k.ExpiresAt = time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
		if err := s.CreateKey(ctx, k, storetest.Event()); err != nil {
			t.Fatal(err)
		}
		raw := func() map[string]types.AttributeValue {
			out, err := b.Client.GetItem(ctx, &dynamodb.GetItemInput{
				TableName: aws.String(b.Table), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{
					dynamo.AttrPK: &types.AttributeValueMemberS{Value: "KEY#" + k.ID},
					dynamo.AttrSK: &types.AttributeValueMemberS{Value: "KEY"},
				},
			})
			if err != nil || out.Item == nil {
				t.Fatalf("raw GetItem: %v, %v", out, err)
			}
			return out.Item
		}
		n, ok := raw()[dynamo.AttrTTL].(*types.AttributeValueMemberN)
		if want := strconv.FormatInt(k.ExpiresAt.Unix()+1, 10); !ok || n.Value != want {
			t.Errorf("ttl attribute = %v, want N %s", raw()[dynamo.AttrTTL], want)
		}
		k.ExpiresAt, k.Version = time.Time{}, 2
		if err := s.UpdateKey(ctx, k, 1, storetest.Event()); err != nil {
			t.Fatal(err)
		}
		if v, ok := raw()[dynamo.AttrTTL]; ok {
			t.Errorf("ttl attribute after the key was made never-expiring: %v", v)
		}
	})
}
