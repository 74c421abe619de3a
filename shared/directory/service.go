package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
)

// IDSource makes random ids with a prefix.
type IDSource interface {
	RandomID(prefix string, n int) (string, error)
}

// NameValidator checks a display name and names the field on failure.
type NameValidator func(field, name string) error

// Service manages an organization's hierarchy for a caller: validation,
// ids, and lists that show only what the caller may read.
type Service struct {
	store    Store
	catalog  *authz.Catalog
	ids      IDSource
	validate NameValidator
	now      func() time.Time
}

// NewService returns a Service.
func NewService(s Store, c *authz.Catalog, ids IDSource, validate NameValidator, now func() time.Time) *Service {
	return &Service{store: s, catalog: c, ids: ids, validate: validate, now: now}
}

// Hierarchy returns the organization's nodes, teams first, then projects,
// targets and environments (each level oldest first), at most max of them.
// It filters nothing: it is for a caller that applies a key's visibility
// itself (the explorer's access map, which names only what the explored key
// may list).
func (s *Service) Hierarchy(ctx context.Context, org string, max int) ([]*Node, error) {
	var nodes []*Node
	for _, l := range authz.ScopeLevels() {
		cursor := ""
		for len(nodes) < max {
			page, err := s.store.ListNodes(ctx, org, l, "", ListOptions{Limit: MaxLimit, Cursor: cursor})
			if err != nil {
				return nil, mapErr("listing "+l.String()+"s", err)
			}
			nodes = append(nodes, page.Items...)
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	if len(nodes) > max {
		nodes = nodes[:max]
	}
	return nodes, nil
}

// readPermission is the permission that reads nodes of a level.
func readPermission(l authz.Level) string {
	switch l {
	case authz.LevelTeam:
		return "teams:read"
	case authz.LevelProject:
		return "projects:read"
	case authz.LevelTarget:
		return "targets:read"
	}
	return "environments:read"
}

// Organization returns the caller's organization.
func (s *Service) Organization(ctx context.Context, caller authz.Principal) (*Organization, error) {
	o, err := s.store.GetOrganization(ctx, caller.OrganizationID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("organization")
	}
	if err != nil {
		return nil, fmt.Errorf("directory: reading organization: %w", err)
	}
	return o, nil
}

// RenameOrganization renames the caller's organization.
func (s *Service) RenameOrganization(ctx context.Context, caller authz.Principal, name *string) (*Organization, error) {
	if name == nil {
		return nil, fault.Invalid("name", "is required")
	}
	if err := s.validate("name", *name); err != nil {
		return nil, err
	}
	cur, err := s.Organization(ctx, caller)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	ev, err := s.event(ctx, caller, now, "organization.renamed", audit.Target{Type: authz.LevelOrganization.String(), ID: cur.ID, Name: *name})
	if err != nil {
		return nil, err
	}
	ev.Set("name", cur.Name, *name)
	o, err := s.store.RenameOrganization(ctx, caller.OrganizationID, *name, now, ev)
	if err != nil {
		return nil, mapErr("renaming organization", err)
	}
	return o, nil
}

// Get returns the node at the path named (ids of the path parameters),
// checking that the path is consistent.
func (s *Service) Get(ctx context.Context, caller authz.Principal, named authz.Node) (*Node, error) {
	n, err := s.store.GetNode(ctx, caller.OrganizationID, named.ID())
	if err == nil && (n.Level() != named.Level() || !n.Path.Consistent(named)) {
		err = fault.ErrNotFound
	}
	if err != nil {
		return nil, mapErr("reading "+named.Level().String(), err)
	}
	return n, nil
}

// List returns a page of the children of parent (the organization for
// teams; for projects, all of the organization's projects) at level, showing
// only the nodes the caller may read.
func (s *Service) List(ctx context.Context, caller authz.Principal, level authz.Level, parent authz.Node, opt ListOptions) (Page[*Node], error) {
	parentID := ""
	if parent.Level() != authz.LevelOrganization {
		if _, err := s.Get(ctx, caller, parent); err != nil {
			return Page[*Node]{}, err
		}
		parentID = parent.ID()
	}
	p, err := s.store.ListNodes(ctx, caller.OrganizationID, level, parentID, opt)
	if err != nil {
		return p, mapErr("listing "+level.String()+"s", err)
	}
	perm := readPermission(level)
	visible := p.Items[:0]
	for _, n := range p.Items {
		if caller.Reaches(s.catalog, perm, n.Path) {
			visible = append(visible, n)
		}
	}
	p.Items = visible
	if !caller.OrganizationWide(s.catalog, perm) {
		// An unreadable node's path is unknown: only a caller who sees
		// every node of the level hears of it.
		p.Unreadable = nil
	}
	return p, nil
}

// Create adds a node at level under parent (for a project: under the team
// teamID). Names are unique among siblings.
func (s *Service) Create(ctx context.Context, caller authz.Principal, level authz.Level, parent authz.Node, name *string, teamID *string) (*Node, error) {
	if name == nil {
		return nil, fault.Invalid("name", "is required")
	}
	if err := s.validate("name", *name); err != nil {
		return nil, err
	}
	if level == authz.LevelProject {
		if teamID == nil || *teamID == "" {
			return nil, fault.InvalidAs("team_id", fault.FieldRequired, "is required: a project belongs to one team")
		}
		if !strings.HasPrefix(*teamID, authz.LevelTeam.IDPrefix()) {
			return nil, fault.Invalid("team_id", "a team id starts with %q", authz.LevelTeam.IDPrefix())
		}
		t, err := s.store.GetNode(ctx, caller.OrganizationID, *teamID)
		if errors.Is(err, fault.ErrNotFound) || (err == nil && t.Level() != authz.LevelTeam) {
			return nil, fault.Invalid("team_id", "no team %q in this organization", *teamID)
		}
		if err != nil {
			return nil, mapErr("reading team", err)
		}
		parent = t.Path
	} else if teamID != nil {
		return nil, fault.Invalid("team_id", "is only for projects")
	} else if parent.Level() != authz.LevelOrganization {
		p, err := s.Get(ctx, caller, parent)
		if err != nil {
			return nil, err
		}
		parent = p.Path
	}
	id, err := s.ids.RandomID(level.IDPrefix(), 16)
	if err != nil {
		return nil, fmt.Errorf("directory: making id: %w", err)
	}
	path := parent.With(level, id)
	now := s.now().UTC().Truncate(time.Millisecond)
	n := &Node{ID: id, OrganizationID: caller.OrganizationID, Path: path, Name: *name, CreatedAt: now, UpdatedAt: now}
	ev, err := s.event(ctx, caller, now, level.String()+".created", audit.Target{Type: level.String(), ID: id, Name: *name})
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateNode(ctx, n, ev); err != nil {
		if errors.Is(err, fault.ErrConflict) {
			return nil, &fault.Error{Code: fault.CodeConflict, Message: "a " + level.String() + " with that name already exists here",
				Fields: []fault.FieldError{{Field: "name", Code: fault.FieldConflict, Message: "must be unique among its siblings"}}}
		}
		return nil, mapErr("creating "+level.String(), err)
	}
	return n, nil
}

// Rename renames the node at the path named.
func (s *Service) Rename(ctx context.Context, caller authz.Principal, named authz.Node, name *string) (*Node, error) {
	if name == nil {
		return nil, fault.Invalid("name", "is required")
	}
	if err := s.validate("name", *name); err != nil {
		return nil, err
	}
	cur, err := s.Get(ctx, caller, named)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	ev, err := s.event(ctx, caller, now, cur.Level().String()+".renamed", audit.Target{Type: cur.Level().String(), ID: cur.ID, Name: *name})
	if err != nil {
		return nil, err
	}
	ev.Set("name", cur.Name, *name)
	n, err := s.store.RenameNode(ctx, caller.OrganizationID, named.ID(), *name, now, ev)
	if errors.Is(err, fault.ErrConflict) {
		return nil, &fault.Error{Code: fault.CodeConflict, Message: "a sibling already has that name",
			Fields: []fault.FieldError{{Field: "name", Code: fault.FieldConflict, Message: "must be unique among its siblings"}}}
	}
	if err != nil {
		return nil, mapErr("renaming "+named.Level().String(), err)
	}
	return n, nil
}

// Delete removes the node at the path named; a node with children answers
// a conflict.
func (s *Service) Delete(ctx context.Context, caller authz.Principal, named authz.Node) error {
	cur, err := s.Get(ctx, caller, named)
	if err != nil {
		return err
	}
	ev, err := s.event(ctx, caller, s.now().UTC().Truncate(time.Millisecond), cur.Level().String()+".deleted", audit.Target{Type: cur.Level().String(), ID: cur.ID, Name: cur.Name})
	if err != nil {
		return err
	}
	err = s.store.DeleteNode(ctx, caller.OrganizationID, named.ID(), ev)
	if errors.Is(err, fault.ErrConflict) {
		return fault.New(fault.CodeConflict, "the %s still has children: delete them first", named.Level())
	}
	if err != nil {
		return mapErr("deleting "+named.Level().String(), err)
	}
	return nil
}

// event builds the audit event of a change the caller makes, with the
// request's source from ctx.
func (s *Service) event(ctx context.Context, caller authz.Principal, at time.Time, action string, target audit.Target) (audit.Event, error) {
	ev, err := audit.New(ctx, s.ids, at, caller.OrganizationID, action, audit.KeyActor(caller.KeyID, caller.KeyName), target)
	if err != nil {
		return audit.Event{}, fmt.Errorf("directory: %w", err)
	}
	return ev, nil
}

// mapErr turns store errors into public ones.
func mapErr(what string, err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Message != "" {
		return err
	}
	if errors.Is(err, fault.ErrNotFound) {
		return fault.Wrap(err, fault.CodeNotFound, "not found")
	}
	return fmt.Errorf("directory: %s: %w", what, err)
}
