package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
)

// errKeyNotFound is what a missing key answers.
func errKeyNotFound(id string) error {
	return fmt.Errorf("dynamo: key %s: %w", id, fault.NotFound("api key"))
}

func errKeyConflict(id string) error {
	return fmt.Errorf("dynamo: key %s: %w", id, fault.New(fault.CodeConflict, "the api key was changed by someone else; reload it and try again"))
}

// CreateKey puts the key with Version 1 on condition that no item has its
// primary key (fault.ErrConflict otherwise), and its event: one
// TransactWriteItems.
func (s *Store) CreateKey(ctx context.Context, k *keys.Key, ev audit.Event) error {
	k.Version = 1
	_, item, err := checkedKeyItem(k)
	if err != nil {
		return err
	}
	put, err := s.txPutNew(item)
	if err != nil {
		return err
	}
	c, err := s.transact(ctx, "create key "+k.ID, &ev, []types.TransactWriteItem{put})
	switch {
	case err != nil:
		return err
	case c == nil:
		return nil
	}
	return fmt.Errorf("dynamo: key %s: %w", k.ID, fault.New(fault.CodeConflict, "an api key with this id exists"))
}

// GetKey is the verification path: ONE strongly consistent GetItem by
// primary key, no query, no index. The caller checks expiry.
func (s *Store) GetKey(ctx context.Context, id string) (*keys.Key, error) {
	item, err := s.getItem(ctx, primaryKey(keyPK(id), keySK), "get key "+id)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, errKeyNotFound(id)
	}
	k, err := decodeKey(item)
	if err != nil {
		s.logUnreadable(ctx, "key", id, err)
		return nil, fmt.Errorf("dynamo: get key %s: %w", id, keys.Unreadable(id, stringAttr(item, "org"), numberAttr(item, attrVersion), err))
	}
	return k, nil
}

// logUnreadable logs a stored item that cannot be decoded, by id (never
// its digest).
func (s *Store) logUnreadable(ctx context.Context, kind, id string, err error) {
	s.log.ErrorContext(ctx, "dynamo: stored item cannot be decoded", "table", *s.table, "kind", kind, "id", id, "error", err)
}

func decodeKey(item map[string]types.AttributeValue) (*keys.Key, error) {
	var rec keyRecord
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return nil, fmt.Errorf("dynamo: decode key: %w", err)
	}
	return rec.key()
}

// ListKeys queries GSI1 (the organization's keys by creation time, then id)
// backwards: newest first. Index reads are eventually consistent, so a key
// created a moment ago may be missing from the first page for a moment.
func (s *Store) ListKeys(ctx context.Context, org string, opt directory.ListOptions) (directory.Page[*keys.Key], error) {
	l := listing{
		org: org, list: "keys", what: "list keys of " + org,
		index: IndexGSI1, ipk: AttrGSI1PK, isk: AttrGSI1SK, pkValue: keysGSI1PK(org),
		primary: func(id string) (string, string) { return keyPK(id), keySK },
	}
	return listPage(ctx, s, l, opt, decodeKey, func(k *keys.Key) (time.Time, string) { return k.CreatedAt, k.ID })
}

// listing is one paged listing of an index partition.
type listing struct {
	// org and list name the listing inside cursors (a cursor is only
	// accepted by the listing that made it).
	org, list string
	// what names the operation in errors.
	what string
	// index, its key attributes, and the partition read.
	index, ipk, isk, pkValue string
	// forward is oldest first; false is newest first.
	forward bool
	// primary returns an item's primary key from its id.
	primary func(id string) (pk, sk string)
}

