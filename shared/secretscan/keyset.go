// Package secretscan implements the receiving side of GitHub's secret
// scanning partner protocol (docs/security.md, "Leaked tokens"): the
// signature check of a report against GitHub's published secret-scanning
// public keys, the report's body, and the optional answer that labels each
// reported token.
package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrUnauthenticated is wrapped by every refusal of a report's signature:
// missing headers, an unknown key identifier, a malformed or wrong
// signature. Such a report is answered 401 and nothing in it is processed.
var ErrUnauthenticated = errors.New("secretscan: report not authenticated")

// Source fetches the key document GitHub publishes at
// https://api.github.com/meta/public_keys/secret_scanning (or a copy).
type Source interface {
	Fetch(ctx context.Context) ([]byte, error)
}

// maxKeyDocument bounds the key document read from a file or a URL.
const maxKeyDocument = 1 << 20

// FileSource reads the key document from a file.
type FileSource string

// Fetch reads the file.
func (f FileSource) Fetch(context.Context) ([]byte, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return nil, fmt.Errorf("secretscan: reading key file: %w", err)
	}
	if len(b) > maxKeyDocument {
		return nil, fmt.Errorf("secretscan: key file %s is larger than %d bytes", f, maxKeyDocument)
	}
	return b, nil
}

// URLSource fetches the key document over HTTP(S) with Client (which
// should carry a timeout).
type URLSource struct {
	URL    string
	Client *http.Client
}

// Fetch GETs the document; any answer but 200 is an error.
func (u URLSource) Fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("secretscan: key URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := u.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("secretscan: fetching keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("secretscan: fetching keys: %s answered %d", u.URL, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyDocument+1))
	if err != nil {
		return nil, fmt.Errorf("secretscan: reading keys: %w", err)
	}
	if len(b) > maxKeyDocument {
		return nil, fmt.Errorf("secretscan: key document larger than %d bytes", maxKeyDocument)
	}
	return b, nil
}

// keyDocument is the shape GitHub publishes.
type keyDocument struct {
	PublicKeys []struct {
		KeyIdentifier string `json:"key_identifier"`
		Key           string `json:"key"`
		IsCurrent     bool   `json:"is_current"`
	} `json:"public_keys"`
}

// ParseKeys reads a key document: every key must be a PEM "PUBLIC KEY"
// holding an ECDSA P-256 key, and identifiers must be unique and non-empty.
func ParseKeys(doc []byte) (map[string]*ecdsa.PublicKey, error) {
	var d keyDocument
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("secretscan: key document: %w", err)
	}
	out := make(map[string]*ecdsa.PublicKey, len(d.PublicKeys))
	for i, k := range d.PublicKeys {
		if k.KeyIdentifier == "" {
			return nil, fmt.Errorf("secretscan: key %d has no key_identifier", i)
		}
		if _, dup := out[k.KeyIdentifier]; dup {
			return nil, fmt.Errorf("secretscan: key identifier %q appears twice", k.KeyIdentifier)
		}
		block, _ := pem.Decode([]byte(k.Key))
		if block == nil || block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("secretscan: key %q is not a PEM public key", k.KeyIdentifier)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("secretscan: key %q: %w", k.KeyIdentifier, err)
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("secretscan: key %q is not an ECDSA P-256 key", k.KeyIdentifier)
		}
		out[k.KeyIdentifier] = ec
	}
	if len(out) == 0 {
		return nil, errors.New("secretscan: the key document holds no key")
	}
	return out, nil
}

// MinRefetch is the floor between two fetches of the key document that
// requests, rather than the refresh interval, ask for: an identifier the
// set does not hold (GitHub rotating its keys), or a retry after a failed
// fetch. Any caller can send an unknown identifier without a valid
// signature, and GitHub allows an unauthenticated client 60 API requests
// an hour per address, so these fetches stay at 12 an hour at most.
const MinRefetch = 5 * time.Minute

