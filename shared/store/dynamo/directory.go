package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
)

func errOrgNotFound(id string) error {
	return fmt.Errorf("dynamo: organization %s: %w", id, fault.NotFound("organization"))
}

func errNodeNotFound(id string) error {
	return fmt.Errorf("dynamo: node %s: %w", id, fault.NotFound("node"))
}

func errNameTaken(name string) error {
	return fmt.Errorf("dynamo: name %q: %w", name, fault.New(fault.CodeConflict, "a sibling already has this name"))
}

// CreateOrganization puts the organization on condition that its item does
// not exist, and its event: one TransactWriteItems.
func (s *Store) CreateOrganization(ctx context.Context, org *directory.Organization, ev audit.Event) error {
	item, err := checkedOrgItem(org)
	if err != nil {
		return err
	}
	put, err := s.txPutNew(item)
	if err != nil {
		return err
	}
	c, err := s.transact(ctx, "create organization "+org.ID, &ev, []types.TransactWriteItem{put})
	switch {
	case err != nil:
		return err
	case c == nil:
		return nil
	}
	return fmt.Errorf("dynamo: organization %s: %w", org.ID, fault.New(fault.CodeConflict, "an organization with this id exists"))
}

// GetOrganization is one strongly consistent GetItem.
func (s *Store) GetOrganization(ctx context.Context, id string) (*directory.Organization, error) {
	item, err := s.getItem(ctx, primaryKey(orgPK(id), orgSK), "get organization "+id)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, errOrgNotFound(id)
	}
	return decodeOrg(item)
}

func decodeOrg(item map[string]types.AttributeValue) (*directory.Organization, error) {
	var rec orgRecord
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return nil, fmt.Errorf("dynamo: decode organization: %w", err)
	}
	return rec.org()
}

// RenameOrganization reads the organization (strongly consistent), then
// updates it on condition that it exists and writes ev: GetItem and one
// TransactWriteItems.
func (s *Store) RenameOrganization(ctx context.Context, id, name string, at time.Time, ev audit.Event) (*directory.Organization, error) {
	if err := checkText("organization", id, "name", name); err != nil {
		return nil, err
	}
	if err := checkTime("organization", id, "updated_at", at); err != nil {
		return nil, err
	}
	cur, err := s.GetOrganization(ctx, id)
	if err != nil {
		return nil, err
	}
	w, err := s.txUpdate(primaryKey(orgPK(id), orgSK),
		expression.Set(expression.Name(attrName), expression.Value(name)).
			Set(expression.Name(attrUpdated), expression.Value(formatTime(at))),
		expression.AttributeExists(expression.Name(AttrPK)))
	if err != nil {
		return nil, err
	}
	c, err := s.transact(ctx, "rename organization "+id, &ev, []types.TransactWriteItem{w})
	switch {
	case err != nil:
		return nil, err
	case c != nil:
		return nil, errOrgNotFound(id)
	}
	cur.Name, cur.UpdatedAt = name, at.UTC()
	return cur, nil
}

// parentOf returns the primary key of n's parent item (the organization for
// a team) and the condition that it exists at the place n's path says.
func parentOf(n *directory.Node) (map[string]types.AttributeValue, expression.ConditionBuilder) {
	exists := expression.AttributeExists(expression.Name(AttrPK))
	l := n.Level()
	if l == authz.LevelTeam {
		return primaryKey(orgPK(n.OrganizationID), orgSK), exists
	}
	cond := exists.And(expression.Name(attrLevel).Equal(expression.Value(l - 1)))
	for pl := authz.LevelTeam; pl < l; pl++ {
		cond = cond.And(expression.Name(pl.String()).Equal(expression.Value(n.Path.At(pl))))
	}
	return primaryKey(orgPK(n.OrganizationID), nodeSK(n.ParentID())), cond
}

// checkNode refuses a node whose path does not hold its own id and every
// ancestor's id.
func checkNode(n *directory.Node) error {
	l := n.Level()
	if l < authz.LevelTeam || n.ID == "" || n.Path.ID() != n.ID || n.OrganizationID == "" {
		return fault.Invalid("path", "a node needs an organization, and a path that ends with its own id")
	}
	for pl := authz.LevelTeam; pl < l; pl++ {
		if n.Path.At(pl) == "" {
			return fault.Invalid("path", "the node's %s id is missing", pl)
		}
	}
	return nil
}

