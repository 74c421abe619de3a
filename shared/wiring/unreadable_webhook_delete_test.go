package wiring_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	bbolt "go.etcd.io/bbolt"

	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/webhook"
)

// reopenable is a store whose engine the test replaces between requests:
// the embedded store is closed so that its file can be edited by hand,
// then opened again.
type reopenable struct {
	store.Store
}

// TestDeleteUnreadableWebhookOverHTTP: a stored endpoint that cannot be
// decoded (corrupted out of band: its updated_at is not a time) is listed
// as unreadable and holds one of the organization's MaxEndpoints places;
// show answers 500 without its secret, another organization's DELETE 404,
// and its organization's DELETE 204, which frees the place. On bbolt (the
// file edited by hand) and on the DynamoDB servers (a raw UpdateItem).
func TestDeleteUnreadableWebhookOverHTTP(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "apikeys.db")
		st, err := bolt.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r := &reopenable{Store: st}
		t.Cleanup(func() { r.Store.Close() })
		deleteUnreadableWebhook(t, newEnvOn(t, r), func(_, id string) {
			if err := r.Store.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket([]byte("webhooks"))
				var doc map[string]any
				if err := json.Unmarshal(b.Get([]byte(id)), &doc); err != nil {
					return err
				}
				doc["updated_at"] = "not a time"
				v, err := json.Marshal(doc)
				if err != nil {
					return err
				}
				return b.Put([]byte(id), v)
			})
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("editing the file: %v", err)
			}
			if r.Store, err = bolt.Open(path); err != nil {
				t.Fatal(err)
			}
		})
	})
	for _, b := range dynamoServers.Backends {
		t.Run(b.Name, func(t *testing.T) {
			if b.NoTransactions != "" {
				t.Skip(b.NoTransactions) // bootstrap and every change write their audit event in one
			}
			st := dynamo.New(b.Client, b.Table)
			t.Cleanup(func() { st.Close() })
			deleteUnreadableWebhook(t, newEnvOn(t, st), func(org, id string) {
				expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("updated_at"), expression.Value("not a time"))).Build()
				if err != nil {
					t.Fatal(err)
				}
				key, err := attributevalue.MarshalMap(map[string]string{dynamo.AttrPK: "ORG#" + org, dynamo.AttrSK: "WEBHOOK#" + id})
				if err != nil {
					t.Fatal(err)
				}
				_, err = b.Client.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String(b.Table), Key: key,
					UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
				if err != nil {
					t.Fatalf("raw UpdateItem: %v", err)
				}
			})
		})
	}
}

// deleteUnreadableWebhook runs the scenario on e; corrupt makes the
// stored endpoint id of organization org undecodable.
func deleteUnreadableWebhook(t *testing.T, e *env, corrupt func(org, id string)) {
	create := func(i int) response {
		return e.do("POST", "/v1/webhooks", e.owner, fmt.Sprintf(`{"url":"https://hooks.example.com/%d","events":["key.created"]}`, i), nil)
	}
	var id, secret string
	for i := range webhook.MaxEndpoints {
		r := create(i)
		if r.status != http.StatusCreated {
			t.Fatalf("create endpoint %d: %d %s", i, r.status, r.raw)
		}
		if i == 3 {
			id, secret = r.str("id"), r.str("secret")
		}
	}
	if id == "" || secret == "" {
		t.Fatal("the create answer has no id or secret")
	}
	corrupt(e.orgA, id)

	list := e.do("GET", "/v1/webhooks", e.owner, "", nil)
	items, _ := list.body["items"].([]any)
	un, _ := list.body["unreadable"].([]any)
	if list.status != http.StatusOK || len(items) != webhook.MaxEndpoints-1 || len(un) != 1 || un[0].(map[string]any)["id"] != id {
		t.Fatalf("list with an unreadable endpoint: %d, %d items, unreadable %v; want 200, %d items and [%s]", list.status, len(items), un, webhook.MaxEndpoints-1, id)
	}
	if r := create(99); r.status != http.StatusConflict {
		t.Fatalf("create past the limit, an unreadable endpoint counted: %d %s; want 409", r.status, r.raw)
	}
	r := e.do("GET", "/v1/webhooks/"+id, e.owner, "", nil)
	if r.status != http.StatusInternalServerError || r.code() != "internal" || strings.Contains(r.raw, secret) {
		t.Fatalf("show an unreadable endpoint: %d %s; want 500 internal without the secret", r.status, r.raw)
	}
	if r = e.do("DELETE", "/v1/webhooks/"+id, e.ownerB, "", nil); r.status != http.StatusNotFound {
		t.Fatalf("another organization deletes the unreadable endpoint: %d %s; want 404", r.status, r.raw)
	}
	if r = e.do("DELETE", "/v1/webhooks/"+id, e.owner, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete the unreadable endpoint: %d %s; want 204", r.status, r.raw)
	}
	list = e.do("GET", "/v1/webhooks", e.owner, "", nil)
	items, _ = list.body["items"].([]any)
	if _, ok := list.body["unreadable"]; list.status != http.StatusOK || ok || len(items) != webhook.MaxEndpoints-1 {
		t.Fatalf("list after deleting the unreadable endpoint: %d %s; want 200, %d items, no unreadable", list.status, list.raw, webhook.MaxEndpoints-1)
	}
	if r = create(100); r.status != http.StatusCreated {
		t.Fatalf("create in the freed place: %d %s; want 201", r.status, r.raw)
	}
	if r = e.do("DELETE", "/v1/webhooks/"+id, e.owner, "", nil); r.status != http.StatusNotFound {
		t.Fatalf("delete the unreadable endpoint again: %d %s; want 404", r.status, r.raw)
	}
}
