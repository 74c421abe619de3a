package keys

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/token"
)

// Service carries out the key lifecycle for a caller, enforcing tenancy,
// validation, the no-escalation rule and the lifecycle rules of
// docs/design.md ("Limits and lifecycle rules").
type Service struct {
	keys    Store
	dir     directory.Store
	catalog *authz.Catalog
	tokens  *token.Generator
	now     func() time.Time
	limits  Limits
	// publisher hears of stored key changes (nil: nobody).
	publisher Publisher
}

// DefaultMaxKeysPerOrganization is the key quota of an organization when
// Limits does not set one.
const DefaultMaxKeysPerOrganization = 1000

// Limits bound what one organization may hold. The zero value means the
// defaults.
type Limits struct {
	// MaxKeysPerOrganization is the key quota (0: the default).
	MaxKeysPerOrganization int
}

// NewService returns a Service.
func NewService(ks Store, dir directory.Store, catalog *authz.Catalog, tokens *token.Generator, now func() time.Time, limits Limits, opts ...Option) *Service {
	if limits.MaxKeysPerOrganization <= 0 {
		limits.MaxKeysPerOrganization = DefaultMaxKeysPerOrganization
	}
	s := &Service{keys: ks, dir: dir, catalog: catalog, tokens: tokens, now: now, limits: limits}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Publisher announces key changes to the organization's webhooks. Notice
// says what a change announces; the service attaches it to the change's
// audit event, so the store writes it with the change (a pending notice).
// Published is called once the change is stored, to queue that notice; it
// must not fail the request: it handles its own errors, and a notice it
// could not queue stays pending for the webhook sweep.
type Publisher interface {
	Notice(ctx context.Context, ev audit.Event, k *Key) (*audit.Notice, error)
	Published(ctx context.Context, ev audit.Event)
}

// Option configures a Service.
type Option func(*Service)

// WithPublisher makes the service tell p of every stored key change.
func WithPublisher(p Publisher) Option { return func(s *Service) { s.publisher = p } }

// announce attaches to ev what the change of k announces to the webhooks,
// if a publisher listens; the store writes it with the change.
func (s *Service) announce(ctx context.Context, ev *audit.Event, k *Key) error {
	if s.publisher == nil {
		return nil
	}
	n, err := s.publisher.Notice(ctx, *ev, k)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	ev.Notice = n
	return nil
}

// published tells the publisher, if any, of a stored change that announces
// something.
func (s *Service) published(ctx context.Context, ev audit.Event) {
	if s.publisher != nil && ev.Notice != nil {
		s.publisher.Published(ctx, ev)
	}
}

// Created is a new or rotated key with its token, which is never stored and
// must be shown exactly once.
type Created struct {
	Key   *Key
	Token string
	// Names holds the names of scope nodes the service read while
	// validating the request, for the answer (see Service.Complete).
	Names Names
}

// Create makes a new key in the caller's organization. Every field error
// of the request is answered at once.
func (s *Service) Create(ctx context.Context, caller authz.Principal, spec Spec) (Created, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	var fe fault.Fields
	spec.addInvalid(&fe)
	if spec.Name == nil {
		fe.Add("name", fault.FieldRequired, "is required")
	} else {
		_ = fe.Check(ValidateName("name", *spec.Name))
	}
	names := Names{}
	access, err := s.requestedAccess(ctx, caller.OrganizationID, spec, true, &fe, names)
	if err != nil {
		return Created{}, err
	}
	access.AllowedNetworks = spec.networks(&fe)
	exp, given, err := spec.expiry(now)
	if err = fe.Check(err); err != nil {
		return Created{}, err
	}
	if !given && !hasField(&fe, "expiration", "expires_at") {
		fe.Add("expiration", fault.FieldRequired, "is required: choose never, 30d, 60d, 90d, 1y or give expires_at")
	}
	if err := fe.Err(); err != nil {
		return Created{}, err
	}
	access.ExpiresAt = exp
	if err := checkEscalation(s.catalog, caller, access); err != nil {
		return Created{}, err
	}
	access.Grants = authz.NormalizeGrants(s.catalog, access.Grants)
	access.AllowedNetworks = authz.NormalizeNetworks(access.AllowedNetworks)
	if err := s.checkQuota(ctx, caller.OrganizationID); err != nil {
		return Created{}, err
	}
	c, err := s.insert(ctx, caller.OrganizationID, caller.KeyID, *spec.Name, access, now, func(k *Key) (audit.Event, error) {
		return s.createdEvent(ctx, audit.KeyActor(caller.KeyID, caller.KeyName), k)
	})
	c.Names = names
	return c, err
}

// requestedAccess validates a spec's choice among permissions, preset and
// allow-all and resolves it, recording field errors in fe and the names of
// the scope nodes it reads in names. For create one choice is required;
// for edit none may be given (the zero Access).
func (s *Service) requestedAccess(ctx context.Context, org string, spec Spec, required bool, fe *fault.Fields, names Names) (authz.Access, error) {
	n, err := spec.accessChoice()
	if err != nil {
		return authz.Access{}, fe.Check(err)
	}
	if n == 0 {
		if required {
			fe.Add("permissions", fault.FieldRequired, "give exactly one of permissions, preset or allow_all")
		}
		return authz.Access{}, nil
	}
	return s.access(ctx, org, spec, fe, names)
}

// hasField reports whether fe already holds an error on one of fields.
func hasField(fe *fault.Fields, fields ...string) bool {
	var e *fault.Error
	if !errors.As(fe.Err(), &e) {
		return false
	}
	for _, f := range e.Fields {
		for _, want := range fields {
			if f.Field == want {
				return true
			}
		}
	}
	return false
}

// checkQuota refuses a new key when the organization already holds its
// quota. Concurrent creates may each see room and overshoot by at most the
// number in flight (docs/design.md explains why that is acceptable).
func (s *Service) checkQuota(ctx context.Context, org string) error {
	max := s.limits.MaxKeysPerOrganization
	n, err := s.keys.CountKeys(ctx, org, max)
	if err != nil {
		return fmt.Errorf("keys: counting keys: %w", err)
	}
	if n >= max {
		return fault.New(fault.CodeKeyQuotaExceeded, "the organization has reached its quota of %d API keys: delete keys it no longer uses first", max)
	}
	return nil
}

// insert stores a new key with a fresh token and the audit event event
// builds for it, retrying once on the (astronomically unlikely) collision
// of selectors.
func (s *Service) insert(ctx context.Context, org, createdBy, name string, access authz.Access, now time.Time, event func(*Key) (audit.Event, error)) (Created, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.mint(org, createdBy, name, access, now)
		if err != nil {
			return Created{}, err
		}
		ev, err := event(c.Key)
		if err != nil {
			return Created{}, fmt.Errorf("keys: %w", err)
		}
		if err := s.announce(ctx, &ev, c.Key); err != nil {
			return Created{}, err
		}
		err = s.keys.CreateKey(ctx, c.Key, ev)
		if errors.Is(err, fault.ErrConflict) && attempt == 0 {
			continue
		}
		if err != nil {
			return Created{}, fmt.Errorf("keys: creating key: %w", err)
		}
		s.published(ctx, ev)
		return c, nil
	}
}

