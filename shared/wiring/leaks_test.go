package wiring_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/secretscan"
	"github.com/dotenv/apikeys/shared/secretscan/secretscantest"
)

// githubSigner is the test's GitHub: a P-256 key published in a key
// document the API reads, signing reports as GitHub does.
type githubSigner struct {
	*secretscantest.Signer
	// path is the key document's file, once keySet wrote it.
	path string
}

func newGitHubSigner(t testing.TB) *githubSigner {
	t.Helper()
	s, err := secretscantest.NewSigner("test-github-key")
	if err != nil {
		t.Fatal(err)
	}
	return &githubSigner{Signer: s}
}

// keySet writes the signer's key document to a file and reads it as the
// API does.
func (g *githubSigner) keySet(t testing.TB, now func() time.Time) *secretscan.KeySet {
	t.Helper()
	g.path = filepath.Join(t.TempDir(), "github-keys.json")
	g.publish(t)
	return secretscan.NewKeySet(secretscan.FileSource(g.path), time.Hour, now, slog.New(slog.DiscardHandler))
}

// publish writes the key document holding the signer's current key only.
func (g *githubSigner) publish(t testing.TB) {
	t.Helper()
	doc, err := secretscantest.Document(g.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(g.path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
}

// withdraw publishes a new key in place of the current one, as GitHub does
// when it withdraws a key, and returns the withdrawn one, which still
// signs.
func (g *githubSigner) withdraw(t testing.TB) *githubSigner {
	t.Helper()
	old := &githubSigner{Signer: g.Signer}
	next, err := secretscantest.NewSigner(g.ID + "-next")
	if err != nil {
		t.Fatal(err)
	}
	g.Signer = next
	g.publish(t)
	return old
}

func (g *githubSigner) sign(t testing.TB, body []byte) string {
	t.Helper()
	sig, err := g.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// postGitHub sends a report with the given signature headers and returns
// the status and raw body.
func (e *env) postGitHub(body []byte, keyID, sig string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/leaks/github", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if keyID != "" {
		req.Header.Set("Github-Public-Key-Identifier", keyID)
	}
	if sig != "" {
		req.Header.Set("Github-Public-Key-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func hashOf(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// TestLeakedTokenIsRevokedAtOnce: a live token reported by GitHub's signed
// report or by anyone holding it is refused on the next request (guard and
// verify say revoked), the key stays listed as revoked with the report's
// details, and rotating it gives a working token again.
func TestLeakedTokenIsRevokedAtOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		id, tok := e.newKey(`{"name":"CI","preset":"read-only","expiration":"30d"}`)
		if r := e.do("GET", "/v1/permissions", tok, "", nil); r.status != 200 {
			t.Fatalf("the key works before the report: %d", r.status)
		}
		_, other := e.newKey(`{"name":"other","preset":"read-only","expiration":"30d"}`)

		// Unsigned or wrongly signed reports are refused and process nothing.
		body, _ := json.Marshal([]map[string]string{{"token": tok, "type": "dotenv_api_key", "url": "https://github.com/o/r/blob/main/.env", "source": "content"}})
		for name, h := range map[string][2]string{
			"unsigned":                  {"", ""},
			"unknown identifier":        {"someone-else", e.github.sign(t, body)},
			"signature of another body": {e.github.ID, e.github.sign(t, []byte("[]"))},
		} {
			if status, b := e.postGitHub(body, h[0], h[1]); status != 401 || !strings.Contains(string(b), `"code":"unauthenticated"`) {
				t.Fatalf("%s report: %d %s", name, status, b)
			}
		}
		if r := e.do("GET", "/v1/permissions", tok, "", nil); r.status != 200 {
			t.Fatalf("an unauthenticated report revoked the key: %d", r.status)
		}

		// GitHub's signed report revokes the live token; the answer labels
		// each match by the token's hash, never echoing it.
		junk := "dotenv_notarealtoken"
		body, _ = json.Marshal([]map[string]string{
			{"token": tok, "type": "dotenv_api_key", "url": "https://github.com/o/r/blob/main/.env", "source": "content"},
			{"token": junk, "type": "dotenv_api_key", "url": "", "source": "commit"},
		})
		status, b := e.postGitHub(body, e.github.ID, e.github.sign(t, body))
		if status != 200 {
			t.Fatalf("signed report: %d %s", status, b)
		}
		if strings.Contains(string(b), tok) {
			t.Fatal("the answer to GitHub carries the raw token")
		}
		var fb []secretscan.Feedback
		if err := json.Unmarshal(b, &fb); err != nil || len(fb) != 2 {
			t.Fatalf("feedback: %s", b)
		}
		if fb[0].TokenHash != hashOf(tok) || fb[0].Label != "true_positive" || fb[1].TokenHash != hashOf(junk) || fb[1].Label != "false_positive" {
			t.Fatalf("feedback: %+v", fb)
		}
		r := e.do("GET", "/v1/permissions", tok, "", nil)
		if r.status != 401 || !strings.Contains(r.str("detail"), "leaked") {
			t.Fatalf("the revoked token on the next request: %d %s", r.status, r.raw)
		}
		if c := e.verifyCode(tok); c != "revoked" {
			t.Fatalf("verify of the revoked token: %s", c)
		}
		k := e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil)
		rev, _ := k.body["revocation"].(map[string]any)
		if k.str("status") != "revoked" || rev["reason"] != "leaked" || rev["reporter"] != "github" || rev["url"] != "https://github.com/o/r/blob/main/.env" || rev["source"] != "content" {
			t.Fatalf("the key after the report: %s", k.raw)
		}
		// The other key is untouched.
		if r := e.do("GET", "/v1/permissions", other, "", nil); r.status != 200 {
			t.Fatalf("another key after the report: %d", r.status)
		}

		// Rotating gives a working token and clears the revocation.
		rot := e.do("POST", "/v1/api-keys/"+id+"/rotate", e.owner, "", nil)
		if rot.status != 200 || rot.str("status") != "active" || rot.body["revocation"] != nil {
			t.Fatalf("rotating the revoked key: %d %s", rot.status, rot.raw)
		}
		fresh := rot.str("token")
		if r := e.do("GET", "/v1/permissions", fresh, "", nil); r.status != 200 {
			t.Fatalf("the rotated token: %d", r.status)
		}
		if c := e.verifyCode(tok); c != "not_found" {
			t.Fatalf("the leaked token after rotation: %s", c)
		}

		// A self-report needs no key and answers the same whatever the
		// token; a live one is revoked.
		answers := map[string]bool{}
		for _, tk := range []string{"not a token", junk, tok, fresh} {
			r := e.do("POST", "/v1/leaks", "", `{"token":"`+tk+`","url":"https://pastebin.example/x","source":"paste"}`, nil)
			if r.status != 202 {
				t.Fatalf("self-report: %d %s", r.status, r.raw)
			}
			answers[r.raw] = true
		}
		if len(answers) != 1 {
			t.Fatalf("self-reports answered differently by token: %v", answers)
		}
		if c := e.verifyCode(fresh); c != "revoked" {
			t.Fatalf("the self-reported token: %s", c)
		}
		k = e.do("GET", "/v1/api-keys/"+id, e.owner, "", nil)
		rev, _ = k.body["revocation"].(map[string]any)
		if rev["reporter"] != "self_report" || rev["source"] != "paste" {
			t.Fatalf("the key after the self-report: %s", k.raw)
		}
		// A malformed self-report is a 400 naming the field.
		if r := e.do("POST", "/v1/leaks", "", `{"url":"x"}`, nil); r.status != 400 || !strings.Contains(r.raw, `"field":"token"`) {
			t.Fatalf("self-report without token: %d %s", r.status, r.raw)
		}
	})
}

// TestAWithdrawnGitHubKeyIsRefused: once the API has refreshed GitHub's
// key document (the refresh interval, an hour), a report signed with a key
// GitHub withdrew is refused 401 through the production router and
// revokes nothing; GitHub's new key is trusted.
func TestAWithdrawnGitHubKeyIsRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		_, tok := e.newKey(`{"name":"CI","preset":"read-only","expiration":"30d"}`)
		body, _ := json.Marshal([]map[string]string{{"token": tok, "type": "dotenv_api_key", "url": "https://github.com/o/r/blob/main/.env", "source": "content"}})
		// The API reads the document while the key is current.
		empty := []byte("[]")
		if status, b := e.postGitHub(empty, e.github.ID, e.github.sign(t, empty)); status != 200 {
			t.Fatalf("a report signed with GitHub's current key: %d %s", status, b)
		}
		stale := e.github.withdraw(t)
		e.clock.Advance(time.Hour + time.Second)
		status, b := e.postGitHub(body, stale.ID, stale.sign(t, body))
		if status != 401 || !strings.Contains(string(b), `"code":"unauthenticated"`) || strings.Contains(string(b), tok) {
			t.Fatalf("a report signed with a withdrawn key: %d %s", status, b)
		}
		if r := e.do("GET", "/v1/permissions", tok, "", nil); r.status != 200 {
			t.Fatalf("a report signed with a withdrawn key revoked the token: %d", r.status)
		}
		if c := e.verifyCode(tok); c != "ok" {
			t.Fatalf("verify after the stale report: %s", c)
		}
		// The same report signed with GitHub's new key is processed.
		if status, b := e.postGitHub(body, e.github.ID, e.github.sign(t, body)); status != 200 || !strings.Contains(string(b), "true_positive") {
			t.Fatalf("the report signed with GitHub's new key: %d %s", status, b)
		}
		if c := e.verifyCode(tok); c != "revoked" {
			t.Fatalf("verify after the report: %s", c)
		}
	})
}

