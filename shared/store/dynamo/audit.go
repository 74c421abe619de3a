package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
)

// typeEvent is the "type" of an audit event item.
const typeEvent = "event"

var _ audit.Reader = (*Store)(nil)

// WithAuditRetention sets how long audit events are kept: each event item
// carries ttl = its time + d (default audit.DefaultRetention), and
// listings never look further back.
func WithAuditRetention(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.retention = d
		}
	}
}

// monthLayout names an event partition's month.
const monthLayout = "2006-01"

// auditPK is the partition of an organization's events of one month.
func auditPK(org string, t time.Time) string {
	return "AUDIT#" + org + "#" + t.UTC().Format(monthLayout)
}

// auditKeyGSI1PK is the GSI1 partition of the events whose target is a key.
func auditKeyGSI1PK(org, key string) string { return "AUDIT#" + org + "#KEY#" + key }

// eventRecord is the stored form of an audit.Event.
type eventRecord struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	GSI1PK     string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK     string `dynamodbav:"GSI1SK,omitempty"`
	Type       string `dynamodbav:"type"`
	ID         string `dynamodbav:"id"`
	Org        string `dynamodbav:"org"`
	At         string `dynamodbav:"at"`
	Action     string `dynamodbav:"action"`
	ActorType  string `dynamodbav:"actor_type"`
	ActorID    string `dynamodbav:"actor_id,omitempty"`
	ActorName  string `dynamodbav:"actor_name,omitempty"`
	TargetType string `dynamodbav:"target_type"`
	TargetID   string `dynamodbav:"target_id"`
	TargetName string `dynamodbav:"target_name,omitempty"`
	IP         string `dynamodbav:"ip,omitempty"`
	UserAgent  string `dynamodbav:"user_agent,omitempty"`
	RequestID  string `dynamodbav:"request_id,omitempty"`
	// Changes is the JSON of audit.Event.Changes.
	Changes string `dynamodbav:"changes,omitempty"`
	TTL     int64  `dynamodbav:"ttl,omitempty"`
}

// eventItem encodes ev (checked) with its partition, index entry and ttl.
func (s *Store) eventItem(ev *audit.Event) (map[string]types.AttributeValue, error) {
	if err := ev.Check(); err != nil {
		return nil, fault.Wrap(err, fault.CodeInternal, "internal error")
	}
	if err := checkTime("event", ev.ID, "at", ev.At); err != nil {
		return nil, err
	}
	at := formatTime(ev.At)
	rec := eventRecord{
		PK: auditPK(ev.OrganizationID, ev.At), SK: sortKey(at, ev.ID), Type: typeEvent,
		ID: ev.ID, Org: ev.OrganizationID, At: at, Action: ev.Action,
		ActorType: ev.Actor.Type, ActorID: ev.Actor.ID, ActorName: ev.Actor.Name,
		TargetType: ev.Target.Type, TargetID: ev.Target.ID, TargetName: ev.Target.Name,
		TTL: int64(math.Ceil(float64(ev.At.Add(s.retention).UnixMilli()) / 1000)),
	}
	if k := ev.KeyID(); k != "" {
		rec.GSI1PK, rec.GSI1SK = auditKeyGSI1PK(ev.OrganizationID, k), rec.SK
	}
	if ev.Source != nil {
		rec.IP, rec.UserAgent, rec.RequestID = ev.Source.IP, ev.Source.UserAgent, ev.Source.RequestID
	}
	if len(ev.Changes) > 0 {
		b, err := json.Marshal(ev.Changes)
		if err != nil {
			return nil, fault.Wrap(fmt.Errorf("dynamo: encode changes of event %s: %w", ev.ID, err), fault.CodeInternal, "internal error")
		}
		rec.Changes = string(b)
	}
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return nil, fault.Wrap(fmt.Errorf("dynamo: encode event %s: %w", ev.ID, err), fault.CodeInternal, "internal error")
	}
	return item, nil
}

// decodeEvent reads an event item.
func decodeEvent(item map[string]types.AttributeValue) (audit.Event, error) {
	var rec eventRecord
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return audit.Event{}, fmt.Errorf("dynamo: decode event: %w", err)
	}
	at, err := parseTime(rec.At)
	if err != nil {
		return audit.Event{}, fmt.Errorf("dynamo: decode event %s: at: %w", rec.ID, err)
	}
	ev := audit.Event{
		ID: rec.ID, At: at, OrganizationID: rec.Org, Action: rec.Action,
		Actor:  audit.Actor{Type: rec.ActorType, ID: rec.ActorID, Name: rec.ActorName},
		Target: audit.Target{Type: rec.TargetType, ID: rec.TargetID, Name: rec.TargetName},
	}
	if src := (audit.Source{IP: rec.IP, UserAgent: rec.UserAgent, RequestID: rec.RequestID}); !src.IsZero() {
		ev.Source = &src
	}
	if rec.Changes != "" {
		if err := json.Unmarshal([]byte(rec.Changes), &ev.Changes); err != nil {
			return audit.Event{}, fmt.Errorf("dynamo: decode event %s: changes: %w", rec.ID, err)
		}
	}
	return ev, nil
}

