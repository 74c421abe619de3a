package stdwebhook_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dotenv/apikeys/shared/stdwebhook"
)

// The signatures are checked by the Standard Webhooks project's own Go
// library, an implementation independent of ours.
func TestSignaturesVerifyWithTheReferenceLibrary(t *testing.T) {
	secret, err := stdwebhook.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(secret), "whsec_") || secret.Validate() != nil {
		t.Fatalf("new secret is not whsec_ + base64 of 24..64 bytes")
	}
	ref, err := standardwebhooks.NewWebhook(string(secret))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"key.expiring","data":{"key_id":"key_x","name":"ünïcode ☃"}}`)
	h := http.Header{}
	now := time.Now()
	if err := stdwebhook.SetHeaders(h, "msg_1", now, body, secret); err != nil {
		t.Fatal(err)
	}
	if err := ref.Verify(body, h); err != nil {
		t.Fatalf("the reference library refused our signature: %v", err)
	}
	if err := ref.Verify(append(body, ' '), h); err == nil {
		t.Fatal("a changed body verified")
	}
	h2 := h.Clone()
	h2.Set(stdwebhook.HeaderID, "msg_2")
	if err := ref.Verify(body, h2); err == nil {
		t.Fatal("a changed message id verified")
	}

	// During a secret rotation both signatures are sent; a receiver
	// holding either secret accepts.
	next, _ := stdwebhook.NewSecret(rand.Reader)
	h3 := http.Header{}
	if err := stdwebhook.SetHeaders(h3, "msg_3", now, body, next, secret); err != nil {
		t.Fatal(err)
	}
	refNext, _ := standardwebhooks.NewWebhook(string(next))
	for name, wh := range map[string]*standardwebhooks.Webhook{"old": ref, "new": refNext} {
		if err := wh.Verify(body, h3); err != nil {
			t.Fatalf("receiver with the %s secret refused: %v", name, err)
		}
	}
}

func TestSecretValidation(t *testing.T) {
	for _, bad := range []stdwebhook.Secret{"", "whsec_", "abc", "whsec_!!!", "whsec_" + "AAAA", stdwebhook.Secret("whsec_" + strings.Repeat("A", 100))} {
		if bad.Validate() == nil {
			t.Errorf("%q accepted", bad)
		}
		if _, err := bad.Sign("m", time.Now(), nil); err == nil {
			t.Errorf("%q signed", bad)
		}
	}
	if _, err := stdwebhook.NewSecret(iotest.ErrReader(bytes.ErrTooLarge)); err == nil {
		t.Fatal("a failing random source made a secret")
	}
	if err := stdwebhook.SetHeaders(http.Header{}, "m", time.Now(), nil); err == nil {
		t.Fatal("signed with no secret")
	}
}