// listPage reads one page of l after opt's cursor and decodes its items;
// pos gives an item's creation time and id, which make the next cursor. The
// start key is rebuilt inside l's own partition, so a cursor can never
// reach another organization's items. An item that does not decode is
// logged and reported in the page's Unreadable, and does not count toward
// the page size: the listing reads on until the page is full.
func listPage[T any](ctx context.Context, s *Store, l listing, opt directory.ListOptions, decode func(map[string]types.AttributeValue) (T, error), pos func(T) (time.Time, string)) (directory.Page[T], error) {
	var page directory.Page[T]
	var start map[string]types.AttributeValue
	if opt.Cursor != "" {
		c, err := decodeCursor(opt.Cursor, l.org, l.list)
		if err != nil {
			return page, err
		}
		pk, sk := l.primary(c.ID)
		start = map[string]types.AttributeValue{
			AttrPK: &types.AttributeValueMemberS{Value: pk},
			AttrSK: &types.AttributeValueMemberS{Value: sk},
			l.ipk:  &types.AttributeValueMemberS{Value: l.pkValue},
			l.isk:  &types.AttributeValueMemberS{Value: c.Sort},
		}
	}
	limit := opt.PageSize()
	for {
		items, next, err := s.query(ctx, l.index, l.ipk, l.pkValue, l.forward, start, limit+1-len(page.Items))
		if err != nil {
			return directory.Page[T]{}, s.fail(l.what, err)
		}
		for _, it := range items {
			if len(page.Items) == limit {
				// One more item follows the full page.
				created, id := pos(page.Items[len(page.Items)-1])
				page.Next = encodeCursor(cursor{Org: l.org, List: l.list, Sort: sortKey(formatTime(created), id), ID: id})
				return page, nil
			}
			v, err := decode(it)
			if err != nil {
				id := stringAttr(it, "id")
				s.logUnreadable(ctx, l.list, id, err)
				page.Unreadable = append(page.Unreadable, directory.Unreadable{ID: id})
				continue
			}
			page.Items = append(page.Items, v)
		}
		if len(next) == 0 {
			return page, nil
		}
		start = next
	}
}

// query reads up to limit items of one index partition in order, starting
// after start, and returns them with the key to go on from ("" when the
// partition has no more items).
func (s *Store) query(ctx context.Context, index, pkAttr, pkValue string, forward bool, start map[string]types.AttributeValue, limit int) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	kc, err := expression.NewBuilder().WithKeyCondition(expression.Key(pkAttr).Equal(expression.Value(pkValue))).Build()
	if err != nil {
		return nil, nil, fmt.Errorf("build key condition: %w", err)
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    kc.KeyCondition(),
		ExpressionAttributeNames:  kc.Names(),
		ExpressionAttributeValues: kc.Values(),
		ScanIndexForward:          aws.Bool(forward),
		ExclusiveStartKey:         start,
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, nil, err
	}
	return out.Items, out.LastEvaluatedKey, nil
}

// The attributes of the previous token on a key item (keys.PreviousToken).
// A rotation sets the first three; the last use of the previous token
// (prevLastUseAttrs) is recorded by verification. Clearing the previous
// token removes them all.
const (
	attrPrevDigest  = "prev_digest"
	attrPrevHint    = "prev_hint"
	attrPrevExpires = "prev_expires_at"
)

// prevLastUseAttrs are the previous token's last use.
var prevLastUseAttrs = []string{"prev_last_used_at", "prev_last_used_ip", "prev_last_used_ua"}

// previousAttrs are every attribute of the previous token.
var previousAttrs = append([]string{attrPrevDigest, attrPrevHint, attrPrevExpires}, prevLastUseAttrs...)

// UpdateKey sets the changeable attributes on condition that the stored
// version is expectedVersion, with the previous token's digest, hint and
// end (all its attributes are removed when the key has none, its last use
// when k.Previous.LastUsedAt is zero), and writes ev: one
// TransactWriteItems; last_used_at, created_at and created_by are not
// touched.
func (s *Store) UpdateKey(ctx context.Context, k *keys.Key, expectedVersion int64, ev audit.Event) error {
	return s.updateKey(ctx, k, expectedVersion, ev, nil)
}

// UpdateKeyWitnessed is UpdateKey with a ConditionCheck on the witness
// key's version in the same TransactWriteItems (keys.ErrWitnessChanged
// when it fails).
func (s *Store) UpdateKeyWitnessed(ctx context.Context, k *keys.Key, expectedVersion int64, ev audit.Event, w keys.Witness) error {
	return s.updateKey(ctx, k, expectedVersion, ev, &w)
}

