package usage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/usage"
)

// TestLastUseQuotesNoToken: a client that sends its token in its
// User-Agent (by mistake, or to see it reflected on the key's page) has
// it redacted in the last use a flush stores, for the current and the
// previous token alike.
func TestLastUseQuotesNoToken(t *testing.T) {
	sec, err := token.NewGenerator().New()
	if err != nil {
		t.Fatal(err)
	}
	a := usage.NewAggregator()
	at := time.Now()
	a.Record("key_a", usage.Use{At: at, IP: "192.0.2.1", UserAgent: "ci/1 " + sec.Token})
	a.Record("key_a", usage.Use{At: at, IP: "192.0.2.1", UserAgent: sec.Token, Previous: true, PreviousDigest: sec.Digest()})
	b := a.Drain()
	if len(b.LastUses) != 2 {
		t.Fatalf("drained %d last uses, want 2", len(b.LastUses))
	}
	for _, l := range b.LastUses {
		if strings.Contains(l.UserAgent, sec.Parsed.Verifier) || !strings.Contains(l.UserAgent, token.Redacted) {
			t.Errorf("last use (previous %v) user agent %q", l.Previous, l.UserAgent)
		}
	}
}