// CreateNode stores a node with its event in one TransactWriteItems of
// four writes, applied all or none:
//
//  0. Update of the parent (the organization for a team): ADD 1 to its
//     children counter on condition that it exists at the place the path
//     says (fault.ErrNotFound otherwise). A parent being deleted at the same
//     moment either counts the child first (and then refuses deletion) or
//     is gone (and the create answers not found): no orphan.
//  1. Put of the name claim (attribute_not_exists): fault.ErrConflict when a
//     sibling holds the name.
//  2. Put of the node (attribute_not_exists): fault.ErrConflict when the id
//     exists.
//  3. Put of the event.
func (s *Store) CreateNode(ctx context.Context, n *directory.Node, ev audit.Event) error {
	if err := checkNode(n); err != nil {
		return err
	}
	nodeItem, err := checkedNodeItem(n)
	if err != nil {
		return err
	}
	pkey, pcond := parentOf(n)
	count, err := s.txUpdate(pkey, expression.Add(expression.Name(attrChildren), expression.Value(1)), pcond)
	if err != nil {
		return err
	}
	claimItem, err := attributevalue.MarshalMap(nameRecord{PK: orgPK(n.OrganizationID), SK: nameSK(n.ParentID(), n.Level(), n.Name), Type: typeName, Owner: n.ID})
	if err != nil {
		return fmt.Errorf("dynamo: encode name claim: %w", err)
	}
	claim, err := s.txPutNew(claimItem)
	if err != nil {
		return err
	}
	node, err := s.txPutNew(nodeItem)
	if err != nil {
		return err
	}
	c, err := s.transact(ctx, "create node "+n.ID, &ev, []types.TransactWriteItem{count, claim, node})
	switch {
	case err != nil:
		return err
	case c == nil:
		return nil
	}
	if failed, _ := c.failed(0); failed {
		if n.Level() == authz.LevelTeam {
			return errOrgNotFound(n.OrganizationID)
		}
		return errNodeNotFound(n.ParentID())
	}
	if failed, _ := c.failed(1); failed {
		return errNameTaken(n.Name)
	}
	return fmt.Errorf("dynamo: node %s: %w", n.ID, fault.New(fault.CodeConflict, "a node with this id exists"))
}

// GetNode is one strongly consistent GetItem on (organization, node id): a
// node of another organization is simply not there.
func (s *Store) GetNode(ctx context.Context, org, id string) (*directory.Node, error) {
	item, err := s.getItem(ctx, primaryKey(orgPK(org), nodeSK(id)), "get node "+id)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, errNodeNotFound(id)
	}
	n, err := decodeNode(item)
	if err != nil {
		s.logUnreadable(ctx, "node", id, err)
		return nil, fault.Wrap(fmt.Errorf("dynamo: get node %s: %w", id, err), fault.CodeInternal, "this stored node could not be read; contact support")
	}
	return n, nil
}

func decodeNode(item map[string]types.AttributeValue) (*directory.Node, error) {
	var rec nodeRecord
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return nil, fmt.Errorf("dynamo: decode node: %w", err)
	}
	return rec.node()
}

// ListNodes queries GSI1 (all nodes of a level in the organization) or, with
// a parent, GSI2 (the parent's children of that level), oldest first. Only
// direct children are listed: a parent two levels up lists nothing.
func (s *Store) ListNodes(ctx context.Context, org string, level authz.Level, parent string, opt directory.ListOptions) (directory.Page[*directory.Node], error) {
	if level < authz.LevelTeam || level > authz.LevelEnvironment {
		return directory.Page[*directory.Node]{}, fault.Invalid("level", "unknown level %s", level)
	}
	l := listing{
		org: org, list: "nodes:" + level.String() + ":" + parent, what: "list nodes of " + org, forward: true,
		index: IndexGSI1, ipk: AttrGSI1PK, isk: AttrGSI1SK, pkValue: levelGSI1PK(org, level),
		primary: func(id string) (string, string) { return orgPK(org), nodeSK(id) },
	}
	if parent != "" {
		l.index, l.ipk, l.isk, l.pkValue = IndexGSI2, AttrGSI2PK, AttrGSI2SK, childrenGSI2PK(org, parent, level)
	}
	return listPage(ctx, s, l, opt, decodeNode, func(n *directory.Node) (time.Time, string) { return n.CreatedAt, n.ID })
}

