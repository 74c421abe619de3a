package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
)

// update runs a directory write in its own transaction (directory writes
// are rare: no group commit needed).
func (s *Store) update(ctx context.Context, what string, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable(what, bolterrors.ErrDatabaseNotOpen)
	}
	return engineErr(what, s.db.Update(fn))
}

// batch runs a small write that may be run more than once (bbolt's Batch
// re-runs every function of a batch in which one failed) in a group
// commit, so concurrent callers share one fsync: the webhook fast path's
// delivery creations and notice deletions, one per key change.
func (s *Store) batch(ctx context.Context, what string, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable(what, bolterrors.ErrDatabaseNotOpen)
	}
	return engineErr(what, s.db.Batch(fn))
}

// view runs a directory read.
func (s *Store) view(ctx context.Context, what string, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return unavailable(what, bolterrors.ErrDatabaseNotOpen)
	}
	return engineErr(what, s.db.View(fn))
}

// putOrg stores an organization document that passed the gate.
func putOrg(b *bbolt.Bucket, r *orgRecord) error {
	v, err := encodeOrg(r)
	if err != nil {
		return err
	}
	return b.Put([]byte(r.ID), v)
}

// putNode stores a node document that passed the gate.
func putNode(b *bbolt.Bucket, r *nodeRecord) error {
	v, err := encodeNode(r)
	if err != nil {
		return err
	}
	return b.Put([]byte(r.ID), v)
}

// CreateOrganization stores a new organization (fault.ErrConflict if the id
// exists).
func (s *Store) CreateOrganization(ctx context.Context, org *directory.Organization, ev audit.Event) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	if err := checkID("id", org.ID); err != nil {
		return err
	}
	r := &orgRecord{ID: org.ID, Name: org.Name, CreatedAt: utc(org.CreatedAt), UpdatedAt: utc(org.UpdatedAt)}
	return s.update(ctx, "create organization "+org.ID, func(tx *bbolt.Tx) error {
		if err := createOrg(tx, r); err != nil {
			return err
		}
		return writeEvent(tx, &ev)
	})
}

// createOrg stores a new organization and its directory buckets inside tx
// (fault.ErrConflict if the id exists).
func createOrg(tx *bbolt.Tx, r *orgRecord) error {
	orgs := tx.Bucket(bucketOrgs)
	if orgs.Get([]byte(r.ID)) != nil {
		return fmt.Errorf("bolt: create organization %s: %w", r.ID, fault.ErrConflict)
	}
	if err := putOrg(orgs, r); err != nil {
		return err
	}
	ob, err := tx.Bucket(bucketDir).CreateBucketIfNotExists([]byte(r.ID))
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bucketNodes, bucketNames, bucketChildren, bucketLevels} {
		if _, err := ob.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// GetOrganization returns an organization or fault.ErrNotFound.
func (s *Store) GetOrganization(ctx context.Context, id string) (*directory.Organization, error) {
	var out *directory.Organization
	err := s.view(ctx, "get organization "+id, func(tx *bbolt.Tx) error {
		r, err := loadOrg(tx, id)
		if err == nil {
			out = r.organization()
		}
		return err
	})
	return out, err
}

func loadOrg(tx *bbolt.Tx, id string) (*orgRecord, error) {
	v := tx.Bucket(bucketOrgs).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("bolt: organization %s: %w", id, fault.ErrNotFound)
	}
	r, err := decodeOrg(v)
	if err != nil {
		return nil, fault.Wrap(fmt.Errorf("bolt: organization %s: %w", id, err), fault.CodeInternal, "this stored organization could not be read; contact support")
	}
	return r, nil
}

// RenameOrganization changes the name and UpdatedAt (fault.ErrNotFound when
// missing).
func (s *Store) RenameOrganization(ctx context.Context, id, name string, at time.Time, ev audit.Event) (*directory.Organization, error) {
	if err := checkEvent(&ev); err != nil {
		return nil, err
	}
	var out *directory.Organization
	err := s.update(ctx, "rename organization "+id, func(tx *bbolt.Tx) error {
		r, err := loadOrg(tx, id)
		if err != nil {
			return err
		}
		r.Name, r.UpdatedAt = name, utc(at)
		if err := putOrg(tx.Bucket(bucketOrgs), r); err != nil {
			return err
		}
		out = r.organization()
		return writeEvent(tx, &ev)
	})
	return out, err
}

// orgDir holds the directory buckets of one organization.
type orgDir struct {
	nodes, names, children, levels *bbolt.Bucket
}

// dirOf returns org's directory buckets, or nil when the organization does
// not exist.
func dirOf(tx *bbolt.Tx, org string) *orgDir {
	ob := tx.Bucket(bucketDir).Bucket([]byte(org))
	if ob == nil {
		return nil
	}
	return &orgDir{ob.Bucket(bucketNodes), ob.Bucket(bucketNames), ob.Bucket(bucketChildren), ob.Bucket(bucketLevels)}
}