// updateKey is UpdateKey, on the witness wit when not nil.
func (s *Store) updateKey(ctx context.Context, k *keys.Key, expectedVersion int64, ev audit.Event, wit *keys.Witness) error {
	rec, _, err := checkedKeyItem(k)
	if err != nil {
		return err
	}
	up := expression.Set(expression.Name("name"), expression.Value(rec.Name)).
		Set(expression.Name("allow_all"), expression.Value(rec.AllowAll)).
		Set(expression.Name("digest"), expression.Value(rec.Digest)).
		Set(expression.Name("hint"), expression.Value(rec.Hint)).
		Set(expression.Name(attrUpdated), expression.Value(rec.UpdatedAt)).
		Set(expression.Name(attrVersion), expression.Value(rec.Version))
	up = up.Set(expression.Name("grants"), expression.Value(rec.Grants))
	if len(rec.Networks) == 0 {
		up = up.Remove(expression.Name(attrNetworks))
	} else {
		up = up.Set(expression.Name(attrNetworks), expression.Value(rec.Networks))
	}
	for _, f := range append([]struct{ name, value string }{{"expires_at", rec.ExpiresAt}, {"rotated_at", rec.RotatedAt}}, rec.revocationAttrs()...) {
		if f.value == "" {
			up = up.Remove(expression.Name(f.name))
		} else {
			up = up.Set(expression.Name(f.name), expression.Value(f.value))
		}
	}
	if rec.PrevDigest == nil {
		for _, name := range previousAttrs {
			up = up.Remove(expression.Name(name))
		}
	} else {
		up = up.Set(expression.Name(attrPrevDigest), expression.Value(rec.PrevDigest)).
			Set(expression.Name(attrPrevHint), expression.Value(rec.PrevHint)).
			Set(expression.Name(attrPrevExpires), expression.Value(rec.PrevExpiresAt))
		if k.Previous.LastUsedAt.IsZero() {
			// A previous token never used (above all the new one of a
			// rotation) must not inherit the last use of the token it
			// replaces; one in use keeps what verification recorded.
			for _, name := range prevLastUseAttrs {
				up = up.Remove(expression.Name(name))
			}
		}
	}
	if rec.TTL == 0 {
		up = up.Remove(expression.Name(AttrTTL)).Remove(expression.Name(AttrGSI2PK)).Remove(expression.Name(AttrGSI2SK))
	} else {
		up = up.Set(expression.Name(AttrTTL), expression.Value(rec.TTL)).
			Set(expression.Name(AttrGSI2PK), expression.Value(rec.GSI2PK)).
			Set(expression.Name(AttrGSI2SK), expression.Value(rec.GSI2SK))
	}
	w, err := s.txUpdate(primaryKey(keyPK(k.ID), keySK), up, versionIs(expectedVersion))
	if err != nil {
		return err
	}
	return s.witnessedTx(ctx, "update key", k.ID, &ev, w, wit)
}

// versionIs is the condition of a write on an item's stored version: it
// exists with version v.
func versionIs(v int64) expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(AttrPK)).And(expression.Name(attrVersion).Equal(expression.Value(v)))
}

// versionedTx maps the outcome of a transaction whose first write was
// conditional on a key's version: not found when the key is missing, a
// conflict otherwise (refusedVersion).
func (s *Store) versionedTx(ctx context.Context, op, id string, c *canceled, err error) error {
	if err != nil || c == nil {
		return err
	}
	found, err := s.refusedVersion(ctx, op+" "+id, primaryKey(keyPK(id), keySK), c)
	switch {
	case err != nil:
		return err
	case !found:
		return errKeyNotFound(id)
	}
	return errKeyConflict(id)
}