// RenameNode reads the node (strongly consistent), then in one
// TransactWriteItems claims the new name among its siblings, updates the
// node on condition that its name is still the one read, releases the old
// name and writes ev: GetItem and TransactWriteItems (of two writes when
// the name does not change).
func (s *Store) RenameNode(ctx context.Context, org, id, name string, at time.Time, ev audit.Event) (*directory.Node, error) {
	if err := checkText("node", id, "name", name); err != nil {
		return nil, err
	}
	if err := checkTime("node", id, "updated_at", at); err != nil {
		return nil, err
	}
	cur, err := s.GetNode(ctx, org, id)
	if err != nil {
		return nil, err
	}
	key := primaryKey(orgPK(org), nodeSK(id))
	exists := expression.AttributeExists(expression.Name(AttrPK))
	setUpdated := expression.Set(expression.Name(attrUpdated), expression.Value(formatTime(at)))
	var writes []types.TransactWriteItem
	nodeAt := 0
	if cur.Name == name {
		w, err := s.txUpdate(key, setUpdated, exists)
		if err != nil {
			return nil, err
		}
		writes = append(writes, w)
	} else {
		pk := orgPK(org)
		owner := expression.Name(attrOwner).Equal(expression.Value(id))
		claimItem, err := attributevalue.MarshalMap(nameRecord{PK: pk, SK: nameSK(cur.ParentID(), cur.Level(), name), Type: typeName, Owner: id})
		if err != nil {
			return nil, fmt.Errorf("dynamo: encode name claim: %w", err)
		}
		// A claim of this node's own (left by an interrupted rename of an
		// older build) is taken over.
		claim, err := s.txPut(claimItem, expression.AttributeNotExists(expression.Name(AttrPK)).Or(owner))
		if err != nil {
			return nil, err
		}
		node, err := s.txUpdate(key, setUpdated.Set(expression.Name(attrName), expression.Value(name)),
			exists.And(expression.Name(attrName).Equal(expression.Value(cur.Name))))
		if err != nil {
			return nil, err
		}
		release, err := s.txDelete(primaryKey(pk, nameSK(cur.ParentID(), cur.Level(), cur.Name)), owner)
		if err != nil {
			return nil, err
		}
		writes, nodeAt = []types.TransactWriteItem{claim, node, release}, 1
	}
	c, err := s.transact(ctx, "rename node "+id, &ev, writes)
	switch {
	case err != nil:
		return nil, err
	case c == nil:
		cur.Name, cur.UpdatedAt = name, at.UTC()
		return cur, nil
	}
	if failed, old := c.failed(nodeAt); failed {
		found, err := s.existed(ctx, key, old)
		switch {
		case err != nil:
			return nil, err
		case !found:
			return nil, errNodeNotFound(id)
		}
		return nil, fmt.Errorf("dynamo: node %s: %w", id, fault.New(fault.CodeConflict, "the node was renamed by someone else; reload it and try again"))
	}
	if failed, _ := c.failed(0); failed && nodeAt == 1 {
		return nil, errNameTaken(name)
	}
	return nil, fmt.Errorf("dynamo: node %s: %w", id, fault.New(fault.CodeConflict, "the node was renamed by someone else; reload it and try again"))
}

// DeleteNode reads the node (strongly consistent; only its path and name
// are needed, so an unreadable node is deleted too), then in one
// TransactWriteItems deletes it on condition that its children counter is
// zero (fault.ErrConflict otherwise) and its name is the one read,
// releases its name, counts it out of its parent and writes ev. A child
// being created at the same moment has either counted itself into the
// parent (the delete then answers a conflict) or finds the parent gone: no
// child is ever orphaned.
func (s *Store) DeleteNode(ctx context.Context, org, id string, ev audit.Event) error {
	key := primaryKey(orgPK(org), nodeSK(id))
	item, err := s.getItem(ctx, key, "read node "+id)
	if err != nil {
		return err
	}
	if item == nil {
		return errNodeNotFound(id)
	}
	var rec nodeRecord
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return fault.Wrap(fmt.Errorf("dynamo: node %s: %w", id, err), fault.CodeInternal, "internal error")
	}
	n := &directory.Node{ID: rec.ID, OrganizationID: rec.Org, Name: rec.Name,
		Path: authz.Node{Team: rec.Team, Project: rec.Project, Target: rec.Target, Environment: rec.Environment}}
	if n.ID != id || n.Path.ID() != id {
		return fault.Wrap(fmt.Errorf("dynamo: node %s: stored path %v does not end with it", id, n.Path), fault.CodeInternal, "internal error")
	}
	children := expression.Name(attrChildren)
	cond := expression.AttributeExists(expression.Name(AttrPK)).
		And(expression.Or(expression.AttributeNotExists(children), children.Equal(expression.Value(0)))).
		And(expression.Name(attrName).Equal(expression.Value(rec.Name)))
	del, err := s.txDelete(key, cond)
	if err != nil {
		return err
	}
	// The claim is released if it is the node's; a missing claim (an item
	// damaged by hand) does not keep the node from being deleted.
	release, err := s.txDelete(primaryKey(orgPK(org), nameSK(n.ParentID(), n.Level(), n.Name)),
		expression.AttributeNotExists(expression.Name(AttrPK)).Or(expression.Name(attrOwner).Equal(expression.Value(id))))
	if err != nil {
		return err
	}
	pkey, _ := parentOf(n)
	uncount, err := s.txUpdate(pkey, expression.Add(children, expression.Value(-1)), expression.AttributeExists(expression.Name(AttrPK)))
	if err != nil {
		return err
	}
	c, err := s.transact(ctx, "delete node "+id, &ev, []types.TransactWriteItem{del, release, uncount})
	switch {
	case err != nil:
		return err
	case c == nil:
		return nil
	}
	if failed, old := c.failed(0); failed {
		found, err := s.existed(ctx, key, old)
		switch {
		case err != nil:
			return err
		case !found:
			return errNodeNotFound(id)
		}
		var st nodeRecord
		if len(old) > 0 && attributevalue.UnmarshalMap(old, &st) == nil && st.Name != rec.Name {
			return fmt.Errorf("dynamo: node %s: %w", id, fault.New(fault.CodeConflict, "the node was renamed meanwhile; try again"))
		}
		return fmt.Errorf("dynamo: node %s: %w", id, fault.New(fault.CodeConflict, "the node still has children; delete them first"))
	}
	// The claim or the parent is not as the node says: an item damaged by
	// hand or by an older build's interrupted write.
	return fault.Wrap(fmt.Errorf("dynamo: delete node %s: transaction cancelled: %v", id, c.reasons), fault.CodeInternal, "internal error")
}
