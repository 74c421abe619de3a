package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/store"
)

// bootstrapEvents are an organization.created and a key.created event of
// org, like the ones keys.Service.Bootstrap writes.
func bootstrapEvents(t *testing.T, org *directory.Organization, keyID string) []audit.Event {
	t.Helper()
	return []audit.Event{
		event(t, org.ID, audit.OrganizationCreated, audit.Target{Type: authz.LevelOrganization.String(), ID: org.ID, Name: org.Name}, org.CreatedAt),
		event(t, org.ID, audit.KeyCreated, audit.Target{Type: audit.ActorKey, ID: keyID, Name: "Owner key"}, org.CreatedAt),
	}
}

// wantEvents fails unless org's audit trail holds exactly n events.
func wantEvents(t *testing.T, s store.Store, org string, n int) {
	t.Helper()
	p, err := s.ListEvents(t.Context(), org, audit.Query{Limit: audit.MaxLimit, Now: time.Now()})
	if err != nil || len(p.Items) != n {
		t.Fatalf("ListEvents(%s): %d events, %v; want %d", org, len(p.Items), err, n)
	}
}

// testCreateOrganizationWithOwner: the organization, its owner key and
// their events are one atomic write. A write refused for a taken id (the
// organization's or the key's) leaves nothing of it: no organization, no
// key, no listed key, no event.
func testCreateOrganizationWithOwner(t *testing.T, s store.Store) {
	o, k := ownerOf()
	if err := s.CreateOrganizationWithOwner(t.Context(), o, k, bootstrapEvents(t, o, k.ID)); err != nil {
		t.Fatalf("CreateOrganizationWithOwner: %v", err)
	}
	if got, err := s.GetOrganization(t.Context(), o.ID); err != nil || got.Name != o.Name || !got.CreatedAt.Equal(o.CreatedAt) {
		t.Fatalf("GetOrganization = %+v, %v; want %+v", got, err, o)
	}
	stored := mustGetKey(t, s, k.ID)
	if stored.Version != 1 || !stored.AllowAll || stored.OrganizationID != o.ID || stored.SecretDigest != k.SecretDigest {
		t.Fatalf("owner key = %+v", stored)
	}
	if p, err := s.ListKeys(t.Context(), o.ID, directory.ListOptions{}); err != nil || len(p.Items) != 1 || p.Items[0].ID != k.ID {
		t.Fatalf("ListKeys: %d items, %v; want the owner key", len(p.Items), err)
	}
	wantEvents(t, s, o.ID, 2)

	t.Run("TakenOrganizationID", func(t *testing.T) {
		_, k2 := ownerOf()
		k2.OrganizationID = o.ID
		again := &directory.Organization{ID: o.ID, Name: "another name", CreatedAt: now(), UpdatedAt: now()}
		err := s.CreateOrganizationWithOwner(t.Context(), again, k2, bootstrapEvents(t, again, k2.ID))
		wantErr(t, "CreateOrganizationWithOwner with a taken organization id", err, fault.ErrConflict)
		if _, err := s.GetKey(t.Context(), k2.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("GetKey of the refused owner key: %v, want not found", err)
		}
		if got, err := s.GetOrganization(t.Context(), o.ID); err != nil || got.Name != o.Name {
			t.Fatalf("the existing organization after the refusal = %+v, %v; want it unchanged", got, err)
		}
		if p, err := s.ListKeys(t.Context(), o.ID, directory.ListOptions{}); err != nil || len(p.Items) != 1 {
			t.Fatalf("ListKeys after the refusal: %d items, %v; want only the first owner key", len(p.Items), err)
		}
		wantEvents(t, s, o.ID, 2)
	})
	t.Run("TakenKeyID", func(t *testing.T) {
		o2, k2 := ownerOf()
		k2.ID = k.ID // the first organization's owner key
		err := s.CreateOrganizationWithOwner(t.Context(), o2, k2, bootstrapEvents(t, o2, k2.ID))
		wantErr(t, "CreateOrganizationWithOwner with a taken key id", err, fault.ErrConflict)
		if _, err := s.GetOrganization(t.Context(), o2.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("GetOrganization of the refused organization: %v, want not found", err)
		}
		if p, err := s.ListKeys(t.Context(), o2.ID, directory.ListOptions{}); err != nil || len(p.Items) != 0 {
			t.Fatalf("ListKeys of the refused organization: %d items, %v; want none", len(p.Items), err)
		}
		wantEvents(t, s, o2.ID, 0)
		if got := mustGetKey(t, s, k.ID); got.OrganizationID != o.ID || got.SecretDigest != k.SecretDigest {
			t.Fatalf("the existing key after the refusal = %+v; want it unchanged", got)
		}
	})
	t.Run("OwnerOfAnotherOrganization", func(t *testing.T) {
		o2, k2 := ownerOf()
		k2.OrganizationID = newID("org_")
		err := s.CreateOrganizationWithOwner(t.Context(), o2, k2, bootstrapEvents(t, o2, k2.ID))
		if fault.CodeOf(err) != fault.CodeValidation {
			t.Fatalf("CreateOrganizationWithOwner with another organization's key: %v, want a %s error", err, fault.CodeValidation)
		}
		if _, err := s.GetOrganization(t.Context(), o2.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("GetOrganization after the refusal: %v, want not found", err)
		}
		if _, err := s.GetKey(t.Context(), k2.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("GetKey after the refusal: %v, want not found", err)
		}
	})
}
