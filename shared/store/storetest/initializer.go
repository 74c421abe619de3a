package storetest

import (
	"errors"
	"github.com/dotenv/apikeys/shared/audit"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
)

// InitStore is an engine with an initialization marker.
type InitStore interface {
	store.Store
	store.Initializer
}

// RunInitializer holds an engine's initialization marker to its contract
// (keys.Initializer). Unlike Run it needs an empty store per subtest: fresh
// returns a new one, which the caller closes (t.Cleanup).
//
// What it holds engines to:
//   - An empty store is not initialized; one holding an organization but no
//     key (a first start that died between two writes of an older build) is
//     not either; one holding a key is.
//   - Initialize stores the organization and the owner key (Version 1,
//     listed) and marks the store; afterwards Initialize answers
//     fault.ErrConflict.
//   - A refused Initialize (initialized store, existing organization id, an
//     owner key of another organization) writes nothing at all.
func RunInitializer(t *testing.T, fresh func(t *testing.T) InitStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, InitStore)
	}{
		{"Empty", testInitEmpty},
		{"Initialize", testInitialize},
		{"Twice", testInitTwice},
		{"ExistingOrganization", testInitExistingOrg},
		{"OwnerOfAnotherOrganization", testInitForeignOwner},
		{"OrganizationWithoutKey", testInitOrgWithoutKey},
		{"KeysWithoutMarker", testInitKeysWithoutMarker},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

// ownerOf returns a new organization (not stored) and its allow-all owner
// key.
func ownerOf() (*directory.Organization, *keys.Key) {
	at := now()
	o := &directory.Organization{ID: newID("org_"), Name: "first " + randomString(6), CreatedAt: at, UpdatedAt: at}
	k := newKey(o.ID, at)
	k.Name, k.CreatedBy, k.Access = keys.OwnerKeyName, "", authz.Access{AllowAll: true}
	return o, k
}

func wantInitialized(t *testing.T, s InitStore, want bool) {
	t.Helper()
	got, err := s.Initialized(t.Context())
	if err != nil {
		t.Fatalf("Initialized: %v", err)
	}
	if got != want {
		t.Fatalf("Initialized = %v, want %v", got, want)
	}
}

// wantNothingOf fails when org or key k was stored.
func wantNothingOf(t *testing.T, s InitStore, org string, k *keys.Key) {
	t.Helper()
	if _, err := s.GetOrganization(t.Context(), org); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetOrganization(%s) after a refused Initialize: %v, want not found", org, err)
	}
	if _, err := s.GetKey(t.Context(), k.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetKey(%s) after a refused Initialize: %v, want not found", k.ID, err)
	}
	p, err := s.ListKeys(t.Context(), k.OrganizationID, directory.ListOptions{})
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("ListKeys(%s) after a refused Initialize: %d items, %v; want none", k.OrganizationID, len(p.Items), err)
	}
}

func testInitEmpty(t *testing.T, s InitStore) {
	wantInitialized(t, s, false)
}

func testInitialize(t *testing.T, s InitStore) {
	o, k := ownerOf()
	if err := s.Initialize(t.Context(), o, k, []audit.Event{ev()}); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	wantInitialized(t, s, true)
	got, err := s.GetOrganization(t.Context(), o.ID)
	if err != nil || got.Name != o.Name || !got.CreatedAt.Equal(o.CreatedAt) {
		t.Fatalf("GetOrganization after Initialize = %+v, %v; want %+v", got, err, o)
	}
	stored := mustGetKey(t, s, k.ID)
	if stored.Version != 1 || !stored.AllowAll || stored.OrganizationID != o.ID || stored.SecretDigest != k.SecretDigest || stored.Name != k.Name {
		t.Fatalf("owner key after Initialize = %+v", stored)
	}
	p, err := s.ListKeys(t.Context(), o.ID, directory.ListOptions{})
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != k.ID {
		t.Fatalf("ListKeys after Initialize: %d items, %v; want the owner key", len(p.Items), err)
	}
}

func testInitTwice(t *testing.T, s InitStore) {
	o, k := ownerOf()
	if err := s.Initialize(t.Context(), o, k, []audit.Event{ev()}); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	o2, k2 := ownerOf()
	wantErr(t, "second Initialize", s.Initialize(t.Context(), o2, k2, []audit.Event{ev()}), fault.ErrConflict)
	wantNothingOf(t, s, o2.ID, k2)
	wantInitialized(t, s, true)
}

func testInitExistingOrg(t *testing.T, s InitStore) {
	o := newOrg(t, s)
	_, k := ownerOf()
	k.OrganizationID = o.ID
	wantErr(t, "Initialize with an existing organization", s.Initialize(t.Context(), o, k, []audit.Event{ev()}), fault.ErrConflict)
	if _, err := s.GetKey(t.Context(), k.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetKey after a refused Initialize: %v, want not found", err)
	}
	wantInitialized(t, s, false)
}

func testInitForeignOwner(t *testing.T, s InitStore) {
	o, k := ownerOf()
	k.OrganizationID = newID("org_")
	if err := s.Initialize(t.Context(), o, k, []audit.Event{ev()}); fault.CodeOf(err) != fault.CodeValidation {
		t.Fatalf("Initialize with another organization's key: %v, want a %s error", err, fault.CodeValidation)
	}
	wantNothingOf(t, s, o.ID, k)
	wantInitialized(t, s, false)
}

func testInitOrgWithoutKey(t *testing.T, s InitStore) {
	newOrg(t, s)
	wantInitialized(t, s, false)
	o, k := ownerOf()
	if err := s.Initialize(t.Context(), o, k, []audit.Event{ev()}); err != nil {
		t.Fatalf("Initialize after an organization without key: %v", err)
	}
	wantInitialized(t, s, true)
}

func testInitKeysWithoutMarker(t *testing.T, s InitStore) {
	o := newOrg(t, s)
	mustCreateKey(t, s, newKey(o.ID, now()))
	wantInitialized(t, s, true)
	o2, k2 := ownerOf()
	wantErr(t, "Initialize on a store holding keys", s.Initialize(t.Context(), o2, k2, []audit.Event{ev()}), fault.ErrConflict)
	wantNothingOf(t, s, o2.ID, k2)
}
