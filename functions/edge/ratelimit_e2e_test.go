package main

import (
	"io"
	"net/http"
	"strconv"
	"testing"
)

// TestAuthFailureLimitFlags: `serve --auth-failure-burst/--auth-failure-rate`
// reach the guard of the real binary: after the burst of 401s the address
// gets 429 rate_limited with Retry-After, even with a valid token.
func TestAuthFailureLimitFlags(t *testing.T) {
	data := t.TempDir()
	_, _, owner := binary{t: t, flags: []string{"--data", data}}.bootstrap("Acme")
	base, _ := binary{t: t, flags: []string{"--data", data, "--auth-failure-burst", "2", "--auth-failure-rate", "0.01"}}.serve()
	get := func(tok string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", base+"/v1/permissions", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get(owner); res.StatusCode != http.StatusOK {
		t.Fatalf("valid token before any failure: %d", res.StatusCode)
	}
	for i := range 2 {
		if res := get("dotenv_wrong"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d within the burst: %d, want 401", i+1, res.StatusCode)
		}
	}
	for _, tok := range []string{"dotenv_wrong", owner} {
		res := get(tok)
		secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if res.StatusCode != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 100 {
			t.Fatalf("past the burst: %d with Retry-After %q, want 429 with 1 to 100 s", res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
}
