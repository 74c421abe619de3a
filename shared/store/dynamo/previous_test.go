package dynamo_test

import (
	"github.com/dotenv/apikeys/shared/store/storetest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/token"
)

// TestUpdateKeyPreviousLastUse: the previous token's last-use attributes
// (written by verification) survive an update that keeps a used previous
// token, and are removed when a rotation puts a new, unused previous token
// in its place or the previous token goes: a new previous token never
// inherits the last use of the one it replaces.
func TestUpdateKeyPreviousLastUse(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		skipWithoutTransactions(t, b)
		s := dynamo.New(b.Client, b.Table)
		defer s.Close()
		ctx := t.Context()
		at := time.Now().UTC().Truncate(time.Millisecond)
		k := testKey(ids("org_"), at)
		k.Previous = &keys.PreviousToken{Digest: token.Digest{1}, Hint: "dotenv_AbCd…wxyz", ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateKey(ctx, k, storetest.Event()); err != nil {
			t.Fatal(err)
		}
		lastUse := []string{"prev_last_used_at", "prev_last_used_ip", "prev_last_used_ua"}
		used := func() {
			t.Helper()
			up := expression.Set(expression.Name(lastUse[0]), expression.Value("2026-11-25T12:00:00.000000000Z")).
				Set(expression.Name(lastUse[1]), expression.Value("203.0.113.7")).
				Set(expression.Name(lastUse[2]), expression.Value("ci/1.0"))
			expr, err := expression.NewBuilder().WithUpdate(up).Build()
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(b.Table),
				Key:                       map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "KEY#" + k.ID}, "SK": &types.AttributeValueMemberS{Value: "KEY"}},
				UpdateExpression:          expr.Update(),
				ExpressionAttributeNames:  expr.Names(),
				ExpressionAttributeValues: expr.Values(),
			})
			if err != nil {
				t.Fatalf("raw UpdateItem: %v", err)
			}
		}
		stored := func() map[string]types.AttributeValue {
			t.Helper()
			out, err := b.Client.GetItem(ctx, &dynamodb.GetItemInput{
				TableName: aws.String(b.Table), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "KEY#" + k.ID}, "SK": &types.AttributeValueMemberS{Value: "KEY"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			return out.Item
		}
		update := func(what string, edit func()) map[string]types.AttributeValue {
			t.Helper()
			edit()
			k.Version++
			if err := s.UpdateKey(ctx, k, k.Version-1, storetest.Event()); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return stored()
		}
		want := func(what string, item map[string]types.AttributeValue, present bool, names ...string) {
			t.Helper()
			for _, n := range names {
				if _, ok := item[n]; ok != present {
					t.Errorf("%s: %s present %v, want %v", what, n, ok, present)
				}
			}
		}

		// An edit keeping a used previous token keeps its last use.
		used()
		item := update("edit", func() { k.Name = "edited"; k.Previous.LastUsedAt = at })
		want("edit keeping a used previous token", item, true, append(lastUse, "prev_digest", "prev_hint", "prev_expires_at")...)

		// A rotation's new previous token starts without one.
		item = update("rotation", func() {
			k.Previous = &keys.PreviousToken{Digest: k.SecretDigest, Hint: k.Hint, ExpiresAt: at.Add(2 * time.Hour)}
			k.SecretDigest = token.Digest{2}
		})
		want("rotation with a new previous token", item, false, lastUse...)
		want("rotation with a new previous token", item, true, "prev_digest", "prev_hint", "prev_expires_at")

		// Without a previous token every prev_* attribute goes.
		used()
		item = update("revocation", func() { k.Previous = nil })
		want("previous token revoked", item, false, append(lastUse, "prev_digest", "prev_hint", "prev_expires_at")...)
	})
}
