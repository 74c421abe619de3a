//go:build remote

package main

import (
	"os"
	"testing"
)

// TestLifecycleRemote walks the lifecycle against a deployed API (AWS or
// LocalStack), built only with -tags remote (make e2e-local). It needs
// E2E_BASE_URL, and two allow-all tokens of different organizations,
// E2E_OWNER_TOKEN and E2E_OTHER_OWNER_TOKEN, with E2E_ORGANIZATION_ID the
// first one's organization (from `edge bootstrap` on the deployed table).
func TestLifecycleRemote(t *testing.T) {
	need := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			t.Fatalf("%s must be set for the remote end-to-end run", k)
		}
		return v
	}
	walk(t, client{t: t, base: need("E2E_BASE_URL")}, need("E2E_ORGANIZATION_ID"), need("E2E_OWNER_TOKEN"), need("E2E_OTHER_OWNER_TOKEN"), nil)
}