// eventCursor is an audit listing's position: the month partition and the
// sort key of the last event returned, with the selection it belongs to.
type eventCursor struct {
	Org   string `json:"o"`
	Key   string `json:"k,omitempty"`
	Month string `json:"m,omitempty"`
	Sort  string `json:"s"`
}

func (c eventCursor) encode() string {
	b, _ := json.Marshal(c) // cannot fail: strings
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeEventCursor(s, org, key string) (eventCursor, error) {
	var c eventCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Sort == "" || len(c.Sort) < len(timeLayout) {
		return c, fault.Invalid("cursor", "the cursor is not valid")
	}
	if c.Org != org || c.Key != key {
		return c, fault.Invalid("cursor", "the cursor belongs to another listing")
	}
	if key == "" {
		if _, err := time.Parse(monthLayout, c.Month); err != nil {
			return c, fault.Invalid("cursor", "the cursor is not valid")
		}
	}
	return c, nil
}

// ListEvents returns a page of org's events, newest first. Without a key
// filter it queries the organization's month partitions from q.Until (or
// q.Now) back to q.Since (or the retention horizon at q.Now: never the wall
// clock), one Query per month
// until the page is full; with one it queries the key's GSI1 partition
// (eventually consistent) between the same bounds. q.Action is a
// FilterExpression: filtered-out events are read (and paid for) all the
// same. The start key is rebuilt inside org's partitions, so a cursor never
// reaches another organization.
func (s *Store) ListEvents(ctx context.Context, org string, q audit.Query) (audit.Page, error) {
	var page audit.Page
	since, until, err := q.Bounds(s.retention)
	if err != nil {
		return page, fault.Wrap(err, fault.CodeInternal, "internal error")
	}
	var cur *eventCursor
	if q.Cursor != "" {
		c, err := decodeEventCursor(q.Cursor, org, q.KeyID)
		if err != nil {
			return page, err
		}
		cur = &c
	}
	limit := q.PageSize()
	lo, hi := formatTime(since), formatTime(until)
	if cur != nil && cur.Sort < hi {
		hi = cur.Sort
	}
	if lo >= hi {
		return page, nil
	}
	type part struct{ index, pkAttr, skAttr, pk string }
	var parts []part
	if q.KeyID != "" {
		parts = []part{{IndexGSI1, AttrGSI1PK, AttrGSI1SK, auditKeyGSI1PK(org, q.KeyID)}}
	} else {
		first := until
		if cur != nil {
			first, _ = time.Parse(monthLayout, cur.Month)
		}
		m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC)
		for ; !m.Before(time.Date(since.Year(), since.Month(), 1, 0, 0, 0, 0, time.UTC)); m = m.AddDate(0, -1, 0) {
			parts = append(parts, part{"", AttrPK, AttrSK, auditPK(org, m)})
		}
	}
	for _, p := range parts {
		items, err := s.queryEvents(ctx, p.index, p.pkAttr, p.skAttr, p.pk, lo, hi, q.Action, limit+1-len(page.Items))
		if err != nil {
			return audit.Page{}, s.fail("list events of "+org, err)
		}
		for _, it := range items {
			ev, err := decodeEvent(it)
			if err != nil {
				s.logUnreadable(ctx, "event", stringAttr(it, "id"), err)
				continue
			}
			if len(page.Items) == limit {
				last := page.Items[len(page.Items)-1]
				c := eventCursor{Org: org, Key: q.KeyID, Sort: sortKey(formatTime(last.At), last.ID)}
				if q.KeyID == "" {
					c.Month = last.At.UTC().Format(monthLayout)
				}
				page.Next = c.encode()
				return page, nil
			}
			page.Items = append(page.Items, ev)
		}
	}
	return page, nil
}

// queryEvents reads up to limit matching events of one partition whose
// sort key lies in [lo, hi), newest first, following LastEvaluatedKey (a
// filter may leave pages short).
func (s *Store) queryEvents(ctx context.Context, index, pkAttr, skAttr, pk, lo, hi, action string, limit int) ([]map[string]types.AttributeValue, error) {
	kc := expression.Key(pkAttr).Equal(expression.Value(pk)).
		And(expression.Key(skAttr).Between(expression.Value(lo), expression.Value(hi)))
	b := expression.NewBuilder().WithKeyCondition(kc)
	if action != "" {
		b = b.WithFilter(expression.Name("action").Equal(expression.Value(action)))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build event query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	var out []map[string]types.AttributeValue
	for {
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range res.Items {
			// BETWEEN includes hi: the cursor's own event is skipped.
			if v, ok := it[skAttr].(*types.AttributeValueMemberS); ok && v.Value >= hi {
				continue
			}
			out = append(out, it)
		}
		if len(out) >= limit || len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
