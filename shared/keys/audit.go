package keys

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
)

// The audit events of the key lifecycle. An event never holds a token, a
// digest or a hint: only the name, the access and the expiry are recorded
// as changes.

// event builds the audit event of a change the caller makes at at, with the
// request's source from ctx.
func (s *Service) event(ctx context.Context, caller authz.Principal, at time.Time, action string, target audit.Target) (audit.Event, error) {
	ev, err := audit.New(ctx, s.tokens, at.UTC().Truncate(time.Millisecond), caller.OrganizationID, action, audit.KeyActor(caller.KeyID, caller.KeyName), target)
	if err != nil {
		return audit.Event{}, fmt.Errorf("keys: %w", err)
	}
	return ev, nil
}

// createdEvent is the key.created event of k made by actor: its name,
// access and expiry from nothing.
func (s *Service) createdEvent(ctx context.Context, actor audit.Actor, k *Key) (audit.Event, error) {
	ev, err := audit.New(ctx, s.tokens, k.CreatedAt, k.OrganizationID, audit.KeyCreated, actor, keyTarget(k))
	if err != nil {
		return audit.Event{}, fmt.Errorf("keys: %w", err)
	}
	keyChanges(&ev, &Key{}, k)
	return ev, nil
}

// bootstrapEvents are the events of a store's first organization and owner
// key, made by the system (bootstrap).
func (s *Service) bootstrapEvents(ctx context.Context, org *directory.Organization, owner *Key) ([]audit.Event, error) {
	orgEv, err := audit.New(ctx, s.tokens, org.CreatedAt, org.ID, audit.OrganizationCreated, audit.System(audit.SystemBootstrap), orgTarget(org))
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	orgEv.Set("name", nil, org.Name)
	keyEv, err := s.createdEvent(ctx, audit.System(audit.SystemBootstrap), owner)
	if err != nil {
		return nil, err
	}
	return []audit.Event{orgEv, keyEv}, nil
}

// keyTarget is k as an event's target.
func keyTarget(k *Key) audit.Target {
	return audit.Target{Type: audit.ActorKey, ID: k.ID, Name: k.Name}
}

// orgTarget is org as an event's target.
func orgTarget(org *directory.Organization) audit.Target {
	return audit.Target{Type: authz.LevelOrganization.String(), ID: org.ID, Name: org.Name}
}

// keyChanges records on ev what differs between from and to: name,
// allow_all, permissions (the grants), expires_at, allowed_cidrs (the
// network allowlist, in normal form; null for anywhere), the previous token's end
// (previous_token_expires_at: a rotation with grace, a revocation) and, for
// a rotation with grace, grace_seconds. Never a digest or a hint.
func keyChanges(ev *audit.Event, from, to *Key) {
	if from.ID != "" || to.Name != "" {
		ev.Set("name", orNil(from.Name), to.Name)
	}
	ev.Set("allow_all", from.AllowAll, to.AllowAll)
	ev.Set("permissions", grantsOrNil(from.Grants), grantsOrNil(to.Grants))
	ev.Set("expires_at", audit.TimeOrNil(from.ExpiresAt), audit.TimeOrNil(to.ExpiresAt))
	ev.Set("allowed_cidrs", networksOrNil(from.AllowedNetworks), networksOrNil(to.AllowedNetworks))
	ev.Set("previous_token_expires_at", audit.TimeOrNil(previousEnd(from)), audit.TimeOrNil(previousEnd(to)))
	ev.Set("revoked", revocationOrNil(from.Revoked), revocationOrNil(to.Revoked))
	if !to.RotatedAt.Equal(from.RotatedAt) && to.Previous != nil {
		ev.Set("grace_seconds", nil, int64(to.Previous.ExpiresAt.Sub(to.RotatedAt)/time.Second))
	}
}

// previousEnd is the end of k's previous token's grace (zero without one).
func previousEnd(k *Key) time.Time {
	if k.Previous == nil {
		return time.Time{}
	}
	return k.Previous.ExpiresAt
}

// orNil is s, or nil (JSON null) when empty.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// grantsOrNil is gs, or nil (JSON null) when empty.
func grantsOrNil(gs []authz.Grant) any {
	if len(gs) == 0 {
		return nil
	}
	return gs
}

// networksOrNil is the allowlist ps as its CIDR strings in normal form
// (authz.NormalizeNetworks, the form the key answers), or nil (JSON null)
// when empty: anywhere.
func networksOrNil(ps []netip.Prefix) any {
	ps = authz.NormalizeNetworks(ps)
	if len(ps) == 0 {
		return nil
	}
	return authz.NetworkStrings(ps)
}

// revokedChange is what a change records of a revocation: its reason and
// reporter (never the reported URL, which may quote the token).
type revokedChange struct {
	Reason   string `json:"reason"`
	Reporter string `json:"reporter"`
}

// revocationOrNil is r as a change, or nil (JSON null) when there is none.
func revocationOrNil(r *Revocation) any {
	if r == nil {
		return nil
	}
	return revokedChange{Reason: r.Reason, Reporter: r.Reporter}
}