// KeySet holds GitHub's secret-scanning public keys, fetched from a Source
// and refreshed: after the refresh interval has passed since the last
// fetch, and when a report names an identifier the set does not hold —
// never sooner than MinRefetch after the last attempt, whatever requests
// arrive. A key dropped from the document is refused from the next fetch
// on ("stale"). Safe for concurrent use.
type KeySet struct {
	source     Source
	refresh    time.Duration
	minRefetch time.Duration
	now        func() time.Time
	log        *slog.Logger

	mu      sync.Mutex
	keys    map[string]*ecdsa.PublicKey
	fetched time.Time
	// attempted is when the last fetch was tried (succeeded or not).
	attempted time.Time
}

// NewKeySet returns a key set that fetches from source on first use.
// refresh is how long a fetched set is trusted (e.g. 1 hour); unknown
// identifiers and failed fetches refetch at most once per MinRefetch.
func NewKeySet(source Source, refresh time.Duration, now func() time.Time, log *slog.Logger) *KeySet {
	return &KeySet{source: source, refresh: refresh, minRefetch: MinRefetch, now: now, log: log}
}

// key returns the public key named id, fetching the document when the set
// is empty, older than refresh, or lacks id; only the first fetch and the
// refresh of a set fetched successfully are not held to the floor.
func (s *KeySet) key(ctx context.Context, id string) (*ecdsa.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k, ok := s.keys[id]
	if s.due(now, ok) {
		s.attempted = now
		if err := s.fetchLocked(ctx, now); err != nil {
			if s.keys == nil {
				return nil, err
			}
			// Keep serving the last good set; say so.
			s.log.WarnContext(ctx, "secretscan: refreshing GitHub's keys failed; using the last set", "error", err)
		}
		k, ok = s.keys[id]
	}
	if !ok {
		return nil, fmt.Errorf("%w: unknown key identifier", ErrUnauthenticated)
	}
	return k, nil
}

// due reports whether a lookup at now, of an identifier the set holds or
// not (known), fetches the document.
func (s *KeySet) due(now time.Time, known bool) bool {
	if s.attempted.IsZero() {
		return true // the first use
	}
	floor := now.Sub(s.attempted) >= s.minRefetch
	switch {
	case s.keys == nil || s.fetched.Before(s.attempted):
		return floor // the last fetch failed: retry, not sooner than the floor
	case now.Sub(s.fetched) >= s.refresh:
		return true // the scheduled refresh
	default:
		return !known && floor
	}
}

func (s *KeySet) fetchLocked(ctx context.Context, now time.Time) error {
	doc, err := s.source.Fetch(ctx)
	if err != nil {
		return err
	}
	keys, err := ParseKeys(doc)
	if err != nil {
		return err
	}
	s.keys, s.fetched = keys, now
	return nil
}

// Verify checks a report: sig is the Github-Public-Key-Signature header
// (base64 of an ASN.1 ECDSA signature), id the Github-Public-Key-Identifier
// header, body the raw request body. It answers nil, an error wrapping
// ErrUnauthenticated, or another error when the key set cannot be fetched
// at all (the caller answers 503: nothing was processed).
func (s *KeySet) Verify(ctx context.Context, id, sig string, body []byte) error {
	if id == "" || sig == "" {
		return fmt.Errorf("%w: missing signature headers", ErrUnauthenticated)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) > 128 {
		return fmt.Errorf("%w: malformed signature", ErrUnauthenticated)
	}
	pub, err := s.key(ctx, id)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(pub, digest[:], raw) {
		return fmt.Errorf("%w: wrong signature", ErrUnauthenticated)
	}
	return nil
}

// GitHubKeysURL is where GitHub publishes its secret-scanning public keys.
const GitHubKeysURL = "https://api.github.com/meta/public_keys/secret_scanning"

// SourceFor names a key document's location: an http(s) URL, fetched with
// client, or a file path.
func SourceFor(location string, client *http.Client) Source {
	if strings.HasPrefix(location, "https://") || strings.HasPrefix(location, "http://") {
		return URLSource{URL: location, Client: client}
	}
	return FileSource(location)
}
