package dynamo_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"

	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/webhook"
)

// env holds the servers of this test package: moto, dynalite and the
// AWS_ENDPOINT_URL_DYNAMODB server when set, each with its own table.
// TestMain starts them once for every test and stops them at the end.
var env *dynamotest.Env

func TestMain(m *testing.M) {
	os.Exit(dynamotest.Main(m, func(e *dynamotest.Env) { env = e }))
}

// each runs f once per backend, as a subtest named after it.
func each(t *testing.T, f func(t *testing.T, b *dynamotest.Backend)) {
	t.Helper()
	if len(env.Backends) < 2 {
		t.Fatalf("want moto and dynalite backends, have %d", len(env.Backends))
	}
	for _, b := range env.Backends {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// client returns a new client for b with extra options.
func client(t *testing.T, b *dynamotest.Backend, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	endpoint := b.Endpoint
	if b.Name == "env" {
		endpoint = "" // the SDK's own configuration reaches it
	}
	c, err := dynamotest.NewClient(t.Context(), endpoint, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConformance runs the shared store suite, unchanged, on every backend.
func TestConformance(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		s := dynamo.New(b.Client, b.Table)
		defer s.Close()
		storetest.Run(t, s, harness(b))
	})
}

// harness stores broken items with raw PutItems, bypassing the store's
// write gate: a key whose expires_at does not parse (year 10000), a node
// whose updated_at is not a time.
func harness(b *dynamotest.Backend) storetest.Harness {
	put := func(t *testing.T, item map[string]types.AttributeValue) {
		t.Helper()
		if _, err := b.Client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(b.Table), Item: item}); err != nil {
			t.Fatalf("raw PutItem: %v", err)
		}
	}
	return storetest.Harness{
		NoTransactions: b.NoTransactions,
		PutBrokenKey: func(t *testing.T, k *keys.Key) {
			item, err := dynamo.KeyItem(k)
			if err != nil {
				t.Fatal(err)
			}
			item["expires_at"] = &types.AttributeValueMemberS{Value: "10000-01-01T00:00:00.000000000Z"}
			put(t, item)
		},
		PutBrokenNode: func(t *testing.T, n *directory.Node) {
			item, err := dynamo.NodeItem(n)
			if err != nil {
				t.Fatal(err)
			}
			item["updated_at"] = &types.AttributeValueMemberS{Value: "not a time"}
			put(t, item)
		},
		PutBrokenWebhook: func(t *testing.T, e *webhook.Endpoint) {
			item, err := dynamo.WebhookItem(e)
			if err != nil {
				t.Fatal(err)
			}
			item["updated_at"] = &types.AttributeValueMemberS{Value: "not a time"}
			put(t, item)
		},
		PutBrokenDelivery: func(t *testing.T, d *webhook.Delivery) {
			item, err := dynamo.DeliveryItem(d)
			if err != nil {
				t.Fatal(err)
			}
			item["created_at"] = &types.AttributeValueMemberS{Value: "not a time"}
			put(t, item)
		},
	}
}