// refusedVersion explains a cancelled transaction whose first write was
// conditional on the version of the item at key (transact already answered
// errBusy for a concurrent transaction): whether the item exists (from the stored
// item the cancellation returned, or one strongly consistent read when the
// server returned none): missing, or at another version.
func (s *Store) refusedVersion(ctx context.Context, what string, key map[string]types.AttributeValue, c *canceled) (bool, error) {
	failed, old := c.failed(0)
	if !failed {
		return false, s.fail(what, fmt.Errorf("transaction cancelled: %v", c.reasons))
	}
	return s.existed(ctx, key, old)
}

// DeleteKey deletes the key on condition that the stored version is
// expectedVersion, and writes ev: one TransactWriteItems.
func (s *Store) DeleteKey(ctx context.Context, id string, expectedVersion int64, ev audit.Event) error {
	return s.deleteKey(ctx, id, expectedVersion, ev, nil)
}

// DeleteKeyWitnessed is DeleteKey with a ConditionCheck on the witness
// key's version in the same TransactWriteItems (keys.ErrWitnessChanged
// when it fails).
func (s *Store) DeleteKeyWitnessed(ctx context.Context, id string, expectedVersion int64, ev audit.Event, w keys.Witness) error {
	return s.deleteKey(ctx, id, expectedVersion, ev, &w)
}

// deleteKey is DeleteKey, on the witness wit when not nil.
func (s *Store) deleteKey(ctx context.Context, id string, expectedVersion int64, ev audit.Event, wit *keys.Witness) error {
	w, err := s.txDelete(primaryKey(keyPK(id), keySK), versionIs(expectedVersion))
	if err != nil {
		return err
	}
	return s.witnessedTx(ctx, "delete key", id, &ev, w, wit)
}

// witnessedTx writes w, a write of key id conditional on its version, and
// ev in one TransactWriteItems, with a ConditionCheck that the witness key
// wit is still at its version when wit is not nil. DynamoDB transactions
// are serializable, so of two such writes naming each other's key as
// witness (two owner keys deleting each other) at most one applies.
func (s *Store) witnessedTx(ctx context.Context, op, id string, ev *audit.Event, w types.TransactWriteItem, wit *keys.Witness) error {
	items := []types.TransactWriteItem{w}
	if wit != nil {
		expr, err := expression.NewBuilder().WithCondition(versionIs(wit.Version)).Build()
		if err != nil {
			return fmt.Errorf("dynamo: build witness condition: %w", err)
		}
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: s.table, Key: primaryKey(keyPK(wit.ID), keySK),
			ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		}})
	}
	c, err := s.transact(ctx, op+" "+id, ev, items)
	if err == nil && c != nil && wit != nil {
		if own, _ := c.failed(0); !own {
			if failed, _ := c.failed(1); failed {
				return fmt.Errorf("dynamo: %s %s: witness %s is not at version %d: %w", op, id, wit.ID, wit.Version, keys.ErrWitnessChanged)
			}
		}
	}
	return s.versionedTx(ctx, op, id, c, err)
}

// TouchKey sets last_used_at to now on condition that it still holds prev
// (is absent for a zero prev) and the key exists. It does not change the
// version. One UpdateItem; a lost race answers (false, nil), a missing key
// fault.ErrNotFound.
func (s *Store) TouchKey(ctx context.Context, id string, prev, now time.Time) (bool, error) {
	if err := checkTime("key", id, "last_used_at", now); err != nil {
		return false, err
	}
	last := expression.Name(attrLastUsed)
	var was expression.ConditionBuilder
	if prev.IsZero() {
		was = expression.AttributeNotExists(last)
	} else {
		was = last.Equal(expression.Value(formatTime(prev)))
	}
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(last, expression.Value(formatTime(now)))).
		WithCondition(expression.AttributeExists(expression.Name(AttrPK)).And(was)).
		Build()
	if err != nil {
		return false, fmt.Errorf("dynamo: build touch: %w", err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 primaryKey(keyPK(id), keySK),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, old := conditionFailed(err); failed {
		found, err := s.existed(ctx, primaryKey(keyPK(id), keySK), old)
		switch {
		case err != nil:
			return false, err
		case !found:
			return false, errKeyNotFound(id)
		}
		return false, nil
	}
	if err != nil {
		return false, s.fail("touch key "+id, err)
	}
	return true, nil
}
