package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
)

// Every audited change is one TransactWriteItems: the change's own writes,
// each with its condition, the Put of its pending webhook notice if it
// announces one, and the Put of its audit event (both on condition
// attribute_not_exists). DynamoDB applies all of them or none, so no
// acknowledged change lacks its event and no event lacks its change, across
// any crash (docs/dynamodb.md, "Audit trail").

// Cancellation reason codes (types.CancellationReason.Code).
const (
	reasonCondition   = "ConditionalCheckFailed"
	reasonTxConflict  = "TransactionConflict"
	maxTransactItems  = 100
	clientTokenMaxLen = 36
)

// txPut is a Put of item on cond inside a transaction; a lost condition
// returns the stored item.
func (s *Store) txPut(item map[string]types.AttributeValue, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: build condition: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: s.table, Item: item,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// txPutNew is a Put of item on condition that no item has its primary key.
func (s *Store) txPutNew(item map[string]types.AttributeValue) (types.TransactWriteItem, error) {
	return s.txPut(item, expression.AttributeNotExists(expression.Name(AttrPK)))
}

// txUpdate is an Update of key on cond inside a transaction.
func (s *Store) txUpdate(key map[string]types.AttributeValue, up expression.UpdateBuilder, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithUpdate(up).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: build update: %w", err)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: s.table, Key: key, UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// txDelete is a Delete of key on cond inside a transaction.
func (s *Store) txDelete(key map[string]types.AttributeValue, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: build condition: %w", err)
	}
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: s.table, Key: key,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// canceled is a transaction DynamoDB refused as a whole; reasons holds one
// entry per write of the change (the notice's and the event's entries are
// left out).
type canceled struct {
	reasons []types.CancellationReason
}

// failed reports whether write i lost its condition, and the stored item
// it found (nil when the item is missing or the server returned none).
func (c *canceled) failed(i int) (bool, map[string]types.AttributeValue) {
	if c == nil || i >= len(c.reasons) {
		return false, nil
	}
	r := c.reasons[i]
	return aws.ToString(r.Code) == reasonCondition, r.Item
}

// conflicting reports whether a write was refused because another
// transaction was changing the same item at the same moment.
func (c *canceled) conflicting() bool {
	for _, r := range c.reasons {
		if aws.ToString(r.Code) == reasonTxConflict {
			return true
		}
	}
	return false
}

// transact writes items and ev in one TransactWriteItems. It answers nil
// when the change was applied, a *canceled when DynamoDB refused it for a
// lost condition, errBusy (a conflict the caller may retry) when a
// concurrent transaction was changing one of its items, or another error
// wrapped for the caller.
//
// The event's id is the ClientRequestToken, so DynamoDB applies a retried
// call (the SDK's retryer resends it when the answer is lost) only once and
// answers success. A server that ignores the token (moto) applies the
// retry's writes again: the event's attribute_not_exists condition then
// fails on the event stored by the first attempt, and a stored event equal
// to ev proves the change was applied: that is success too.
func (s *Store) transact(ctx context.Context, what string, ev *audit.Event, items []types.TransactWriteItem) (*canceled, error) {
	evItem, err := s.eventItem(ev)
	if err != nil {
		return nil, err
	}
	put, err := s.txPutNew(evItem)
	if err != nil {
		return nil, err
	}
	all := append(make([]types.TransactWriteItem, 0, len(items)+2), items...)
	extra := 1 // the event, and its notice if any, follow the change's own writes
	if ev.Notice != nil {
		notice, err := s.noticeItem(ev)
		if err != nil {
			return nil, err
		}
		w, err := s.txPutNew(notice)
		if err != nil {
			return nil, err
		}
		all = append(all, w)
		extra++
	}
	all = append(all, put)
	if len(all) > maxTransactItems || len(ev.ID) > clientTokenMaxLen {
		return nil, fault.Wrap(fmt.Errorf("dynamo: %s: transaction of %d items, token %d characters", what, len(all), len(ev.ID)), fault.CodeInternal, "internal error")
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      all,
		ClientRequestToken: aws.String(ev.ID),
	})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		if err != nil {
			return nil, s.fail(what, err)
		}
		return nil, nil
	}
	reasons := tce.CancellationReasons
	if len(reasons) == len(all) {
		last := reasons[len(reasons)-1]
		if aws.ToString(last.Code) == reasonCondition {
			stored, err := s.oldItem(ctx, map[string]types.AttributeValue{AttrPK: evItem[AttrPK], AttrSK: evItem[AttrSK]}, last.Item)
			if err != nil {
				return nil, err
			}
			if reflect.DeepEqual(stored, evItem) {
				return nil, nil // applied by an earlier attempt of this call
			}
			return nil, fault.Wrap(fmt.Errorf("dynamo: %s: event %s exists", what, ev.ID), fault.CodeInternal, "internal error")
		}
		reasons = reasons[:len(reasons)-extra]
	}
	c := &canceled{reasons: reasons}
	if c.conflicting() {
		return nil, errBusy(what)
	}
	return c, nil
}

// errBusy is what a change refused because of a concurrent transaction on
// one of its items answers: a conflict the caller may retry.
func errBusy(what string) error {
	return fmt.Errorf("dynamo: %s: %w", what, fault.New(fault.CodeConflict, "changed by someone else at the same moment; try again"))
}
