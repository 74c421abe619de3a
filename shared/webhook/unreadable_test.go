package webhook_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/webhook"
)

// TestUnreadableError: the error of an undecodable endpoint is found in a
// wrapped chain with what could be read of the item, is an internal fault
// (500) to every caller, and its text names the item and the decoding
// error, never the stored secret.
func TestUnreadableError(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	cause := errors.New(`updated_at: parsing time "not a time"`)
	err := fmt.Errorf("store: get webhook: %w", webhook.Unreadable("wh_a", "org_a", 3, cause))
	var u *webhook.UnreadableError
	if !errors.As(err, &u) || u.ID != "wh_a" || u.OrganizationID != "org_a" || u.Version != 3 || !errors.Is(err, cause) {
		t.Fatalf("errors.As = %+v", u)
	}
	if code := fault.CodeOf(err); code != fault.CodeInternal {
		t.Errorf("code %s, want internal", code)
	}
	if errors.Is(err, fault.ErrNotFound) || errors.Is(err, fault.ErrConflict) {
		t.Error("an unreadable endpoint reads as not found or conflict")
	}
	msg := err.Error()
	if strings.Contains(msg, secret) || !strings.Contains(msg, "wh_a") || !strings.Contains(msg, "not a time") {
		t.Errorf("Error() = %q", msg)
	}
}