// TestALeakedSoleOwnerKeyLocksTheOrganizationOut: an owner key is revoked
// like any other (the last-owner rule does not hold back a revocation), so
// a leak of an organization's only owner key locks it out until recovery
// (edge recover), whose key can rotate the revoked one back to life.
func TestALeakedSoleOwnerKeyLocksTheOrganizationOut(t *testing.T) {
	e := newEnv(t)
	if r := e.do("POST", "/v1/leaks", "", `{"token":"`+e.owner+`","source":"paste"}`, nil); r.status != 202 {
		t.Fatalf("self-report of the owner token: %d %s", r.status, r.raw)
	}
	if c := e.verifyCode(e.owner); c != "revoked" {
		t.Fatalf("the reported owner token verifies %s, want revoked", c)
	}
	if r := e.do("GET", "/v1/api-keys", e.owner, "", nil); r.status != 401 {
		t.Fatalf("the revoked owner key lists keys: %d", r.status)
	}
	rec, err := e.deps.Keys.Recover(context.Background(), e.orgA)
	if err != nil {
		t.Fatal(err)
	}
	list := e.do("GET", "/v1/api-keys", rec.Token, "", nil)
	if list.status != 200 {
		t.Fatalf("the recovery key lists keys: %d %s", list.status, list.raw)
	}
	var revoked string
	items, _ := list.body["items"].([]any)
	for _, it := range items {
		if k, _ := it.(map[string]any); k["status"] == "revoked" {
			revoked, _ = k["id"].(string)
		}
	}
	if revoked == "" {
		t.Fatalf("the revoked owner key is not listed as revoked: %s", list.raw)
	}
	rot := e.do("POST", "/v1/api-keys/"+revoked+"/rotate", rec.Token, "", nil)
	if rot.status != 200 || rot.str("status") != "active" {
		t.Fatalf("rotating the revoked owner key with the recovery key: %d %s", rot.status, rot.raw)
	}
	if r := e.do("GET", "/v1/api-keys", rot.str("token"), "", nil); r.status != 200 {
		t.Fatalf("the rotated owner token: %d", r.status)
	}
}