// node reads a node (nil when missing).
func (d *orgDir) node(id string) (*nodeRecord, error) {
	v := d.nodes.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	r, err := decodeNode(v)
	if err != nil {
		return nil, unreadableNode(id, err)
	}
	return r, nil
}

// checkPath refuses a node whose Path is not a chain from a team down to the
// node's own id.
func checkPath(n *directory.Node) error {
	level := n.Level()
	if level < authz.LevelTeam || n.Path.ID() != n.ID {
		return fault.Invalid("path", "must end with the node's own id")
	}
	for l := authz.LevelTeam; l <= level; l++ {
		if err := checkID("path", n.Path.At(l)); err != nil {
			return err
		}
	}
	return nil
}

// parentPath returns the path of n's parent (the zero Node for a team).
func parentPath(p authz.Node) authz.Node {
	switch p.Level() {
	case authz.LevelEnvironment:
		p.Environment = ""
	case authz.LevelTarget:
		p.Target = ""
	case authz.LevelProject:
		p.Project = ""
	default:
		return authz.Node{}
	}
	return p
}

// CreateNode stores a new node. Its parent (the organization for a team)
// must exist in the same organization with the path the node's Path names
// (fault.ErrNotFound otherwise); the id must be new in the organization and
// no sibling may have the same name (fault.ErrConflict).
func (s *Store) CreateNode(ctx context.Context, n *directory.Node, ev audit.Event) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	if err := checkID("organization_id", n.OrganizationID); err != nil {
		return err
	}
	if err := checkPath(n); err != nil {
		return err
	}
	r := nodeRecordOf(n)
	level, parent := n.Level(), n.ParentID()
	return s.update(ctx, "create node "+n.ID, func(tx *bbolt.Tx) error {
		d := dirOf(tx, r.Org)
		if d == nil {
			return fmt.Errorf("bolt: create node %s: organization %s: %w", r.ID, r.Org, fault.ErrNotFound)
		}
		if d.nodes.Get([]byte(r.ID)) != nil {
			return fmt.Errorf("bolt: create node %s: id exists: %w", r.ID, fault.ErrConflict)
		}
		if parent != "" {
			p, err := d.node(parent)
			if err != nil {
				return err
			}
			if p == nil || p.node().Path != parentPath(n.Path) {
				return fmt.Errorf("bolt: create node %s: parent %s: %w", r.ID, parent, fault.ErrNotFound)
			}
		}
		nk := nameKey(level, parent, r.Name)
		if d.names.Get(nk) != nil {
			return fmt.Errorf("bolt: create node %s: a sibling is named %q: %w", r.ID, r.Name, fault.ErrConflict)
		}
		if err := putNode(d.nodes, r); err != nil {
			return err
		}
		if err := d.names.Put(nk, []byte(r.ID)); err != nil {
			return err
		}
		if err := d.children.Put(childKey(parent, r.CreatedAt, r.ID), nil); err != nil {
			return err
		}
		if err := d.levels.Put(levelKey(level, r.CreatedAt, r.ID), nil); err != nil {
			return err
		}
		return writeEvent(tx, &ev)
	})
}

// GetNode returns the node with id in organization org, or
// fault.ErrNotFound (also when it belongs to another organization).
func (s *Store) GetNode(ctx context.Context, org, id string) (*directory.Node, error) {
	var out *directory.Node
	err := s.view(ctx, "get node "+id, func(tx *bbolt.Tx) error {
		r, err := existingNode(tx, org, id)
		if err == nil {
			out = r.node()
		}
		return err
	})
	return out, err
}

// existingNode reads a node of org that must exist.
func existingNode(tx *bbolt.Tx, org, id string) (*nodeRecord, error) {
	if d := dirOf(tx, org); d != nil {
		r, err := d.node(id)
		if err != nil || r != nil {
			return r, err
		}
	}
	return nil, fmt.Errorf("bolt: node %s in organization %s: %w", id, org, fault.ErrNotFound)
}