// mint builds (without storing) a new key, version 1, with a fresh token.
func (s *Service) mint(org, createdBy, name string, access authz.Access, now time.Time) (Created, error) {
	sec, err := s.tokens.New()
	if err != nil {
		return Created{}, fmt.Errorf("keys: generating token: %w", err)
	}
	k := &Key{
		ID: sec.KeyID(), OrganizationID: org, Name: name, Access: access,
		SecretDigest: sec.Digest(), Hint: token.Hint(sec.Parsed, sec.Token),
		CreatedAt: now, UpdatedAt: now, CreatedBy: createdBy, Version: 1,
	}
	return Created{Key: k, Token: sec.Token}, nil
}

// newOrganization validates a name and builds (without storing) a new
// organization created at the current time, which it also returns.
func (s *Service) newOrganization(name string) (*directory.Organization, time.Time, error) {
	if err := ValidateName("organization", name); err != nil {
		return nil, time.Time{}, err
	}
	id, err := s.tokens.RandomID(authz.LevelOrganization.IDPrefix(), 16)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("keys: organization id: %w", err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	return &directory.Organization{ID: id, Name: name, CreatedAt: now, UpdatedAt: now}, now, nil
}

// Get returns one of the caller's organization's keys; another
// organization's key answers not found.
func (s *Service) Get(ctx context.Context, caller authz.Principal, id string) (*Key, error) {
	k, err := s.keys.GetKey(ctx, id)
	if errors.Is(err, fault.ErrNotFound) || (err == nil && k.OrganizationID != caller.OrganizationID) || foreignUnreadable(err, caller.OrganizationID) {
		return nil, fault.NotFound("API key")
	}
	if err != nil {
		return nil, fmt.Errorf("keys: reading key: %w", err)
	}
	return k, nil
}

// List returns a page of the caller's organization's keys, newest first.
func (s *Service) List(ctx context.Context, caller authz.Principal, opt directory.ListOptions) (directory.Page[*Key], error) {
	p, err := s.keys.ListKeys(ctx, caller.OrganizationID, opt)
	if err != nil {
		return p, fmt.Errorf("keys: listing keys: %w", err)
	}
	return p, nil
}

// AnyVersion is passed as the expected version when the request had no
// If-Match: the change applies to whatever version is current.
const AnyVersion int64 = -1

// Update edits a key. With an expected version (If-Match) a stale one is a
// conflict; without, the change is applied to the current version, retried
// when a concurrent writer wins, so no update is ever lost. Every field
// error of the request is answered at once; an edit that changes nothing
// writes nothing and keeps the version. It also returns the names of the
// scope nodes it read, for the answer (see Service.Complete).
func (s *Service) Update(ctx context.Context, caller authz.Principal, id string, spec Spec, expected int64) (*Key, Names, error) {
	var fe fault.Fields
	spec.addInvalid(&fe)
	if spec.Name != nil {
		_ = fe.Check(ValidateName("name", *spec.Name))
	}
	names := Names{}
	access, err := s.requestedAccess(ctx, caller.OrganizationID, spec, false, &fe, names)
	if err != nil {
		return nil, nil, err
	}
	networks := spec.networks(&fe)
	setsAccess := spec.PermissionsSet || spec.Preset != nil || (spec.AllowAll != nil && *spec.AllowAll)
	_, _, err = spec.expiry(s.now().UTC().Truncate(time.Millisecond))
	if err = fe.Check(err); err != nil {
		return nil, nil, err
	}
	if err := fe.Err(); err != nil {
		return nil, nil, err
	}
	k, err := s.change(ctx, caller, id, expected, expected == AnyVersion, audit.KeyUpdated, func(k *Key, now time.Time) error {
		if spec.Name != nil {
			k.Name = *spec.Name
		}
		if setsAccess {
			exp, nets := k.ExpiresAt, k.AllowedNetworks
			k.Access = access
			k.Grants = append([]authz.Grant(nil), access.Grants...)
			k.ExpiresAt, k.AllowedNetworks = exp, nets
		}
		if spec.AllowedCIDRsSet {
			k.AllowedNetworks = append([]netip.Prefix(nil), networks...)
		}
		exp, given, err := spec.expiry(now)
		if err != nil {
			return err
		}
		if given {
			k.ExpiresAt = exp
		}
		return nil
	})
	return k, names, err
}

// Rotate gives a key a new secret. With grace 0 the old token stops
// working at once; with a grace period (at most MaxGrace) it becomes the
// key's previous token and keeps verifying, with the key's access, until
// now+grace. Only one previous token exists: rotating again replaces it
// (the token it held stops at once). A revoked key (its token leaked)
// becomes active again with the new token, and without a grace period:
// the leaked token never works again. Of concurrent rotations exactly one
// wins; the others get a conflict. An expired key cannot be rotated
// (key_expired): create a new one.
func (s *Service) Rotate(ctx context.Context, caller authz.Principal, id string, expected int64, grace time.Duration) (Created, error) {
	if err := ValidateGrace(grace); err != nil {
		return Created{}, err
	}
	var secret string
	k, err := s.change(ctx, caller, id, expected, false, audit.KeyRotated, func(k *Key, now time.Time) error {
		sec, err := s.tokens.WithSelector(strings.TrimPrefix(k.ID, token.KeyIDPrefix))
		if err != nil {
			return fmt.Errorf("keys: generating token: %w", err)
		}
		k.Previous = nil
		// A revoked key's token leaked: it never gets a grace period.
		if grace > 0 && k.Revoked == nil {
			k.Previous = &PreviousToken{Digest: k.SecretDigest, Hint: k.Hint, ExpiresAt: now.Add(grace)}
		}
		k.SecretDigest, k.Hint, k.RotatedAt, secret = sec.Digest(), token.Hint(sec.Parsed, sec.Token), now, sec.Token
		// A new token ends a revocation; the leaked one stays dead.
		k.Revoked = nil
		return nil
	})
	if err != nil {
		return Created{}, err
	}
	return Created{Key: k, Token: secret}, nil
}

// GraceSeconds converts the grace period a request gives in seconds,
// refusing one outside 0..MaxGrace (field grace_seconds, out_of_range).
func GraceSeconds(n int64) (time.Duration, error) {
	if n < 0 || n > int64(MaxGrace/time.Second) {
		return 0, errGrace()
	}
	return time.Duration(n) * time.Second, nil
}

// errGrace is the refusal of a grace period out of bounds.
func errGrace() error {
	return fault.InvalidAs("grace_seconds", fault.FieldOutOfRange, "must be a whole number of seconds from 0 to %d (7 days)", int64(MaxGrace/time.Second))
}

// ValidateGrace refuses a grace period outside 0..MaxGrace, naming the
// request field grace_seconds. A grace is counted in whole seconds.
func ValidateGrace(grace time.Duration) error {
	if grace < 0 || grace > MaxGrace || grace%time.Second != 0 {
		return errGrace()
	}
	return nil
}

// RevokePrevious ends the grace period of the key's previous token at
// once: only the current token verifies afterwards. It answers not found
// when no grace period runs (none was given, it has ended, or it was
// revoked already). Like rotate it is conditional on the version (expected
// may be AnyVersion) and never retried: of concurrent rotations,
// revocations and deletions one wins.
func (s *Service) RevokePrevious(ctx context.Context, caller authz.Principal, id string, expected int64) (*Key, error) {
	return s.change(ctx, caller, id, expected, false, audit.KeyPreviousTokenRevoked, func(k *Key, now time.Time) error {
		if k.PreviousAt(now) == nil {
			return fault.New(fault.CodeNotFound, "the key has no previous token in a grace period (none was kept, its grace ended or it was revoked)")
		}
		k.Previous = nil
		return nil
	})
}

// maxAttempts bounds the re-reads after lost races, so a key under a storm
// of concurrent writes answers a conflict instead of looping.
const maxAttempts = 8

// Delete revokes a key at once. A caller may delete a key whose access and
// expiry its own covers, and always itself, but never the organization's
// last owner key.
func (s *Service) Delete(ctx context.Context, caller authz.Principal, id string) error {
	for attempt := 1; ; attempt++ {
		k, err := s.Get(ctx, caller, id)
		if u := unreadableOf(err); u != nil {
			return s.deleteUnreadable(ctx, caller, u)
		}
		if err != nil {
			return err
		}
		if k.ID != caller.KeyID {
			if err := s.checkManage(caller, k); err != nil {
				return err
			}
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		w, err := s.checkOwner(ctx, k, nil, now)
		if err != nil {
			return err
		}
		ev, err := s.event(ctx, caller, now, audit.KeyDeleted, keyTarget(k))
		if err != nil {
			return err
		}
		if err := s.announce(ctx, &ev, k); err != nil {
			return err
		}
		err = s.deleteKey(ctx, k, ev, w)
		if (errors.Is(err, fault.ErrConflict) || errors.Is(err, ErrWitnessChanged)) && attempt < maxAttempts {
			continue // changed meanwhile: delete the newer version, check the owners again
		}
		if errors.Is(err, fault.ErrConflict) || errors.Is(err, ErrWitnessChanged) {
			return fault.New(fault.CodeConflict, "the key keeps changing: try again")
		}
		if errors.Is(err, fault.ErrNotFound) {
			return fault.NotFound("API key")
		}
		if err != nil {
			return fmt.Errorf("keys: deleting key: %w", err)
		}
		s.published(ctx, ev)
		return nil
	}
}

// change applies edit to the current key and writes it conditionally; when
// retry is set a lost race re-reads and re-applies. The caller must cover
// the key as stored (unless it is the caller itself) and the result; an
// expired key is final; the organization keeps an owner key; a change that
// changes nothing is not written.
func (s *Service) change(ctx context.Context, caller authz.Principal, id string, expected int64, retry bool, action string, edit func(*Key, time.Time) error) (*Key, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.Get(ctx, caller, id)
		if err != nil {
			return nil, err
		}
		if expected != AnyVersion && cur.Version != expected {
			return nil, fault.New(fault.CodeConflict, "the key was changed by someone else (version %d, you sent %d): reload it and try again", cur.Version, expected)
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		if cur.ID != caller.KeyID {
			if err := s.checkManage(caller, cur); err != nil {
				return nil, err
			}
		}
		if cur.Expired(now) {
			return nil, fault.New(fault.CodeKeyExpired, "the key has expired: it can only be shown or deleted; create a new key")
		}
		k := cur.Clone()
		if err := edit(k, now); err != nil {
			return nil, err
		}
		if err := checkEscalation(s.catalog, caller, k.Access); err != nil {
			return nil, err
		}
		k.Grants = authz.NormalizeGrants(s.catalog, k.Grants)
		k.AllowedNetworks = authz.NormalizeNetworks(k.AllowedNetworks)
		if sameKey(cur, k, s.catalog) {
			return cur.Clone(), nil
		}
		w, err := s.checkOwner(ctx, cur, k, now)
		if err != nil {
			return nil, err
		}
		k.UpdatedAt, k.Version = now, cur.Version+1
		ev, err := s.event(ctx, caller, now, action, keyTarget(k))
		if err != nil {
			return nil, err
		}
		keyChanges(&ev, cur, k)
		if err := s.announce(ctx, &ev, k); err != nil {
			return nil, err
		}
		err = s.updateKey(ctx, cur, k, ev, w)
		if errors.Is(err, ErrWitnessChanged) && attempt < maxAttempts {
			continue // another owner key changed meanwhile: check the owners again
		}
		if errors.Is(err, fault.ErrConflict) || errors.Is(err, ErrWitnessChanged) {
			if retry && attempt < maxAttempts {
				continue
			}
			return nil, fault.New(fault.CodeConflict, "the key was changed by someone else: reload it and try again")
		}
		if errors.Is(err, fault.ErrNotFound) {
			return nil, fault.NotFound("API key")
		}
		if err != nil {
			return nil, fmt.Errorf("keys: updating key: %w", err)
		}
		k.LastUsedAt = cur.LastUsedAt
		s.published(ctx, ev)
		return k, nil
	}
}

// sameKey reports whether next changes nothing of cur: same name, secret,
// previous token, normalized access, expiry and networks.
func sameKey(cur, next *Key, c *authz.Catalog) bool {
	return cur.Name == next.Name && cur.SecretDigest == next.SecretDigest &&
		samePrevious(cur.Previous, next.Previous) &&
		cur.AllowAll == next.AllowAll && cur.ExpiresAt.Equal(next.ExpiresAt) &&
		slices.Equal(authz.NormalizeGrants(c, cur.Grants), next.Grants) &&
		slices.Equal(authz.NormalizeNetworks(cur.AllowedNetworks), next.AllowedNetworks)
}

// samePrevious reports whether two previous tokens are the same token with
// the same end (both nil included).
func samePrevious(a, b *PreviousToken) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Digest == b.Digest && a.Hint == b.Hint && a.ExpiresAt.Equal(b.ExpiresAt)
}

// checkManage holds a caller managing another key to no-escalation: it may
// edit, rotate or delete only keys whose current access, expiry and
// networks its own covers.
func (s *Service) checkManage(caller authz.Principal, k *Key) error {
	err := authz.CheckNoEscalation(s.catalog, caller.Access, k.Access)
	var esc *authz.EscalationError
	if errors.As(err, &esc) {
		return fault.New(fault.CodeForbidden, "you can only manage keys whose access, expiry and networks your own key covers: %s", esc.Reason)
	}
	return err
}

// access turns a spec's permissions, preset or allow-all into Access,
// validating every grant against the catalog and the directory and
// recording every refusal in fe. Only a failure to read the directory is
// returned.
func (s *Service) access(ctx context.Context, org string, spec Spec, fe *fault.Fields, names Names) (authz.Access, error) {
	switch {
	case spec.AllowAll != nil && *spec.AllowAll:
		return authz.Access{AllowAll: true}, nil
	case spec.Preset != nil:
		g, ok := s.catalog.ExpandPreset(*spec.Preset)
		if !ok {
			fe.Add("preset", fault.FieldInvalid, "unknown preset %q (known: %s)", *spec.Preset, authz.PresetReadOnly)
		}
		return authz.Access{Grants: g}, nil
	}
	if len(spec.Permissions) > 200 {
		fe.Add("permissions", fault.FieldOutOfRange, "at most 200 grants (got %d)", len(spec.Permissions))
		return authz.Access{}, nil
	}
	grants := make([]authz.Grant, 0, len(spec.Permissions))
	for i, in := range spec.Permissions {
		g := authz.Grant{Permission: in.Permission}
		field := grantField(i, ".permission")
		if in.Scope != nil {
			level, ok := authz.ParseLevel(in.Scope.Level)
			if !ok || level == authz.LevelOrganization {
				fe.Add(grantField(i, ".scope.level"), fault.FieldInvalid, "must be one of team, project, target, environment (got %q)", in.Scope.Level)
				continue
			}
			g.Scope = authz.Node{}.With(level, in.Scope.ID)
			field = grantField(i, ".scope.level")
		}
		// Check against the catalog before any directory read.
		if err := s.catalog.ValidateGrant(g); err != nil {
			fe.Add(field, fault.FieldInvalid, "%s", err.Error())
			continue
		}
		if in.Scope != nil {
			node, err := s.resolveScope(ctx, org, i, g.Scope)
			if err = fe.Check(err); err != nil {
				return authz.Access{}, err
			}
			if node != nil {
				g.Scope = node.Path
				names[node.ID] = node.Name
			}
		}
		grants = append(grants, g)
	}
	return authz.Access{Grants: grants}, nil
}

// resolveScope reads a scope's node from the directory (its full path and
// name); a node missing from the organization is a validation error.
func (s *Service) resolveScope(ctx context.Context, org string, i int, named authz.Node) (*directory.Node, error) {
	level, id := named.Level(), named.ID()
	if !strings.HasPrefix(id, level.IDPrefix()) {
		return nil, fault.Invalid(grantField(i, ".scope.id"), "a %s id starts with %q", level, level.IDPrefix())
	}
	n, err := s.dir.GetNode(ctx, org, id)
	if errors.Is(err, fault.ErrNotFound) || (err == nil && n.Level() != level) {
		return nil, fault.Invalid(grantField(i, ".scope.id"), "no %s %q in this organization", level, id)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: resolving scope: %w", err)
	}
	return n, nil
}

// checkEscalation maps the no-escalation rule's refusal to a 403 naming the
// field.
func checkEscalation(c *authz.Catalog, caller authz.Principal, wanted authz.Access) error {
	err := authz.CheckNoEscalation(c, caller.Access, wanted)
	var esc *authz.EscalationError
	if errors.As(err, &esc) {
		return &fault.Error{Code: fault.CodeForbidden, Message: "a key cannot be made stronger than the key that makes it",
			Fields: []fault.FieldError{{Field: esc.Field, Code: fault.FieldForbidden, Message: esc.Reason}}}
	}
	return err
}

// Bootstrap creates a new organization with an allow-all owner key that
// never expires, and returns both with the owner token. The organization,
// its key and their audit events are one atomic write (a process killed
// in between leaves neither, never an organization without a key whose id
// was never shown). A brand new organization has no webhook endpoint, so
// nothing is announced.
func (s *Service) Bootstrap(ctx context.Context, orgName string) (*directory.Organization, Created, error) {
	for attempt := 0; ; attempt++ {
		org, c, evs, err := s.newOwnedOrganization(ctx, orgName)
		if err != nil {
			return nil, Created{}, err
		}
		err = s.keys.CreateOrganizationWithOwner(ctx, org, c.Key, evs)
		if errors.Is(err, fault.ErrConflict) && attempt == 0 {
			continue // an id taken (astronomically unlikely): new ids
		}
		if err != nil {
			return nil, Created{}, fmt.Errorf("keys: creating organization: %w", err)
		}
		return org, c, nil
	}
}
