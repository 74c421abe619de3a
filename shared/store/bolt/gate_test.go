package bolt

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
)

// BenchmarkKeyEncode measures the write gate on a key with 10 grants:
// plain is what a write cost before the gate (encode); gated is
// encodeKey (encode, decode the document, compare).
func BenchmarkKeyEncode(b *testing.B) {
	k := testKey("org_bench", 1, time.Date(2026, 11, 29, 12, 0, 0, 123e6, time.UTC))
	k.ExpiresAt = k.CreatedAt.Add(90 * 24 * time.Hour)
	k.Grants = nil
	for i := range 10 {
		k.Grants = append(k.Grants, authz.Grant{Permission: "secrets:read", Scope: authz.Node{Team: fmt.Sprintf("team_%016d", i), Project: fmt.Sprintf("prj_%016d", i)}})
	}
	r := keyRecordOf(k)
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeKey(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
