package webhook_test

import (
	"testing"

	"github.com/dotenv/apikeys/shared/webhook"
)

func TestEventOfAction(t *testing.T) {
	for _, tc := range []struct {
		action, event string
		ok            bool
	}{
		{"key.created", "key.created", true},
		{"key.updated", "key.updated", true},
		{"key.rotated", "key.rotated", true},
		{"key.deleted", "key.deleted", true},
		{"key.revoked", "key.revoked", true},
		{"key.previous_token_revoked", "key.updated", true},
		{"key.expiring", "", false}, // the sweep's, never an audit action
		{"organization.renamed", "", false},
		{"team.created", "", false},
		{"", "", false},
	} {
		got, ok := webhook.EventOfAction(tc.action)
		if got != tc.event || ok != tc.ok {
			t.Errorf("EventOfAction(%q) = %q, %v; want %q, %v", tc.action, got, ok, tc.event, tc.ok)
		}
	}
}

// TestRetentionOutlastsTheSweep: a delivery is deleted only after the
// expiry sweep stopped looking for its key, so a pruned notice is never
// queued again. A notice is created at the earliest WindowWeek before the
// key's expiry and deleted at the earliest RetryWindow + DeliveryRetention
// later; the sweep looks for the key until ExpiredLookback after its expiry.
func TestRetentionOutlastsTheSweep(t *testing.T) {
	earliestDeletion := -webhook.WindowWeek + webhook.RetryWindow + webhook.DeliveryRetention
	if lastLook := webhook.ExpiredLookback; earliestDeletion <= lastLook {
		t.Fatalf("a notice may be deleted %s after its key's expiry, but the sweep looks until %s after it", earliestDeletion, lastLook)
	}
}
