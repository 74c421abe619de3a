package dynamo

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
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
	"github.com/dotenv/apikeys/shared/stdwebhook"
	"github.com/dotenv/apikeys/shared/webhook"
)

// Items of the webhooks (docs/dynamodb.md, "Webhooks"):
//
//	endpoint  PK=ORG#<org>          SK=WEBHOOK#<id>
//	delivery  PK=WEBHOOK#<endpoint> SK=DELIVERY#<id>
//	          GSI1PK=WEBHOOK#<endpoint>#DELIVERIES GSI1SK=<created_at>#<id>   (listing, newest first)
//	          GSI2PK=DELIVERIES#DUE GSI2SK=<next_attempt_at>#<id>             (pending only: the due queue)
//	          ttl = give_up_at + 30 days
//	key       GSI2PK=EXPIRES#<UTC day> GSI2SK=<expires_at>#<id>              (expiring keys only: the sweep)
const (
	typeWebhook  = "webhook"
	typeDelivery = "delivery"
	duePK        = "DELIVERIES#DUE"
)

var _ webhook.Store = (*Store)(nil)

func webhookSK(id string) string              { return "WEBHOOK#" + id }
func deliveryPK(endpoint string) string       { return "WEBHOOK#" + endpoint }
func deliverySK(id string) string             { return "DELIVERY#" + id }
func deliveriesGSI1PK(endpoint string) string { return "WEBHOOK#" + endpoint + "#DELIVERIES" }

// webhookRecord is an endpoint item.
type webhookRecord struct {
	PK                      string   `dynamodbav:"PK"`
	SK                      string   `dynamodbav:"SK"`
	Type                    string   `dynamodbav:"type"`
	ID                      string   `dynamodbav:"id"`
	Org                     string   `dynamodbav:"org"`
	URL                     string   `dynamodbav:"url"`
	Events                  []string `dynamodbav:"events"`
	Description             string   `dynamodbav:"description,omitempty"`
	Secret                  string   `dynamodbav:"secret"`
	PreviousSecret          string   `dynamodbav:"previous_secret,omitempty"`
	PreviousSecretExpiresAt string   `dynamodbav:"previous_secret_expires_at,omitempty"`
	CreatedAt               string   `dynamodbav:"created_at"`
	UpdatedAt               string   `dynamodbav:"updated_at"`
	Version                 int64    `dynamodbav:"version"`
}

func newWebhookRecord(e *webhook.Endpoint) webhookRecord {
	return webhookRecord{
		PK: orgPK(e.OrganizationID), SK: webhookSK(e.ID), Type: typeWebhook,
		ID: e.ID, Org: e.OrganizationID, URL: e.URL, Events: e.Events, Description: e.Description,
		Secret: string(e.Secret), PreviousSecret: string(e.PreviousSecret),
		PreviousSecretExpiresAt: formatTime(e.PreviousSecretExpiresAt),
		CreatedAt:               formatTime(e.CreatedAt), UpdatedAt: formatTime(e.UpdatedAt), Version: e.Version,
	}
}

func decodeWebhook(item map[string]types.AttributeValue) (*webhook.Endpoint, error) {
	var r webhookRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return nil, fmt.Errorf("dynamo: decode webhook: %w", err)
	}
	e := &webhook.Endpoint{
		ID: r.ID, OrganizationID: r.Org, URL: r.URL, Events: r.Events, Description: r.Description,
		Secret: stdwebhook.Secret(r.Secret), PreviousSecret: stdwebhook.Secret(r.PreviousSecret), Version: r.Version,
	}
	var err error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&e.PreviousSecretExpiresAt, r.PreviousSecretExpiresAt}, {&e.CreatedAt, r.CreatedAt}, {&e.UpdatedAt, r.UpdatedAt}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return nil, fmt.Errorf("dynamo: decode webhook %s: %w", r.ID, err)
		}
	}
	return e, nil
}

// attemptRecord is one attempt in a delivery item.
type attemptRecord struct {
	At         string `dynamodbav:"at"`
	Status     int    `dynamodbav:"status"`
	DurationMS int64  `dynamodbav:"duration_ms"`
	Error      string `dynamodbav:"error,omitempty"`
}

