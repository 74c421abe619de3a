package lambdatest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/dotenv/apikeys/shared/keys"
)

// newOwnerKey creates an allow-all key that never expires (an owner key)
// directly in the store (setup, not under test).
func newOwnerKey(t *testing.T, name string) keys.Created {
	t.Helper()
	c, err := env.deps.Keys.Create(context.Background(), ownerPrincipal(), keys.Spec{
		Name: &name, AllowAll: new(true), Expiration: new("never"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOwnerKeyChangesUnderTheEmulator: deleting or narrowing an owner key
// while another owner exists lists the organization's keys (Query of GSI1)
// and names the other owner as the write's witness (a ConditionCheck in
// the transaction); the edit and delete functions do both within their IAM
// roles (checked after the test, like every call under the emulator).
func TestOwnerKeyChangesUnderTheEmulator(t *testing.T) {
	narrowed := newOwnerKey(t, "owner to narrow")
	r := route{method: "PATCH", resource: "/v1/api-keys/{id}", params: map[string]string{"id": narrowed.Key.ID}, body: map[string]any{"preset": "read-only"}}
	a := gateway(t, env.ownerToken, r)
	want(t, a, http.StatusOK)
	if m := a.json(t); m["allow_all"] != false {
		t.Errorf("narrowed owner key: %s", a.body)
	}
	deleted := newOwnerKey(t, "owner to delete")
	a = gateway(t, env.ownerToken, route{method: "DELETE", resource: "/v1/api-keys/{id}", params: map[string]string{"id": deleted.Key.ID}})
	want(t, a, http.StatusNoContent)
}
