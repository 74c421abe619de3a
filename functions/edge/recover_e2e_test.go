package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// recoverKey runs `edge recover --organization org` and returns its exit
// status, its one JSON object (when it succeeded) and its stderr.
func (b binary) recover(org string) (int, map[string]string, string) {
	b.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := b.command(context.Background(), "recover", "--organization", org)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), nil, stderr.String()
	case err != nil:
		b.t.Fatalf("edge recover: %v", err)
	}
	out := printedJSON(b.t, stdout.Bytes())
	if strings.Contains(stderr.String(), out["token"]) {
		b.t.Fatal("recover logged the token")
	}
	return 0, out, stderr.String()
}

// lockOut checks the state recovery is for: the organization's only owner
// key cannot be removed through the API (409 last_owner_key), so when its
// token is lost (the tests stop using it from here on, except to prove it
// is dead after recovery) nobody can manage the organization any more.
func lockOut(t *testing.T, c client, ownerID, owner string) {
	t.Helper()
	c.must(409, "DELETE", "/v1/api-keys/"+ownerID, owner, "")
}

// retire deletes the lost owner key with the recovery token (allowed now
// that the recovery key is another owner) and checks its token is dead.
func retire(t *testing.T, c client, ownerID, owner string, rec map[string]string) {
	t.Helper()
	c.must(204, "DELETE", "/v1/api-keys/"+ownerID, rec["token"], "")
	c.must(401, "GET", "/v1/api-keys", owner, "")
}

// wantRecovered checks that the recovery key works: it lists the
// organization's keys, sees itself as an allow-all key named "Recovery
// key", and can create keys again; the audit trail records the recovery.
func wantRecovered(t *testing.T, c client, org string, rec map[string]string) {
	t.Helper()
	if rec["organization_id"] != org || !strings.HasPrefix(rec["key_id"], "key_") {
		t.Fatalf("recover printed organization %q, key %q; want organization %s", rec["organization_id"], rec["key_id"], org)
	}
	tok := rec["token"]
	if v := c.verify(tok, "", ""); v.s("code") != "ok" {
		t.Fatalf("the recovery token does not verify: %s", v.raw)
	}
	shown := c.must(200, "GET", "/v1/api-keys/"+rec["key_id"], tok, "")
	if shown.s("name") != "Recovery key" || shown.body["allow_all"] != true || shown.body["expires_at"] != nil {
		t.Fatalf("recovery key: %s", shown.raw)
	}
	c.must(201, "POST", "/v1/api-keys", tok, `{"name":"after recovery","preset":"read-only","expiration":"30d"}`)
	// The recovery is in the audit trail, by the system, naming the key.
	trail := c.must(200, "GET", "/v1/audit-events?action=organization.recovered", tok, "")
	items, _ := trail.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("organization.recovered events: %s", trail.raw)
	}
	ev, _ := items[0].(map[string]any)
	actor, _ := ev["actor"].(map[string]any)
	changes, _ := ev["changes"].(map[string]any)
	keyChange, _ := changes["recovery_key_id"].(map[string]any)
	if actor["type"] != "system" || actor["name"] != "recovery" || keyChange["to"] != rec["key_id"] || strings.Contains(trail.raw, tok) {
		t.Errorf("organization.recovered event: %s", trail.raw)
	}
}

func TestRecoverEmbedded(t *testing.T) {
	b := binary{t: t, flags: []string{"--data", t.TempDir()}}
	org, ownerID, owner := b.bootstrap("Locked out")
	p := b.start(serveFlags...)
	lockOut(t, client{t: t, base: p.listening(t)}, ownerID, owner)

	// While serve holds the store, recover says so (and does not wait 5 s).
	if code, _, stderr := b.recover(org); code != 1 || !strings.Contains(stderr, "in use by another edge process") {
		t.Fatalf("recover while serving: exit %d\n%s", code, stderr)
	}
	p.stop(t)

	if code, _, stderr := b.recover("org_0000000000000000"); code != 1 || !strings.Contains(stderr, "no organization org_0000000000000000") {
		t.Fatalf("recover of an unknown organization: exit %d\n%s", code, stderr)
	}
	code, rec, stderr := b.recover(org)
	if code != 0 {
		t.Fatalf("recover: exit %d\n%s", code, stderr)
	}
	p = b.start(serveFlags...)
	c := client{t: t, base: p.listening(t)}
	wantRecovered(t, c, org, rec)
	if tokenPattern.MatchString(p.out.String()) {
		t.Fatal("a restart after recover printed a new owner token")
	}
	retire(t, c, ownerID, owner, rec)
	p.stop(t)
}

// recoverDynamoDB is the lock-out and recovery on a DynamoDB table; it runs
// as a subtest of TestLifecycleDynamoDB, on the same emulator.
func recoverDynamoDB(t *testing.T, b binary) {
	org, ownerID, owner := b.bootstrap("Locked out")
	p := b.start(serveFlags...)
	c := client{t: t, base: p.listening(t)}
	lockOut(t, c, ownerID, owner)

	if code, _, stderr := b.recover("org_0000000000000000"); code != 1 || !strings.Contains(stderr, "no organization org_0000000000000000") {
		t.Fatalf("recover of an unknown organization: exit %d\n%s", code, stderr)
	}
	// No file lock on DynamoDB: recover while serve runs, and the running
	// server accepts the new key at once.
	code, rec, stderr := b.recover(org)
	if code != 0 {
		t.Fatalf("recover: exit %d\n%s", code, stderr)
	}
	wantRecovered(t, c, org, rec)
	retire(t, c, ownerID, owner, rec)
	p.stop(t)
}
