package secretscan_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/secretscan"
)

// signer is a test stand-in for GitHub: its own P-256 key, published under
// an identifier, signing bodies the way GitHub does (ASN.1, base64).
type signer struct {
	id   string
	priv *ecdsa.PrivateKey
}

func newSigner(t *testing.T, id string) signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{id: id, priv: priv}
}

func (s signer) sign(t *testing.T, body []byte) string {
	t.Helper()
	d := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.priv, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// document is GitHub's key document publishing the signers' keys.
func document(t *testing.T, ss ...signer) []byte {
	t.Helper()
	type key struct {
		KeyIdentifier string `json:"key_identifier"`
		Key           string `json:"key"`
		IsCurrent     bool   `json:"is_current"`
	}
	var d struct {
		PublicKeys []key `json:"public_keys"`
	}
	for i, s := range ss {
		d.PublicKeys = append(d.PublicKeys, key{s.id, pemOf(t, &s.priv.PublicKey), i == 0})
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publisher serves a key document that the test can change, counting
// fetches.
type publisher struct {
	doc     atomic.Pointer[[]byte]
	fetches atomic.Int32
	status  atomic.Int32
}

func (p *publisher) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	p.fetches.Add(1)
	if s := p.status.Load(); s != 0 {
		w.WriteHeader(int(s))
		return
	}
	_, _ = w.Write(*p.doc.Load())
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSet(t *testing.T, ss ...signer) (*secretscan.KeySet, *publisher, *clock) {
	t.Helper()
	p := &publisher{}
	d := document(t, ss...)
	p.doc.Store(&d)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	src := secretscan.URLSource{URL: srv.URL, Client: &http.Client{Timeout: 5 * time.Second}}
	return secretscan.NewKeySet(src, time.Hour, c.now, slog.New(slog.NewTextHandler(io.Discard, nil))), p, c
}

func TestVerifyRefusesWhatGitHubDidNotSign(t *testing.T) {
	gh := newSigner(t, "gh-current")
	other := newSigner(t, "gh-current") // same identifier, another key
	set, _, _ := newSet(t, gh)
	body := []byte(`[{"token":"dotenv_x","type":"dotenv_api_key","url":"https://github.com/o/r/blob/x","source":"content"}]`)
	good := gh.sign(t, body)
	ctx := context.Background()
	if err := set.Verify(ctx, gh.id, good, body); err != nil {
		t.Fatalf("a report GitHub signed was refused: %v", err)
	}
	for _, tc := range []struct {
		name, id, sig string
		body          []byte
	}{
		{"no identifier", "", good, body},
		{"no signature", gh.id, "", body},
		{"unknown identifier", "gh-unknown", good, body},
		{"signature not base64", gh.id, "%%%", body},
		{"signature of another key", gh.id, other.sign(t, body), body},
		{"body changed after signing", gh.id, good, append([]byte(" "), body...)},
		{"signature of another body", gh.id, gh.sign(t, []byte("[]")), body},
		{"truncated signature", gh.id, good[:len(good)/2], body},
		{"oversized signature", gh.id, base64.StdEncoding.EncodeToString(make([]byte, 4096)), body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := set.Verify(ctx, tc.id, tc.sig, tc.body)
			if !errors.Is(err, secretscan.ErrUnauthenticated) {
				t.Fatalf("want ErrUnauthenticated, got %v", err)
			}
		})
	}
}

func TestKeySetFollowsGitHubsRotation(t *testing.T) {
	old, next := newSigner(t, "gh-old"), newSigner(t, "gh-next")
	set, pub, clk := newSet(t, old)
	ctx := context.Background()
	body := []byte(`[]`)
	if err := set.Verify(ctx, old.id, old.sign(t, body), body); err != nil {
		t.Fatal(err)
	}
	// GitHub publishes a new key: a report signed with it refetches once.
	d := document(t, next, old)
	pub.doc.Store(&d)
	clk.t = clk.t.Add(secretscan.MinRefetch)
	if err := set.Verify(ctx, next.id, next.sign(t, body), body); err != nil {
		t.Fatalf("a report signed with GitHub's new key was refused: %v", err)
	}
	// Unknown identifiers refetch at most once per MinRefetch.
	before := pub.fetches.Load()
	for range 5 {
		if err := set.Verify(ctx, "gh-bogus", next.sign(t, body), body); !errors.Is(err, secretscan.ErrUnauthenticated) {
			t.Fatalf("unknown identifier: %v", err)
		}
	}
	if got := pub.fetches.Load() - before; got != 0 {
		t.Fatalf("unknown identifiers within MinRefetch of a fetch refetched %d times", got)
	}
	// GitHub drops the old key: after the refresh interval it is stale.
	d = document(t, next)
	pub.doc.Store(&d)
	clk.t = clk.t.Add(time.Hour)
	if err := set.Verify(ctx, old.id, old.sign(t, body), body); !errors.Is(err, secretscan.ErrUnauthenticated) {
		t.Fatalf("a report signed with a key GitHub withdrew: %v", err)
	}
	// A failing refresh keeps the last good set.
	pub.status.Store(http.StatusBadGateway)
	clk.t = clk.t.Add(2 * time.Hour)
	if err := set.Verify(ctx, next.id, next.sign(t, body), body); err != nil {
		t.Fatalf("a failed refresh dropped the known keys: %v", err)
	}
}

// TestUnknownIdentifiersCannotExhaustGitHubsLimit: a flood of reports
// naming identifiers GitHub never published (anyone may send them, no
// valid signature needed) fetches the key document at most once per
// MinRefetch — 12 an hour, under the 60 an hour GitHub allows an
// unauthenticated client — and so do retries after a failed fetch.
func TestUnknownIdentifiersCannotExhaustGitHubsLimit(t *testing.T) {
	gh := newSigner(t, "gh")
	set, pub, clk := newSet(t, gh)
	ctx := context.Background()
	body := []byte(`[]`)
	if err := set.Verify(ctx, gh.id, gh.sign(t, body), body); err != nil {
		t.Fatal(err)
	}
	// An hour of requests, ten a minute, each naming a new identifier.
	for i := range 600 {
		clk.t = clk.t.Add(6 * time.Second)
		if err := set.Verify(ctx, fmt.Sprintf("gh-bogus-%d", i), gh.sign(t, body), body); !errors.Is(err, secretscan.ErrUnauthenticated) {
			t.Fatalf("unknown identifier: %v", err)
		}
	}
	// 12 refetches for unknown identifiers; the scheduled hourly refresh
	// may be one of them or one more.
	if got := pub.fetches.Load() - 1; got < 12 || got > 13 {
		t.Fatalf("an hour of unknown identifiers fetched the key document %d times, want 12 (13 with the hourly refresh)", got)
	}
	// GitHub failing: retries are held to the floor too, and the known
	// key keeps verifying from the last good set.
	pub.status.Store(http.StatusForbidden)
	before := pub.fetches.Load()
	for i := range 100 {
		clk.t = clk.t.Add(6 * time.Second)
		_ = set.Verify(ctx, fmt.Sprintf("gh-other-%d", i), gh.sign(t, body), body)
		if err := set.Verify(ctx, gh.id, gh.sign(t, body), body); err != nil {
			t.Fatalf("the known key while GitHub fails: %v", err)
		}
	}
	if got, limit := pub.fetches.Load()-before, int32(100*6*time.Second/secretscan.MinRefetch)+1; got > limit {
		t.Fatalf("10 minutes of requests while GitHub fails fetched %d times, want at most %d", got, limit)
	}
}

func TestKeySetWithoutAnyKeyFailsClosed(t *testing.T) {
	gh := newSigner(t, "gh")
	set, pub, _ := newSet(t, gh)
	pub.status.Store(http.StatusInternalServerError)
	body := []byte(`[]`)
	err := set.Verify(context.Background(), gh.id, gh.sign(t, body), body)
	if err == nil || errors.Is(err, secretscan.ErrUnauthenticated) {
		t.Fatalf("with no key set the report must fail as unavailable, got %v", err)
	}
}

func TestFileSource(t *testing.T) {
	gh := newSigner(t, "gh")
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, document(t, gh), 0o600); err != nil {
		t.Fatal(err)
	}
	set := secretscan.NewKeySet(secretscan.FileSource(path), time.Hour, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	body := []byte(`[{"token":"t","type":"x","url":"","source":"content"}]`)
	if err := set.Verify(context.Background(), gh.id, gh.sign(t, body), body); err != nil {
		t.Fatal(err)
	}
}

func TestParseKeysRefusesWhatIsNotAP256Key(t *testing.T) {
	gh := newSigner(t, "gh")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := pemOf(t, &gh.priv.PublicKey)
	doc := func(entries ...[2]string) string {
		var parts []string
		for _, e := range entries {
			b, _ := json.Marshal(map[string]any{"key_identifier": e[0], "key": e[1], "is_current": true})
			parts = append(parts, string(b))
		}
		return `{"public_keys":[` + strings.Join(parts, ",") + `]}`
	}
	for _, tc := range []struct{ name, doc string }{
		{"not JSON", `{`},
		{"no keys", `{"public_keys":[]}`},
		{"empty identifier", doc([2]string{"", good})},
		{"duplicate identifier", doc([2]string{"a", good}, [2]string{"a", good})},
		{"not PEM", doc([2]string{"a", "MFkw"})},
		{"RSA key", doc([2]string{"a", pemOf(t, &rsaKey.PublicKey)})},
		{"P-384 key", doc([2]string{"a", pemOf(t, &p384.PublicKey)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := secretscan.ParseKeys([]byte(tc.doc)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	keys, err := secretscan.ParseKeys([]byte(doc([2]string{"a", good})))
	if err != nil || len(keys) != 1 {
		t.Fatalf("a P-256 key: %v %v", keys, err)
	}
}

func TestParseReportAndFeedback(t *testing.T) {
	ms, err := secretscan.ParseReport([]byte(`[{"token":"dotenv_abc","type":"dotenv_api_key","url":"https://x","source":"commit"}]`))
	if err != nil || len(ms) != 1 || ms[0].Source != "commit" {
		t.Fatalf("%+v %v", ms, err)
	}
	for _, bad := range []string{`{}`, `null`, `[`, `"x"`, "[" + strings.Repeat(`{},`, secretscan.MaxMatches) + `{}]`} {
		if _, err := secretscan.ParseReport([]byte(bad)); err == nil {
			t.Errorf("report %.40q accepted", bad)
		}
	}
	f := secretscan.FeedbackFor(ms[0], true)
	sum := sha256.Sum256([]byte("dotenv_abc"))
	if f.Label != secretscan.TruePositive || f.TokenType != "dotenv_api_key" || f.TokenHash != hex.EncodeToString(sum[:]) {
		t.Fatalf("%+v", f)
	}
	if secretscan.FeedbackFor(ms[0], false).Label != secretscan.FalsePositive {
		t.Fatal("a dead token labelled true positive")
	}
	b, _ := json.Marshal(f)
	if strings.Contains(string(b), "dotenv_abc") {
		t.Fatal("the feedback carries the raw token")
	}
}
