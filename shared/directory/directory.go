// Package directory holds an organization's hierarchy that key scopes refer
// to: the organization, its teams, projects (each in one team), targets
// (in a project) and environments (in a target), and the store contract for
// them.
package directory

import (
	"context"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
)

// Organization is a tenant. Every key and node belongs to exactly one.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Node is a team, project, target or environment.
type Node struct {
	// ID is the node's own id (prefix team_, prj_, tgt_ or env_).
	ID             string
	OrganizationID string
	// Path holds the node's own id and its ancestors' ids; its Level is
	// the node's level. The hierarchy never moves: a node keeps its parent.
	Path authz.Node
	// Name is unique among the node's siblings.
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Level is the node's level.
func (n *Node) Level() authz.Level { return n.Path.Level() }

// ParentID is the id of the node's parent ("" for a team, whose parent is
// the organization).
func (n *Node) ParentID() string {
	l := n.Path.Level()
	if l <= authz.LevelTeam {
		return ""
	}
	return n.Path.At(l - 1)
}

// Page is one page of a listing.
type Page[T any] struct {
	Items []T
	// Next is the opaque cursor of the next page, "" on the last page.
	Next string
	// Unreadable lists the stored items this page skipped because they
	// could not be decoded (docs/dynamodb.md, "Unreadable items"): one
	// broken item never takes down a listing. Skipped items do not count
	// toward the page size.
	Unreadable []Unreadable
}

// Unreadable is a stored item a listing skipped because it could not be
// decoded (or an index entry names an item that is not stored). Only its
// id is kept, and a public sentence when the listing's default does not
// fit: the cause is logged by the store.
type Unreadable struct {
	ID string
	// Message replaces the listing's default message in the answer when
	// not empty.
	Message string
}

// MissingMessage is the message of an index entry that names an item the
// store does not hold.
const MissingMessage = "the listing's index names this item but it is not stored; contact support"

// ListOptions select a page.
type ListOptions struct {
	// Limit is the page size (the store applies a default and a maximum).
	Limit int
	// Cursor is the Next of the previous page, "" for the first page.
	Cursor string
}

// Store keeps organizations and their hierarchy. Reads of another
// organization's node answer fault.ErrNotFound, exactly like a missing one.
// Every write takes its audit event and stores it in the same atomic write
// as the change; a refused or failed write stores no event.
type Store interface {
	// CreateOrganization stores a new organization (fault.ErrConflict if
	// the id exists).
	CreateOrganization(ctx context.Context, org *Organization, ev audit.Event) error
	// GetOrganization returns an organization or fault.ErrNotFound.
	GetOrganization(ctx context.Context, id string) (*Organization, error)
	// RenameOrganization changes the name and UpdatedAt.
	RenameOrganization(ctx context.Context, id, name string, at time.Time, ev audit.Event) (*Organization, error)

	// CreateNode stores a new node. Its parent must exist in the same
	// organization (fault.ErrNotFound otherwise) and no sibling may have
	// the same name (fault.ErrConflict).
	CreateNode(ctx context.Context, n *Node, ev audit.Event) error
	// GetNode returns the node with id in organization org, or
	// fault.ErrNotFound (also when it belongs to another organization).
	GetNode(ctx context.Context, org, id string) (*Node, error)
	// ListNodes returns the nodes of one level in org, oldest first. When
	// parent is not "" only the children of that node are listed.
	ListNodes(ctx context.Context, org string, level authz.Level, parent string, opt ListOptions) (Page[*Node], error)
	// RenameNode changes a node's name and UpdatedAt (fault.ErrConflict on
	// a sibling with that name, fault.ErrNotFound when missing).
	RenameNode(ctx context.Context, org, id, name string, at time.Time, ev audit.Event) (*Node, error)
	// DeleteNode removes a node without children (fault.ErrConflict while
	// it has any, fault.ErrNotFound when missing).
	DeleteNode(ctx context.Context, org, id string, ev audit.Event) error
}

// Page sizes every store applies.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// PageSize returns the page size to use for the requested Limit.
func (o ListOptions) PageSize() int {
	switch {
	case o.Limit <= 0:
		return DefaultLimit
	case o.Limit > MaxLimit:
		return MaxLimit
	}
	return o.Limit
}
