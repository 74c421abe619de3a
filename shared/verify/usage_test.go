package verify_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/verify"
)

// TestUsageStoresMilliseconds: both recorders store the last use truncated
// to the millisecond, the precision of every stored time.
func TestUsageStoresMilliseconds(t *testing.T) {
	used := time.Date(2026, 11, 25, 12, 0, 1, 123456789, time.FixedZone("", 3600))
	want := time.Date(2026, 11, 25, 11, 0, 1, 123000000, time.UTC)
	tests := []struct {
		name   string
		record func(*verifyFixture, *keys.Key)
	}{
		{"sync", func(f *verifyFixture, k *keys.Key) { f.usage.Record(context.Background(), k, used) }},
		{"async", func(f *verifyFixture, k *keys.Key) {
			a := verify.NewAsyncUsage(f.st, slog.New(slog.DiscardHandler))
			a.Record(context.Background(), k, used)
			a.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newVerifyFixture(t)
			_, owner, err := f.svc.Bootstrap(context.Background(), "Org")
			if err != nil {
				t.Fatal(err)
			}
			tt.record(f, owner.Key)
			k, err := f.st.GetKey(context.Background(), owner.Key.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !k.LastUsedAt.Equal(want) || k.LastUsedAt.Nanosecond()%int(time.Millisecond) != 0 {
				t.Fatalf("last_used_at = %s, want %s", k.LastUsedAt.Format(time.RFC3339Nano), authz.FormatTime(want))
			}
		})
	}
}