// deliveryRecord is a delivery item.
type deliveryRecord struct {
	PK            string          `dynamodbav:"PK"`
	SK            string          `dynamodbav:"SK"`
	GSI1PK        string          `dynamodbav:"GSI1PK"`
	GSI1SK        string          `dynamodbav:"GSI1SK"`
	GSI2PK        string          `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK        string          `dynamodbav:"GSI2SK,omitempty"`
	Type          string          `dynamodbav:"type"`
	ID            string          `dynamodbav:"id"`
	Org           string          `dynamodbav:"org"`
	Endpoint      string          `dynamodbav:"endpoint"`
	EventType     string          `dynamodbav:"event_type"`
	Payload       string          `dynamodbav:"payload"`
	CreatedAt     string          `dynamodbav:"created_at"`
	Attempts      []attemptRecord `dynamodbav:"attempts"`
	State         string          `dynamodbav:"state"`
	NextAttemptAt string          `dynamodbav:"next_attempt_at,omitempty"`
	GiveUpAt      string          `dynamodbav:"give_up_at,omitempty"`
	TTL           int64           `dynamodbav:"ttl"`
	Version       int64           `dynamodbav:"version"`
}

// dueGSI2 is a delivery's place in the due queue (none unless pending).
func dueGSI2(d *webhook.Delivery) (pk, sk string) {
	if d.State != webhook.StatePending {
		return "", ""
	}
	return duePK, sortKey(formatTime(d.NextAttemptAt), d.ID)
}

func newDeliveryRecord(d *webhook.Delivery) deliveryRecord {
	created := formatTime(d.CreatedAt)
	pk, sk := dueGSI2(d)
	r := deliveryRecord{
		PK: deliveryPK(d.EndpointID), SK: deliverySK(d.ID),
		GSI1PK: deliveriesGSI1PK(d.EndpointID), GSI1SK: sortKey(created, d.ID),
		GSI2PK: pk, GSI2SK: sk, Type: typeDelivery,
		ID: d.ID, Org: d.OrganizationID, Endpoint: d.EndpointID, EventType: d.EventType,
		Payload: string(d.Payload), CreatedAt: created, State: string(d.State),
		NextAttemptAt: formatTime(d.NextAttemptAt), GiveUpAt: formatTime(d.GiveUpAt),
		TTL: ttlOf(d.GiveUpAt.Add(webhook.DeliveryRetention)), Version: d.Version,
		Attempts: []attemptRecord{},
	}
	for _, a := range d.Attempts {
		r.Attempts = append(r.Attempts, attemptRecord{At: formatTime(a.At), Status: a.Status, DurationMS: a.DurationMS, Error: a.Error})
	}
	return r
}

func decodeDelivery(item map[string]types.AttributeValue) (*webhook.Delivery, error) {
	var r deliveryRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return nil, fmt.Errorf("dynamo: decode delivery: %w", err)
	}
	d := &webhook.Delivery{
		ID: r.ID, OrganizationID: r.Org, EndpointID: r.Endpoint, EventType: r.EventType,
		Payload: []byte(r.Payload), State: webhook.State(r.State), Version: r.Version,
	}
	var err error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&d.CreatedAt, r.CreatedAt}, {&d.NextAttemptAt, r.NextAttemptAt}, {&d.GiveUpAt, r.GiveUpAt}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return nil, fmt.Errorf("dynamo: decode delivery %s: %w", r.ID, err)
		}
	}
	for _, a := range r.Attempts {
		at, err := parseTime(a.At)
		if err != nil {
			return nil, fmt.Errorf("dynamo: decode delivery %s: %w", r.ID, err)
		}
		d.Attempts = append(d.Attempts, webhook.Attempt{At: at, Status: a.Status, DurationMS: a.DurationMS, Error: a.Error})
	}
	return d, nil
}

// checkWebhookTimes refuses instants the item cannot hold.
func checkTimes(kind, id string, ts map[string]time.Time) error {
	for name, t := range ts {
		if err := checkTime(kind, id, name, t); err != nil {
			return err
		}
	}
	return nil
}

// CreateWebhook is one TransactWriteItems: the endpoint's Put on condition
// that its key is free, and its audit event.
func (s *Store) CreateWebhook(ctx context.Context, e *webhook.Endpoint, ev audit.Event) error {
	e.Version = 1
	if err := checkTimes("webhook", e.ID, map[string]time.Time{"created_at": e.CreatedAt, "updated_at": e.UpdatedAt, "previous_secret_expires_at": e.PreviousSecretExpiresAt}); err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(newWebhookRecord(e))
	if err != nil {
		return fmt.Errorf("dynamo: encode webhook %s: %w", e.ID, err)
	}
	put, err := s.txPutNew(item)
	if err != nil {
		return err
	}
	what := "create webhook " + e.ID
	c, err := s.transact(ctx, what, &ev, []types.TransactWriteItem{put})
	switch {
	case err != nil:
		return err
	case c == nil:
		return nil
	}
	return fmt.Errorf("dynamo: webhook %s: %w", e.ID, fault.New(fault.CodeConflict, "a webhook with this id exists"))
}

// GetWebhook is one strongly consistent GetItem in the organization's
// partition (so another organization's id is simply not found). An item
// that does not decode answers a webhook.UnreadableError with its version
// and organization as still read from it, so that it can be deleted.
func (s *Store) GetWebhook(ctx context.Context, org, id string) (*webhook.Endpoint, error) {
	item, err := s.getItem(ctx, primaryKey(orgPK(org), webhookSK(id)), "get webhook "+id)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, fmt.Errorf("dynamo: webhook %s: %w", id, fault.ErrNotFound)
	}
	e, err := decodeWebhook(item)
	if err != nil {
		s.logUnreadable(ctx, "webhook", id, err)
		return nil, fmt.Errorf("dynamo: get webhook %s: %w", id, webhook.Unreadable(id, webhookOrg(item), numberAttr(item, attrVersion), err))
	}
	return e, nil
}

// webhookOrg is the organization of an endpoint item that does not
// decode: the one its partition key names (where it lives, and where
// DeleteWebhook looks for it), else its org attribute.
func webhookOrg(item map[string]types.AttributeValue) string {
	if org, ok := strings.CutPrefix(stringAttr(item, AttrPK), orgPK("")); ok && org != "" {
		return org
	}
	return stringAttr(item, "org")
}

// ListWebhooks is one Query of the organization's partition on the
// WEBHOOK# sort key prefix (at most webhook.MaxEndpoints items, one page).
func (s *Store) ListWebhooks(ctx context.Context, org string) ([]*webhook.Endpoint, []directory.Unreadable, error) {
	kc := expression.Key(AttrPK).Equal(expression.Value(orgPK(org))).And(expression.Key(AttrSK).BeginsWith("WEBHOOK#"))
	items, err := s.queryAll(ctx, "", kc, true, true, 0)
	if err != nil {
		return nil, nil, s.fail("list webhooks of "+org, err)
	}
	out := make([]*webhook.Endpoint, 0, len(items))
	var broken []directory.Unreadable
	for _, item := range items {
		e, err := decodeWebhook(item)
		if err != nil {
			id := stringAttr(item, "id")
			s.logUnreadable(ctx, "webhook", id, err)
			broken = append(broken, directory.Unreadable{ID: id})
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *webhook.Endpoint) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out, broken, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// queryAll runs a Query (on the table when index is "") and follows its
// pages until limit items (0: all).
func (s *Store) queryAll(ctx context.Context, index string, kc expression.KeyConditionBuilder, forward, consistent bool, limit int) ([]map[string]types.AttributeValue, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, fmt.Errorf("build key condition: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(forward),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(consistent)
	}
	var out []map[string]types.AttributeValue
	for {
		if limit > 0 {
			in.Limit = aws.Int32(int32(limit - len(out)))
		}
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if len(page.LastEvaluatedKey) == 0 || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// UpdateWebhook is one TransactWriteItems: the endpoint's Put on condition
// that it exists with expectedVersion (the whole endpoint is rewritten; it
// is small), and its audit event.
func (s *Store) UpdateWebhook(ctx context.Context, e *webhook.Endpoint, expectedVersion int64, ev audit.Event) error {
	if err := checkTimes("webhook", e.ID, map[string]time.Time{"created_at": e.CreatedAt, "updated_at": e.UpdatedAt, "previous_secret_expires_at": e.PreviousSecretExpiresAt}); err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(newWebhookRecord(e))
	if err != nil {
		return fmt.Errorf("dynamo: encode webhook %s: %w", e.ID, err)
	}
	put, err := s.txPut(item, versionIs(expectedVersion))
	if err != nil {
		return err
	}
	what := "update webhook " + e.ID
	c, err := s.transact(ctx, what, &ev, []types.TransactWriteItem{put})
	if err != nil || c == nil {
		return err
	}
	return s.versionLost(ctx, what, primaryKey(orgPK(e.OrganizationID), webhookSK(e.ID)), c, expectedVersion)
}

// versionLost explains a refused versioned write of the endpoint at key
// (refusedVersion): fault.ErrNotFound when it is missing, fault.ErrConflict
// when it is at another version.
func (s *Store) versionLost(ctx context.Context, what string, key map[string]types.AttributeValue, c *canceled, expectedVersion int64) error {
	found, err := s.refusedVersion(ctx, what, key, c)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("dynamo: %s: %w", what, fault.ErrNotFound)
	}
	return fmt.Errorf("dynamo: %s: stored version is not %d: %w", what, expectedVersion, fault.ErrConflict)
}

// putVersioned replaces an item on condition that it exists with
// expectedVersion; a lost condition is fault.ErrNotFound or
// fault.ErrConflict, and a retried write that already landed (the stored
// item equals item) is success.
func (s *Store) putVersioned(ctx context.Context, what string, key, item map[string]types.AttributeValue, expectedVersion int64) error {
	cond := expression.AttributeExists(expression.Name(AttrPK)).And(expression.Name(attrVersion).Equal(expression.Value(expectedVersion)))
	err := s.putIf(ctx, item, cond)
	failed, old := conditionFailed(err)
	if !failed {
		if err != nil {
			return s.fail(what, err)
		}
		return nil
	}
	old, err = s.oldItem(ctx, key, old)
	switch {
	case err != nil:
		return err
	case len(old) == 0:
		return fmt.Errorf("dynamo: %s: %w", what, fault.ErrNotFound)
	case sameItem(old, item):
		return nil
	}
	return fmt.Errorf("dynamo: %s: stored version %d, expected %d: %w", what, numberAttr(old, attrVersion), expectedVersion, fault.ErrConflict)
}

// DeleteWebhook is one TransactWriteItems: the endpoint's Delete on
// condition that it exists with expectedVersion, and its audit event.
func (s *Store) DeleteWebhook(ctx context.Context, org, id string, expectedVersion int64, ev audit.Event) error {
	key := primaryKey(orgPK(org), webhookSK(id))
	del, err := s.txDelete(key, versionIs(expectedVersion))
	if err != nil {
		return err
	}
	what := "delete webhook " + id
	c, err := s.transact(ctx, what, &ev, []types.TransactWriteItem{del})
	if err != nil || c == nil {
		return err
	}
	return s.versionLost(ctx, what, key, c, expectedVersion)
}

// checkDelivery refuses a delivery the item cannot hold.
func checkDelivery(d *webhook.Delivery) error {
	ts := map[string]time.Time{"created_at": d.CreatedAt, "next_attempt_at": d.NextAttemptAt, "give_up_at": d.GiveUpAt}
	for i, a := range d.Attempts {
		ts[fmt.Sprintf("attempts[%d].at", i)] = a.At
	}
	return checkTimes("delivery", d.ID, ts)
}

// CreateDelivery is one PutItem on condition that no delivery has the id;
// a lost condition reports false.
func (s *Store) CreateDelivery(ctx context.Context, d *webhook.Delivery) (bool, error) {
	d.Version = 1
	if err := checkDelivery(d); err != nil {
		return false, err
	}
	item, err := attributevalue.MarshalMap(newDeliveryRecord(d))
	if err != nil {
		return false, fmt.Errorf("dynamo: encode delivery %s: %w", d.ID, err)
	}
	err = s.putIf(ctx, item, expression.AttributeNotExists(expression.Name(AttrPK)))
	if failed, _ := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, s.fail("create delivery "+d.ID, err)
	}
	return true, nil
}

// GetDelivery is one strongly consistent GetItem.
func (s *Store) GetDelivery(ctx context.Context, endpoint, id string) (*webhook.Delivery, error) {
	item, err := s.getItem(ctx, primaryKey(deliveryPK(endpoint), deliverySK(id)), "get delivery "+id)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, fmt.Errorf("dynamo: delivery %s: %w", id, fault.ErrNotFound)
	}
	return decodeDelivery(item)
}

// ListDeliveries is one Query of GSI1, newest first; an item that does
// not decode is logged and reported.
func (s *Store) ListDeliveries(ctx context.Context, endpoint string, limit int) ([]*webhook.Delivery, []directory.Unreadable, error) {
	items, err := s.queryAll(ctx, IndexGSI1, expression.Key(AttrGSI1PK).Equal(expression.Value(deliveriesGSI1PK(endpoint))), false, false, limit)
	if err != nil {
		return nil, nil, s.fail("list deliveries of "+endpoint, err)
	}
	out, broken := s.decodeDeliveries(ctx, items)
	return out, broken, nil
}

// decodeDeliveries decodes delivery items; one that does not decode is
// logged and returned in broken.
func (s *Store) decodeDeliveries(ctx context.Context, items []map[string]types.AttributeValue) (out []*webhook.Delivery, broken []directory.Unreadable) {
	out = make([]*webhook.Delivery, 0, len(items))
	for _, item := range items {
		d, err := decodeDelivery(item)
		if err != nil {
			id := stringAttr(item, "id")
			s.logUnreadable(ctx, "delivery", id, err)
			broken = append(broken, directory.Unreadable{ID: id})
			continue
		}
		out = append(out, d)
	}
	return out, broken
}

// UpdateDelivery rewrites the delivery item (its due queue place with it)
// on condition that the stored version is expectedVersion.
func (s *Store) UpdateDelivery(ctx context.Context, d *webhook.Delivery, expectedVersion int64) error {
	if err := checkDelivery(d); err != nil {
		return err
	}
	key := primaryKey(deliveryPK(d.EndpointID), deliverySK(d.ID))
	cur, err := s.getItem(ctx, key, "update delivery "+d.ID)
	if err != nil {
		return err
	}
	if cur == nil {
		return fmt.Errorf("dynamo: delivery %s: %w", d.ID, fault.ErrNotFound)
	}
	stored, err := decodeDelivery(cur)
	if err != nil {
		return err
	}
	// The fields the update does not change are kept as stored.
	next := d.Clone()
	next.OrganizationID, next.EventType, next.Payload, next.CreatedAt = stored.OrganizationID, stored.EventType, stored.Payload, stored.CreatedAt
	item, err := attributevalue.MarshalMap(newDeliveryRecord(next))
	if err != nil {
		return fmt.Errorf("dynamo: encode delivery %s: %w", d.ID, err)
	}
	return s.putVersioned(ctx, "update delivery "+d.ID, key, item, expectedVersion)
}

// DueDeliveries is one Query of the due queue (GSI2 partition
// DELIVERIES#DUE) up to now, after after, earliest first. The index is
// eventually consistent: a delivery read there in an older state fails
// its claim.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, after webhook.Position, limit int) (webhook.Page[*webhook.Delivery], error) {
	var page webhook.Page[*webhook.Delivery]
	span, ok := gsi2Range(duePK, time.Time{}, after, now.Add(time.Nanosecond))
	if !ok {
		return page, nil
	}
	items, err := s.indexPage(ctx, span, limit, &page.Next, &page.More)
	if err != nil {
		return page, s.fail("due deliveries", err)
	}
	page.Items, _ = s.decodeDeliveries(ctx, items) // the broken ones are logged
	return page, nil
}

// ExpiringKeys queries the expiry index (GSI2 partitions EXPIRES#<day>),
// one day at a time from the day of from (or of after) to the day of to,
// until it read limit entries.
func (s *Store) ExpiringKeys(ctx context.Context, from, to time.Time, after webhook.Position, limit int) (webhook.Page[*keys.Key], error) {
	var page webhook.Page[*keys.Key]
	day := from.UTC().Truncate(24 * time.Hour)
	if !after.IsZero() && after.At.After(from) {
		day = after.At.UTC().Truncate(24 * time.Hour)
	}
	read := 0
	for ; day.Before(to) && read < limit; day = day.Add(24 * time.Hour) {
		span, ok := gsi2Range(expiresGSI2PK(day), from, after, to)
		if !ok {
			continue
		}
		var more bool
		items, err := s.indexPage(ctx, span, limit-read, &page.Next, &more)
		if err != nil {
			return webhook.Page[*keys.Key]{}, s.fail("expiring keys", err)
		}
		read += len(items)
		for _, item := range items {
			k, err := decodeKey(item)
			if err != nil {
				s.logUnreadable(ctx, "key", stringAttr(item, "id"), err)
				continue
			}
			page.Items = append(page.Items, k)
		}
	}
	page.More = read == limit
	return page, nil
}

// gsi2Span is a range of one GSI2 partition (sort keys "<time>#<id>", in
// time then id order): the key condition DynamoDB applies, and the
// exclusive upper bound the reader applies itself when the condition
// cannot carry it.
type gsi2Span struct {
	kc   expression.KeyConditionBuilder
	high string // sort keys from high on are past the span
}

// gsi2Range is the span of the entries of GSI2 partition pk from the
// instant lo (from the first when lo is zero), strictly after the entry at
// after when it is set, and before the instant hi. It answers false when
// the span is empty. A key condition has one sort-key comparison: "from lo
// to hi" is a BETWEEN (no sort key equals a bare time, so the inclusive
// bound hi admits none at hi); "strictly after an entry" is a > on its
// sort key, and the reader then stops at hi itself (indexPage).
func gsi2Range(pk string, lo time.Time, after webhook.Position, hi time.Time) (gsi2Span, bool) {
	low, high := formatTime(lo), formatTime(hi)
	kc := expression.Key(AttrGSI2PK).Equal(expression.Value(pk))
	if !after.IsZero() {
		if a := sortKey(formatTime(after.At), after.ID); a >= low {
			if a >= high {
				return gsi2Span{}, false
			}
			return gsi2Span{kc: kc.And(expression.Key(AttrGSI2SK).GreaterThan(expression.Value(a))), high: high}, true
		}
	}
	switch {
	case low == "":
		return gsi2Span{kc: kc.And(expression.Key(AttrGSI2SK).LessThan(expression.Value(high))), high: high}, true
	case low >= high:
		return gsi2Span{}, false
	default:
		return gsi2Span{kc: kc.And(expression.Key(AttrGSI2SK).Between(expression.Value(low), expression.Value(high))), high: high}, true
	}
}

// indexPage reads up to limit entries of GSI2 in span, in order; when it
// read any, it sets *next to the position of the last one (from its sort
// key) and *more to whether more may follow (it read limit, none past the
// span's end).
func (s *Store) indexPage(ctx context.Context, span gsi2Span, limit int, next *webhook.Position, more *bool) ([]map[string]types.AttributeValue, error) {
	items, err := s.queryAll(ctx, IndexGSI2, span.kc, true, false, limit)
	if err != nil {
		return nil, err
	}
	*more = len(items) == limit
	for i, item := range items {
		if stringAttr(item, AttrGSI2SK) >= span.high {
			items, *more = items[:i], false
			break
		}
	}
	if len(items) == 0 {
		return items, nil
	}
	sk := stringAttr(items[len(items)-1], AttrGSI2SK)
	n := len(timeLayout)
	if len(sk) <= n || sk[n] != '#' {
		return nil, fmt.Errorf("index entry %q is not <time>#<id>", sk)
	}
	at, err := parseTime(sk[:n])
	if err != nil {
		return nil, fmt.Errorf("index entry %q: %w", sk, err)
	}
	*next = webhook.Position{At: at, ID: sk[n+1:]}
	return items, nil
}

// putIf puts item on condition cond, asking for the stored item when the
// condition fails (read it with conditionFailed).
func (s *Store) putIf(ctx context.Context, item map[string]types.AttributeValue, cond expression.ConditionBuilder) error {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("dynamo: build condition: %w", err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                item,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return err
}

// sameItem reports whether stored holds every attribute of written with
// the same value.
func sameItem(stored, written map[string]types.AttributeValue) bool {
	if len(stored) == 0 {
		return false
	}
	for k, v := range written {
		if !reflect.DeepEqual(stored[k], v) {
			return false
		}
	}
	return true
}

// Pending notices (the outbox of change events): one item per audited
// change that announces a webhook event, written in the change's
// transaction, found through the sparse GSI2 partition NOTICES#PENDING and
// deleted once its deliveries are queued. Its ttl is a safety net only.
const (
	noticesGSI2PK = "NOTICES#PENDING"
	noticeSK      = "NOTICE"
	typeNotice    = "notice"
)

func noticePK(eventID string) string { return "NOTICE#" + eventID }

// noticeRecord is a pending notice item.
type noticeRecord struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	GSI2PK     string `dynamodbav:"GSI2PK"`
	GSI2SK     string `dynamodbav:"GSI2SK"`
	Type       string `dynamodbav:"type"`
	EventID    string `dynamodbav:"id"`
	Org        string `dynamodbav:"org"`
	At         string `dynamodbav:"at"`
	NoticeType string `dynamodbav:"notice_type"`
	Data       string `dynamodbav:"data"`
	TTL        int64  `dynamodbav:"ttl"`
}

// noticeItem is the pending notice item of ev (which carries a Notice).
func (s *Store) noticeItem(ev *audit.Event) (map[string]types.AttributeValue, error) {
	at := formatTime(ev.At)
	item, err := attributevalue.MarshalMap(noticeRecord{
		PK: noticePK(ev.ID), SK: noticeSK, GSI2PK: noticesGSI2PK, GSI2SK: sortKey(at, ev.ID), Type: typeNotice,
		EventID: ev.ID, Org: ev.OrganizationID, At: at, NoticeType: ev.Notice.Type, Data: string(ev.Notice.Data),
		TTL: ttlOf(ev.At.Add(webhook.DeliveryRetention)),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: encode the notice of event %s: %w", ev.ID, err)
	}
	return item, nil
}

// PendingNotices is one Query (paged to limit) of GSI2 NOTICES#PENDING up
// to before, after after, oldest first.
func (s *Store) PendingNotices(ctx context.Context, before time.Time, after webhook.Position, limit int) (webhook.Page[webhook.PendingNotice], error) {
	var page webhook.Page[webhook.PendingNotice]
	span, ok := gsi2Range(noticesGSI2PK, time.Time{}, after, before.Add(time.Nanosecond))
	if !ok {
		return page, nil
	}
	items, err := s.indexPage(ctx, span, limit, &page.Next, &page.More)
	if err != nil {
		return webhook.Page[webhook.PendingNotice]{}, s.fail("pending notices", err)
	}
	out := make([]webhook.PendingNotice, 0, len(items))
	for _, item := range items {
		var r noticeRecord
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			s.logUnreadable(ctx, "notice", stringAttr(item, "id"), err)
			continue
		}
		at, err := parseTime(r.At)
		if err != nil {
			s.logUnreadable(ctx, "notice", r.EventID, err)
			continue
		}
		out = append(out, webhook.PendingNotice{EventID: r.EventID, OrganizationID: r.Org, At: at,
			Notice: audit.Notice{Type: r.NoticeType, Data: []byte(r.Data)}})
	}
	page.Items = out
	return page, nil
}

// DeleteNotice is one DeleteItem (a missing item is not an error).
func (s *Store) DeleteNotice(ctx context.Context, n webhook.PendingNotice) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: primaryKey(noticePK(n.EventID), noticeSK)})
	if err != nil {
		return s.fail("delete notice "+n.EventID, err)
	}
	return nil
}
