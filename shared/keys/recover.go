package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
)

// Names of the keys minted for operators rather than by another key. Their
// CreatedBy is empty.
const (
	OwnerKeyName    = "Owner key"
	RecoveryKeyName = "Recovery key"
)

// Initializer is a store that records whether it holds its first
// organization and owner key (the embedded engine). The single binary's
// first start uses it so that a start interrupted at any point is finished
// by the next one (docs/design.md).
type Initializer interface {
	// Initialized reports whether the store holds its first organization
	// and owner key.
	Initialized(ctx context.Context) (bool, error)
	// Initialize stores org, its owner key (Version 1) and the marker in
	// one atomic write with events: after a crash all of them are there or
	// none is. An
	// initialized store answers fault.ErrConflict and writes nothing.
	Initialize(ctx context.Context, org *directory.Organization, owner *Key, events []audit.Event) error
}

// Initialize creates the first organization of st with an allow-all owner
// key that never expires, in one atomic write with st's initialization
// marker, and returns both with the owner token.
//
// announce is called with the organization and the token before anything
// is stored; an error from it stores nothing. Announcing first means a
// process killed after the commit has already handed the token out: a
// token that was never shown is never stored, and the next start simply
// initializes again.
func (s *Service) Initialize(ctx context.Context, st Initializer, orgName string, announce func(*directory.Organization, Created) error) (*directory.Organization, Created, error) {
	org, c, evs, err := s.newOwnedOrganization(ctx, orgName)
	if err != nil {
		return nil, Created{}, err
	}
	if err := announce(org, c); err != nil {
		return nil, Created{}, fmt.Errorf("keys: announcing the owner key: %w", err)
	}
	if err := st.Initialize(ctx, org, c.Key, evs); err != nil {
		return nil, Created{}, fmt.Errorf("keys: initializing the store: %w", err)
	}
	return org, c, nil
}

// Recover mints a new allow-all key that never expires, named "Recovery
// key", for an existing organization whose keys are lost or locked out. It
// is for operators with access to the store (edge recover), never reachable
// through the API. An id that is not an organization id is a validation
// error; an unknown organization answers not found.
func (s *Service) Recover(ctx context.Context, orgID string) (Created, error) {
	prefix := authz.LevelOrganization.IDPrefix()
	if !strings.HasPrefix(orgID, prefix) || len(orgID) == len(prefix) {
		return Created{}, fault.Invalid("organization", "an organization id starts with %q (got %q)", prefix, orgID)
	}
	if _, err := s.dir.GetOrganization(ctx, orgID); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return Created{}, fault.NotFound("organization " + orgID)
		}
		return Created{}, fmt.Errorf("keys: reading organization %s: %w", orgID, err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	return s.insert(ctx, orgID, "", RecoveryKeyName, authz.Access{AllowAll: true}, now, func(k *Key) (audit.Event, error) {
		ev, err := audit.New(ctx, s.tokens, now, orgID, audit.OrganizationRecovered, audit.System(audit.SystemRecovery),
			audit.Target{Type: authz.LevelOrganization.String(), ID: orgID})
		ev.Set("recovery_key_id", nil, k.ID)
		return ev, err
	})
}

// newOwnedOrganization makes (without storing anything) a new organization
// named orgName, its allow-all owner key that never expires with the
// key's token, and the audit events of both: what Initialize and
// Bootstrap store in one write.
func (s *Service) newOwnedOrganization(ctx context.Context, orgName string) (*directory.Organization, Created, []audit.Event, error) {
	org, now, err := s.newOrganization(orgName)
	if err != nil {
		return nil, Created{}, nil, err
	}
	c, err := s.mint(org.ID, "", OwnerKeyName, authz.Access{AllowAll: true}, now)
	if err != nil {
		return nil, Created{}, nil, err
	}
	evs, err := s.bootstrapEvents(ctx, org, c.Key)
	if err != nil {
		return nil, Created{}, nil, err
	}
	return org, c, evs, nil
}
