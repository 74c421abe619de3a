package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// CreateOrganizationWithOwner puts the organization and its owner key
// (Version 1), each on condition that its item does not exist, with
// events: one TransactWriteItems, so both are stored or neither is
// (fault.ErrConflict, nothing written, when either exists). The last event
// is the transaction's own (its id is the idempotency token); the others
// are Puts of their own.
func (s *Store) CreateOrganizationWithOwner(ctx context.Context, org *directory.Organization, owner *keys.Key, events []audit.Event) error {
	what := "create organization " + org.ID + " with its owner key"
	if len(events) == 0 {
		return fault.Wrap(fmt.Errorf("dynamo: %s: no event", what), fault.CodeInternal, "internal error")
	}
	if owner.OrganizationID != org.ID {
		return fault.Invalid("key.organization_id", "must be the new organization's id")
	}
	orgItem, err := checkedOrgItem(org)
	if err != nil {
		return err
	}
	owner.Version = 1
	_, keyItem, err := checkedKeyItem(owner)
	if err != nil {
		return err
	}
	items := make([]types.TransactWriteItem, 0, len(events)+1)
	for _, item := range []map[string]types.AttributeValue{orgItem, keyItem} {
		w, err := s.txPutNew(item)
		if err != nil {
			return err
		}
		items = append(items, w)
	}
	for i := range events[:len(events)-1] {
		evItem, err := s.eventItem(&events[i])
		if err != nil {
			return err
		}
		w, err := s.txPutNew(evItem)
		if err != nil {
			return err
		}
		items = append(items, w)
	}
	c, err := s.transact(ctx, what, &events[len(events)-1], items)
	switch {
	case err != nil:
		return err
	case c == nil:
		return nil
	}
	if failed, _ := c.failed(0); failed {
		return fmt.Errorf("dynamo: organization %s: %w", org.ID, fault.New(fault.CodeConflict, "an organization with this id exists"))
	}
	if failed, _ := c.failed(1); failed {
		return fmt.Errorf("dynamo: key %s: %w", owner.ID, fault.New(fault.CodeConflict, "an api key with this id exists"))
	}
	return s.fail(what, fmt.Errorf("transaction cancelled: %v", c.reasons))
}
