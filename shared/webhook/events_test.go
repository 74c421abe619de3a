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