// ListNodes returns the nodes of one level in org, oldest first (CreatedAt,
// then id). When parent is not "" only the direct children of that node are
// listed (none when it does not exist or the level is not its children's).
func (s *Store) ListNodes(ctx context.Context, org string, level authz.Level, parent string, opt directory.ListOptions) (directory.Page[*directory.Node], error) {
	var page directory.Page[*directory.Node]
	if level < authz.LevelTeam || level > authz.LevelEnvironment {
		return page, fault.Invalid("level", "must be team, project, target or environment")
	}
	want := cursor{kind: cursorNodes, org: org, level: level, parent: parent}
	var after []byte
	if opt.Cursor != "" {
		c, err := decodeCursor(opt.Cursor, want)
		if err != nil {
			return page, fmt.Errorf("bolt: list nodes of %s: %w", org, err)
		}
		after = c.pos
	}
	limit := opt.PageSize()
	err := s.view(ctx, "list nodes of "+org, func(tx *bbolt.Tx) error {
		d := dirOf(tx, org)
		if d == nil {
			return nil
		}
		idx, prefix := d.levels, levelPrefix(level)
		if parent != "" {
			p, err := d.node(parent)
			if err != nil || p == nil || p.node().Level()+1 != level {
				return err
			}
			idx, prefix = d.children, childrenPrefix(parent)
		}
		if after != nil && !bytes.HasPrefix(after, prefix) {
			return errCursor("belongs to another listing")
		}
		c := idx.Cursor()
		k, _ := c.Seek(prefix)
		if after != nil {
			if k, _ = c.Seek(after); bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		}
		page.Items = make([]*directory.Node, 0, min(limit, 16))
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(page.Items) == limit {
				want.pos = last
				page.Next = want.encode()
				break
			}
			id := string(k[len(prefix)+tsLen:])
			r, err := d.node(id)
			if err != nil {
				// Does not decode: skipped, logged and reported.
				s.log.ErrorContext(ctx, "bolt: stored node cannot be decoded", "id", id, "error", err)
				page.Unreadable = append(page.Unreadable, unreadable(id))
				continue
			}
			if r == nil {
				// An index entry without its node: reported, not fatal.
				s.log.ErrorContext(ctx, "bolt: node index names the missing node", "id", id)
				page.Unreadable = append(page.Unreadable, directory.Unreadable{ID: id, Message: directory.MissingMessage})
				continue
			}
			page.Items = append(page.Items, r.node())
			last = k
		}
		return nil
	})
	if err != nil {
		return directory.Page[*directory.Node]{}, err
	}
	return page, nil
}

// RenameNode changes a node's name and UpdatedAt (fault.ErrConflict on a
// sibling with that name, fault.ErrNotFound when missing).
func (s *Store) RenameNode(ctx context.Context, org, id, name string, at time.Time, ev audit.Event) (*directory.Node, error) {
	if err := checkEvent(&ev); err != nil {
		return nil, err
	}
	var out *directory.Node
	err := s.update(ctx, "rename node "+id, func(tx *bbolt.Tx) error {
		r, err := existingNode(tx, org, id)
		if err != nil {
			return err
		}
		d := dirOf(tx, org)
		n := r.node()
		if name != r.Name {
			nk := nameKey(n.Level(), n.ParentID(), name)
			if d.names.Get(nk) != nil {
				return fmt.Errorf("bolt: rename node %s: a sibling is named %q: %w", id, name, fault.ErrConflict)
			}
			if err := d.names.Delete(nameKey(n.Level(), n.ParentID(), r.Name)); err != nil {
				return err
			}
			if err := d.names.Put(nk, []byte(id)); err != nil {
				return err
			}
		}
		r.Name, r.UpdatedAt = name, utc(at)
		if err := putNode(d.nodes, r); err != nil {
			return err
		}
		out = r.node()
		return writeEvent(tx, &ev)
	})
	return out, err
}

// DeleteNode removes a node without children (fault.ErrConflict while it
// has any, fault.ErrNotFound when missing).
func (s *Store) DeleteNode(ctx context.Context, org, id string, ev audit.Event) error {
	if err := checkEvent(&ev); err != nil {
		return err
	}
	return s.update(ctx, "delete node "+id, func(tx *bbolt.Tx) error {
		r, err := existingNode(tx, org, id)
		if err != nil && fault.CodeOf(err) == fault.CodeInternal {
			if err := deleteBrokenNode(dirOf(tx, org), id); err != nil {
				return err
			}
			return writeEvent(tx, &ev)
		}
		if err != nil {
			return err
		}
		d := dirOf(tx, org)
		if k, _ := d.children.Cursor().Seek(childrenPrefix(id)); k != nil && bytes.HasPrefix(k, childrenPrefix(id)) {
			return fmt.Errorf("bolt: delete node %s: it has children: %w", id, fault.ErrConflict)
		}
		n := r.node()
		level, parent := n.Level(), n.ParentID()
		for _, del := range []struct {
			b *bbolt.Bucket
			k []byte
		}{
			{d.nodes, []byte(id)},
			{d.names, nameKey(level, parent, r.Name)},
			{d.children, childKey(parent, r.CreatedAt, id)},
			{d.levels, levelKey(level, r.CreatedAt, id)},
		} {
			if err := del.b.Delete(del.k); err != nil {
				return err
			}
		}
		return writeEvent(tx, &ev)
	})
}
