package dynamo

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
)

// undoTimeout bounds each compensating write of a multi-item change; it
// runs even when the request's context is already cancelled.
const undoTimeout = 10 * time.Second

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
// not exist. One PutItem.
func (s *Store) CreateOrganization(ctx context.Context, org *directory.Organization) error {
	item, err := checkedOrgItem(org)
	if err != nil {
		return err
	}
	err = s.putNewItem(ctx, item)
	if failed, _ := conditionFailed(err); failed {
		return fmt.Errorf("dynamo: organization %s: %w", org.ID, fault.New(fault.CodeConflict, "an organization with this id exists"))
	}
	if err != nil {
		return s.fail("create organization "+org.ID, err)
	}
	return nil
}

// putNew puts rec on condition that no item has its primary key.
//
// A lost condition where the stored item is the very item being written
// (every attribute equal, counters aside) is success: an earlier attempt of
// this same call was stored and its answer lost, and the SDK's retryer sent
// it again (seen with dropped connections). Ids, digests and millisecond
// creation times make it impossible for another writer to store the same
// item, so this never hides a real conflict.
func (s *Store) putNew(ctx context.Context, rec any) error {
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return fmt.Errorf("dynamo: encode item: %w", err)
	}
	return s.putNewItem(ctx, item)
}

// putNewItem is putNew for an item already encoded (and gated).
func (s *Store) putNewItem(ctx context.Context, item map[string]types.AttributeValue) error {
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(AttrPK))).Build()
	if err != nil {
		return fmt.Errorf("dynamo: build condition: %w", err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                item,
		ConditionExpression:                 cond.Condition(),
		ExpressionAttributeNames:            cond.Names(),
		ExpressionAttributeValues:           cond.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	failed, old := conditionFailed(err)
	if !failed {
		return err
	}
	old, gerr := s.oldItem(ctx, map[string]types.AttributeValue{AttrPK: item[AttrPK], AttrSK: item[AttrSK]}, old)
	if gerr != nil {
		return gerr
	}
	if sameItem(old, item) {
		return nil
	}
	return err
}

// sameItem reports whether stored holds every attribute of written with the
// same value, counters aside (concurrent children may have counted).
func sameItem(stored, written map[string]types.AttributeValue) bool {
	if len(stored) == 0 {
		return false
	}
	for k, v := range written {
		if k == attrChildren {
			continue
		}
		if !reflect.DeepEqual(stored[k], v) {
			return false
		}
	}
	return true
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

// RenameOrganization is one UpdateItem on condition that the organization
// exists.
func (s *Store) RenameOrganization(ctx context.Context, id, name string, at time.Time) (*directory.Organization, error) {
	if err := checkText("organization", id, "name", name); err != nil {
		return nil, err
	}
	if err := checkTime("organization", id, "updated_at", at); err != nil {
		return nil, err
	}
	out, err := s.update(ctx, primaryKey(orgPK(id), orgSK),
		expression.Set(expression.Name(attrName), expression.Value(name)).
			Set(expression.Name(attrUpdated), expression.Value(formatTime(at))),
		expression.AttributeExists(expression.Name(AttrPK)))
	if failed, _ := conditionFailed(err); failed {
		return nil, errOrgNotFound(id)
	}
	if err != nil {
		return nil, s.fail("rename organization "+id, err)
	}
	return decodeOrg(out.Attributes)
}

// update runs one conditional UpdateItem that returns the new item, and the
// old one when the condition fails.
func (s *Store) update(ctx context.Context, key map[string]types.AttributeValue, up expression.UpdateBuilder, cond expression.ConditionBuilder) (*dynamodb.UpdateItemOutput, error) {
	expr, err := expression.NewBuilder().WithUpdate(up).WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("dynamo: build update: %w", err)
	}
	return s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 key,
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
}

// deleteIf runs one conditional DeleteItem that returns the deleted item,
// or the existing one when the condition fails.
func (s *Store) deleteIf(ctx context.Context, key map[string]types.AttributeValue, cond expression.ConditionBuilder) (*dynamodb.DeleteItemOutput, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("dynamo: build condition: %w", err)
	}
	return s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           s.table,
		Key:                                 key,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
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

// CreateNode stores a node in three conditional single-item writes, undone
// in reverse order when a later one fails (no transaction: dynalite has
// none, and none is needed):
//
//  1. UpdateItem on the parent (the organization for a team): ADD 1 to its
//     children counter on condition that it exists at the place the path
//     says (fault.ErrNotFound otherwise). From then on the parent cannot be
//     deleted, so the node can never be orphaned.
//  2. PutItem of the name claim (attribute_not_exists): fault.ErrConflict
//     when a sibling holds the name.
//  3. PutItem of the node (attribute_not_exists): fault.ErrConflict when the
//     id exists.
func (s *Store) CreateNode(ctx context.Context, n *directory.Node) error {
	if err := checkNode(n); err != nil {
		return err
	}
	nodeItem, err := checkedNodeItem(n)
	if err != nil {
		return err
	}
	pkey, pcond := parentOf(n)
	_, err = s.update(ctx, pkey, expression.Add(expression.Name(attrChildren), expression.Value(1)), pcond)
	if failed, _ := conditionFailed(err); failed {
		if n.Level() == authz.LevelTeam {
			return errOrgNotFound(n.OrganizationID)
		}
		return errNodeNotFound(n.ParentID())
	}
	if err != nil {
		return s.fail("create node "+n.ID+": count child", err)
	}
	undoCount := func() {
		s.undo(ctx, "uncount child "+n.ID, func(ctx context.Context) error {
			_, err := s.update(ctx, pkey, expression.Add(expression.Name(attrChildren), expression.Value(-1)), expression.AttributeExists(expression.Name(AttrPK)))
			return err
		})
	}

	claim := nameRecord{PK: orgPK(n.OrganizationID), SK: nameSK(n.ParentID(), n.Level(), n.Name), Type: typeName, Owner: n.ID}
	err = s.putNew(ctx, claim)
	if err != nil {
		undoCount()
		if failed, _ := conditionFailed(err); failed {
			return errNameTaken(n.Name)
		}
		return s.fail("create node "+n.ID+": claim name", err)
	}

	err = s.putNewItem(ctx, nodeItem)
	if err != nil {
		s.undo(ctx, "release name of "+n.ID, func(ctx context.Context) error { return s.release(ctx, claim.PK, claim.SK, n.ID) })
		undoCount()
		if failed, _ := conditionFailed(err); failed {
			return fmt.Errorf("dynamo: node %s: %w", n.ID, fault.New(fault.CodeConflict, "a node with this id exists"))
		}
		return s.fail("create node "+n.ID, err)
	}
	return nil
}

// release deletes a name claim if owner still holds it.
func (s *Store) release(ctx context.Context, pk, sk, owner string) error {
	_, err := s.deleteIf(ctx, primaryKey(pk, sk), expression.Name(attrOwner).Equal(expression.Value(owner)))
	if failed, _ := conditionFailed(err); failed {
		return nil // someone else's claim, or already gone
	}
	return err
}

// undo runs a compensating write even if ctx is done, and logs its failure
// (the request already has its own error to return).
func (s *Store) undo(ctx context.Context, what string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		s.log.ErrorContext(ctx, "dynamo: compensating write failed", "table", *s.table, "step", what, "error", err)
	}
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

// RenameNode reads the node, claims the new name among its siblings, updates
// the node on condition that its name is still the one read, and releases
// the old name: GetItem, PutItem, UpdateItem, DeleteItem (one UpdateItem
// when the name does not change).
func (s *Store) RenameNode(ctx context.Context, org, id, name string, at time.Time) (*directory.Node, error) {
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
	if cur.Name == name {
		out, err := s.update(ctx, key, setUpdated, exists)
		if failed, _ := conditionFailed(err); failed {
			return nil, errNodeNotFound(id)
		}
		if err != nil {
			return nil, s.fail("rename node "+id, err)
		}
		return decodeNode(out.Attributes)
	}

	pk := orgPK(org)
	newSK := nameSK(cur.ParentID(), cur.Level(), name)
	err = s.putNew(ctx, nameRecord{PK: pk, SK: newSK, Type: typeName, Owner: id})
	if failed, old := conditionFailed(err); failed {
		var held nameRecord
		if attributevalue.UnmarshalMap(old, &held) != nil || held.Owner != id {
			return nil, errNameTaken(name)
		}
		// A claim of our own left behind by an interrupted rename: reuse it.
	} else if err != nil {
		return nil, s.fail("rename node "+id+": claim name", err)
	}

	out, err := s.update(ctx, key,
		setUpdated.Set(expression.Name(attrName), expression.Value(name)),
		exists.And(expression.Name(attrName).Equal(expression.Value(cur.Name))))
	if err != nil {
		s.undo(ctx, "release new name of "+id, func(ctx context.Context) error { return s.release(ctx, pk, newSK, id) })
		if failed, old := conditionFailed(err); failed {
			found, err := s.existed(ctx, key, old)
			switch {
			case err != nil:
				return nil, err
			case !found:
				return nil, errNodeNotFound(id)
			}
			return nil, fmt.Errorf("dynamo: node %s: %w", id, fault.New(fault.CodeConflict, "the node was renamed by someone else; reload it and try again"))
		}
		return nil, s.fail("rename node "+id, err)
	}
	s.undo(ctx, "release old name of "+id, func(ctx context.Context) error {
		return s.release(ctx, pk, nameSK(cur.ParentID(), cur.Level(), cur.Name), id)
	})
	return decodeNode(out.Attributes)
}

// DeleteNode deletes the node on condition that its children counter is
// zero (fault.ErrConflict otherwise), then releases its name and counts it
// out of its parent: DeleteItem, DeleteItem, UpdateItem. A child being
// created concurrently has already counted itself into the parent (step 1
// of CreateNode) or will fail to (the parent is gone), so no child is ever
// orphaned. If the process dies between the steps, the parent's counter
// stays too high (it refuses deletion: the safe side) or the name stays
// claimed; both are logged when the write fails.
func (s *Store) DeleteNode(ctx context.Context, org, id string) error {
	children := expression.Name(attrChildren)
	cond := expression.AttributeExists(expression.Name(AttrPK)).
		And(expression.Or(expression.AttributeNotExists(children), children.Equal(expression.Value(0))))
	key := primaryKey(orgPK(org), nodeSK(id))
	out, err := s.deleteIf(ctx, key, cond)
	if failed, old := conditionFailed(err); failed {
		found, err := s.existed(ctx, key, old)
		switch {
		case err != nil:
			return err
		case !found:
			return errNodeNotFound(id)
		}
		return fmt.Errorf("dynamo: node %s: %w", id, fault.New(fault.CodeConflict, "the node still has children; delete them first"))
	}
	if err != nil {
		return s.fail("delete node "+id, err)
	}
	// Only the path and the name are needed to clean up, so a node whose
	// times do not parse (an unreadable item) is cleaned up too.
	var rec nodeRecord
	if err := attributevalue.UnmarshalMap(out.Attributes, &rec); err != nil {
		return fault.Wrap(fmt.Errorf("dynamo: deleted node %s: %w", id, err), fault.CodeInternal, "internal error")
	}
	n := &directory.Node{ID: rec.ID, OrganizationID: rec.Org, Name: rec.Name,
		Path: authz.Node{Team: rec.Team, Project: rec.Project, Target: rec.Target, Environment: rec.Environment}}
	s.undo(ctx, "release name of deleted "+id, func(ctx context.Context) error {
		return s.release(ctx, orgPK(org), nameSK(n.ParentID(), n.Level(), n.Name), id)
	})
	pkey, _ := parentOf(n)
	s.undo(ctx, "uncount deleted child "+id, func(ctx context.Context) error {
		_, err := s.update(ctx, pkey, expression.Add(children, expression.Value(-1)), expression.AttributeExists(expression.Name(AttrPK)))
		return err
	})
	return nil
}
