// Package secretscantest stands in for GitHub's secret scanning in tests:
// P-256 signing keys, the public key document GitHub publishes
// (docs/security.md, "Leaked tokens"), and report signatures as the
// partner protocol defines them (base64 of the ASN.1 ECDSA signature of
// the raw body's SHA-256).
package secretscantest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
)

// Signer is one of GitHub's signing keys.
type Signer struct {
	// ID is the key's identifier (the Github-Public-Key-Identifier header).
	ID string
	// Key is the private key.
	Key *ecdsa.PrivateKey
	// Current is the document's is_current flag.
	Current bool
}

// NewSigner generates a current P-256 signing key named id.
func NewSigner(id string) (*Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("secretscantest: %w", err)
	}
	return &Signer{ID: id, Key: k, Current: true}, nil
}

// Sign returns the Github-Public-Key-Signature of a report's raw body.
func (s *Signer) Sign(body []byte) (string, error) {
	d := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.Key, d[:])
	if err != nil {
		return "", fmt.Errorf("secretscantest: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// PEM is the public half of the key, as the document carries it.
func (s *Signer) PEM() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&s.Key.PublicKey)
	if err != nil {
		return "", fmt.Errorf("secretscantest: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// Document is the public key document listing signers, as GitHub serves
// it: {"public_keys": [{"key_identifier", "key", "is_current"}, ...]}.
func Document(signers ...*Signer) ([]byte, error) {
	type key struct {
		ID      string `json:"key_identifier"`
		Key     string `json:"key"`
		Current bool   `json:"is_current"`
	}
	var doc struct {
		PublicKeys []key `json:"public_keys"`
	}
	doc.PublicKeys = []key{}
	for _, s := range signers {
		p, err := s.PEM()
		if err != nil {
			return nil, err
		}
		doc.PublicKeys = append(doc.PublicKeys, key{ID: s.ID, Key: p, Current: s.Current})
	}
	return json.Marshal(doc)
}
