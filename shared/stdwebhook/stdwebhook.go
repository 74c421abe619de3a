// Package stdwebhook signs outgoing webhooks as the Standard Webhooks
// specification defines (https://www.standardwebhooks.com): a secret
// "whsec_" + base64 of random bytes, and on every delivery the headers
// webhook-id, webhook-timestamp (Unix seconds) and webhook-signature
// ("v1," + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"). See
// docs/security.md, "Webhooks".
package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The header names the specification fixes.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// secretBytes is the size of a new secret (the specification asks for
// 24 to 64 bytes).
const secretBytes = 32

// Secret is a signing secret as shown to its owner once: "whsec_" + base64.
type Secret string

// NewSecret draws a new secret from random (crypto/rand.Reader in
// production).
func NewSecret(random io.Reader) (Secret, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("stdwebhook: drawing a secret: %w", err)
	}
	return Secret(SecretPrefix + base64.StdEncoding.EncodeToString(b)), nil
}

// key returns the secret's bytes.
func (s Secret) key() ([]byte, error) {
	rest, ok := strings.CutPrefix(string(s), SecretPrefix)
	if !ok {
		return nil, errors.New("stdwebhook: a secret starts with " + SecretPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("stdwebhook: secret is not base64: %w", err)
	}
	if len(b) < 24 || len(b) > 64 {
		return nil, fmt.Errorf("stdwebhook: a secret holds 24 to 64 bytes, not %d", len(b))
	}
	return b, nil
}

// Validate reports whether s is a well-formed secret.
func (s Secret) Validate() error {
	_, err := s.key()
	return err
}

// Sign returns the webhook-signature value of one delivery of body with
// the message id (the same for every retry of one event) at the instant
// at (sent as Unix seconds).
func (s Secret) Sign(id string, at time.Time, body []byte) (string, error) {
	key, err := s.key()
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, at.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// SetHeaders signs body and sets the three headers on h. While a secret is
// being rotated, pass the new and the previous secret: the signature header
// then carries both signatures, space-separated, as the specification
// allows, so receivers holding either accept the delivery.
func SetHeaders(h http.Header, id string, at time.Time, body []byte, secrets ...Secret) error {
	if len(secrets) == 0 {
		return errors.New("stdwebhook: no secret to sign with")
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := s.Sign(id, at, body)
		if err != nil {
			return err
		}
		sigs = append(sigs, sig)
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return nil
}
