package dynamo

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
)

// BenchmarkKeyEncode measures the write gate on a key with 10 grants:
// plain is what a write cost before (build the record, encode the item);
// gated is checkedKeyItem (the same, then decode and compare).
func BenchmarkKeyEncode(b *testing.B) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 123e6, time.UTC)
	k := &keys.Key{ID: "key_0123456789abcdef", OrganizationID: "org_0123456789abcdef", Name: "CI deploy",
		Hint: "dotenv_0123…wxyz", CreatedAt: at, UpdatedAt: at, Version: 1}
	k.ExpiresAt = at.Add(90 * 24 * time.Hour)
	for i := range 10 {
		k.Grants = append(k.Grants, authz.Grant{Permission: "secrets:read", Scope: authz.Node{Team: fmt.Sprintf("team_%016d", i), Project: fmt.Sprintf("prj_%016d", i)}})
	}
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := attributevalue.MarshalMap(newKeyRecord(k)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := checkedKeyItem(k); err != nil {
				b.Fatal(err)
			}
		}
	})
}
