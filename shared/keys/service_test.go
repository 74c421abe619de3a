package keys_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
)

// countingStore counts the key writes that reach the store.
type countingStore struct {
	*bolt.Store
	updates atomic.Int64
}

func (c *countingStore) UpdateKey(ctx context.Context, k *keys.Key, expected int64, ev audit.Event) error {
	c.updates.Add(1)
	return c.Store.UpdateKey(ctx, k, expected, ev)
}

// TestNoOpEditWritesNothing: an edit that changes nothing (same name, same
// normalized access, same expiry) does not reach the store and keeps the
// version; a real change does.
func TestNoOpEditWritesNothing(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	svc := keys.NewService(cs, st, authz.NewCatalog(), token.NewGenerator(), func() time.Time { return now }, keys.Limits{})
	ctx := context.Background()
	_, owner, err := svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	caller := authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	name, never, ro := "k", "never", authz.PresetReadOnly
	c, err := svc.Create(ctx, caller, keys.Spec{Name: &name, Preset: &ro, Expiration: &never})
	if err != nil {
		t.Fatal(err)
	}
	other, perms := "k2", []keys.GrantInput{{Permission: "secrets:read"}, {Permission: "secrets:read"}}
	tests := []struct {
		name    string
		spec    keys.Spec
		writes  int64
		version int64
	}{
		{"same name", keys.Spec{Name: &name}, 0, 1},
		{"same preset", keys.Spec{Preset: &ro}, 0, 1},
		{"same expiry", keys.Spec{Expiration: &never}, 0, 1},
		{"nothing", keys.Spec{}, 0, 1},
		{"new name", keys.Spec{Name: &other}, 1, 2},
		{"new grants", keys.Spec{PermissionsSet: true, Permissions: perms}, 1, 3},
		{"same grants, duplicated", keys.Spec{PermissionsSet: true, Permissions: perms[:1]}, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cs.updates.Load()
			k, _, err := svc.Update(ctx, caller, c.Key.ID, tt.spec, keys.AnyVersion)
			if err != nil {
				t.Fatal(err)
			}
			if got := cs.updates.Load() - before; got != tt.writes || k.Version != tt.version {
				t.Fatalf("%d writes, version %d; want %d writes, version %d", got, k.Version, tt.writes, tt.version)
			}
		})
	}
}
