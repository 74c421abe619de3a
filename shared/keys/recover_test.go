package keys_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
)

func newService(t *testing.T) (*keys.Service, *bolt.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "apikeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return keys.NewService(st, st, authz.NewCatalog(), token.NewGenerator(), time.Now, keys.Limits{}), st
}

// wantOperatorKey checks that c is a stored, allow-all, never-expiring key
// of org named name, created by nobody, whose token matches it.
func wantOperatorKey(t *testing.T, st *bolt.Store, c keys.Created, org, name string) {
	t.Helper()
	k, err := st.GetKey(t.Context(), c.Key.ID)
	if err != nil {
		t.Fatalf("GetKey(%s): %v", c.Key.ID, err)
	}
	p, err := token.Parse(c.Token)
	if err != nil || p.KeyID() != k.ID || !p.Matches(k.SecretDigest) {
		t.Fatalf("the returned token is not a token of key %s", k.ID)
	}
	if k.OrganizationID != org || k.Name != name || !k.AllowAll || len(k.Grants) != 0 || !k.ExpiresAt.IsZero() || k.CreatedBy != "" || k.Version != 1 {
		t.Fatalf("key = %+v; want an allow-all, never-expiring %q of %s", k, name, org)
	}
}

func TestRecover(t *testing.T) {
	svc, st := newService(t)
	org, owner, err := svc.Bootstrap(t.Context(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Recover(t.Context(), org.ID)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if c.Key.ID == owner.Key.ID || c.Token == owner.Token {
		t.Fatal("Recover must mint a new key")
	}
	wantOperatorKey(t, st, c, org.ID, keys.RecoveryKeyName)
	// The owner key is left as it is.
	if _, err := st.GetKey(t.Context(), owner.Key.ID); err != nil {
		t.Fatalf("owner key after Recover: %v", err)
	}
}

func TestRecoverRefuses(t *testing.T) {
	svc, st := newService(t)
	tests := []struct {
		name, org string
		code      fault.Code
	}{
		{"unknown organization", "org_0000000000000000", fault.CodeNotFound},
		{"empty id", "", fault.CodeValidation},
		{"prefix only", "org_", fault.CodeValidation},
		{"not an organization id", "team_0000000000000000", fault.CodeValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Recover(t.Context(), tc.org)
			if fault.CodeOf(err) != tc.code {
				t.Fatalf("Recover(%q) = %v, want code %s", tc.org, err, tc.code)
			}
			p, lerr := st.ListKeys(t.Context(), tc.org, directory.ListOptions{})
			if lerr == nil && len(p.Items) != 0 {
				t.Fatalf("a refused Recover stored %d keys", len(p.Items))
			}
		})
	}
}

func TestInitializeAnnouncesThenStores(t *testing.T) {
	svc, st := newService(t)
	var announced keys.Created
	org, c, err := svc.Initialize(t.Context(), st, "My organization", func(o *directory.Organization, c keys.Created) error {
		// Nothing is stored yet when the token is handed out.
		if ok, err := st.Initialized(t.Context()); err != nil || ok {
			t.Errorf("announce: store already initialized (%v, %v)", ok, err)
		}
		announced = c
		return nil
	})
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if announced.Token != c.Token || announced.Key.ID != c.Key.ID {
		t.Fatal("announce was not given the stored key's token")
	}
	wantOperatorKey(t, st, c, org.ID, keys.OwnerKeyName)
	if ok, err := st.Initialized(t.Context()); err != nil || !ok {
		t.Fatalf("after Initialize: Initialized = %v, %v", ok, err)
	}
	_, _, err = svc.Initialize(t.Context(), st, "Again", func(*directory.Organization, keys.Created) error { return nil })
	if !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("second Initialize = %v, want a conflict", err)
	}
}

func TestInitializeStoresNothingWhenAnnounceFails(t *testing.T) {
	svc, st := newService(t)
	boom := errors.New("stdout closed")
	_, _, err := svc.Initialize(t.Context(), st, "My organization", func(*directory.Organization, keys.Created) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Initialize = %v, want the announce error", err)
	}
	if ok, err := st.Initialized(t.Context()); err != nil || ok {
		t.Fatalf("after a failed announce: Initialized = %v, %v", ok, err)
	}
}
