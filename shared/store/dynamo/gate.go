package dynamo

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
)

// The write gate (docs/dynamodb.md, "The write gate"): no write stores an
// item this package cannot read back. Every item is encoded, decoded with
// the very reader GetKey, GetNode and the listings use, and compared with
// what the caller gave; an item that differs is refused before any request
// is sent. Strings must also be valid UTF-8, since the wire protocol is JSON
// and DynamoDB would otherwise store something else.

// checkTime refuses an instant that does not read back from its stored
// form (formatTime's fixed-width layout holds years 0000 to 9999 in UTC).
func checkTime(kind, id, field string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	got, err := parseTime(formatTime(t))
	if err != nil || !got.Equal(t) {
		if err == nil {
			err = fmt.Errorf("%s reads back as %s", formatTime(t), got)
		}
		return store.NotStorable(kind, id, field, err)
	}
	return nil
}

// checkText refuses a string that is not valid UTF-8.
func checkText(kind, id, field, s string) error {
	if !utf8.ValidString(s) {
		return store.NotStorable(kind, id, field, fmt.Errorf("not valid UTF-8"))
	}
	return nil
}

// checkedKeyItem encodes a key and gates it: the item to write, or the
// refusal.
func checkedKeyItem(k *keys.Key) (keyRecord, map[string]types.AttributeValue, error) {
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"expires_at", k.ExpiresAt}, {"created_at", k.CreatedAt}, {"updated_at", k.UpdatedAt}, {"rotated_at", k.RotatedAt}, {"last_used_at", k.LastUsedAt}} {
		if err := checkTime("key", k.ID, f.name, f.t); err != nil {
			return keyRecord{}, nil, err
		}
	}
	if p := k.Previous; p != nil {
		if err := checkTime("key", k.ID, "prev_expires_at", p.ExpiresAt); err != nil {
			return keyRecord{}, nil, err
		}
		if err := checkText("key", k.ID, "prev_hint", p.Hint); err != nil {
			return keyRecord{}, nil, err
		}
	}
	if err := checkText("key", k.ID, "name", k.Name); err != nil {
		return keyRecord{}, nil, err
	}
	for _, g := range k.Grants {
		for _, s := range []string{g.Permission, g.Scope.Team, g.Scope.Project, g.Scope.Target, g.Scope.Environment} {
			if err := checkText("key", k.ID, "permissions", s); err != nil {
				return keyRecord{}, nil, err
			}
		}
	}
	fields := []struct{ name, s string }{{"id", k.ID}, {"organization_id", k.OrganizationID}, {"hint", k.Hint}, {"created_by", k.CreatedBy}}
	if v := k.Revoked; v != nil {
		if err := checkTime("key", k.ID, "revoked_at", v.At); err != nil {
			return keyRecord{}, nil, err
		}
		fields = append(fields, []struct{ name, s string }{{"revoked_reason", v.Reason}, {"revoked_reporter", v.Reporter}, {"revoked_url", v.URL}, {"revoked_source", v.Source}}...)
	}
	for _, f := range fields {
		if err := checkText("key", k.ID, f.name, f.s); err != nil {
			return keyRecord{}, nil, err
		}
	}
	rec := newKeyRecord(k)
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return keyRecord{}, nil, store.NotStorable("key", k.ID, "item", err)
	}
	got, err := decodeKey(item)
	if err != nil {
		return keyRecord{}, nil, store.NotStorable("key", k.ID, "item", err)
	}
	if field := store.KeyDiff(k, got); field != "" {
		return keyRecord{}, nil, store.NotStorable("key", k.ID, field, nil)
	}
	return rec, item, nil
}

// checkedNodeItem encodes a node and gates it.
func checkedNodeItem(n *directory.Node) (map[string]types.AttributeValue, error) {
	for _, f := range []struct{ name, s string }{{"name", n.Name}, {"id", n.ID}, {"organization_id", n.OrganizationID},
		{"path", n.Path.Team}, {"path", n.Path.Project}, {"path", n.Path.Target}, {"path", n.Path.Environment}} {
		if err := checkText("node", n.ID, f.name, f.s); err != nil {
			return nil, err
		}
	}
	if err := checkTime("node", n.ID, "created_at", n.CreatedAt); err != nil {
		return nil, err
	}
	if err := checkTime("node", n.ID, "updated_at", n.UpdatedAt); err != nil {
		return nil, err
	}
	item, err := attributevalue.MarshalMap(newNodeRecord(n))
	if err != nil {
		return nil, store.NotStorable("node", n.ID, "item", err)
	}
	got, err := decodeNode(item)
	if err != nil {
		return nil, store.NotStorable("node", n.ID, "item", err)
	}
	if field := store.NodeDiff(n, got); field != "" {
		return nil, store.NotStorable("node", n.ID, field, nil)
	}
	return item, nil
}

// checkedOrgItem encodes an organization and gates it.
func checkedOrgItem(o *directory.Organization) (map[string]types.AttributeValue, error) {
	if err := checkText("organization", o.ID, "id", o.ID); err != nil {
		return nil, err
	}
	if err := checkText("organization", o.ID, "name", o.Name); err != nil {
		return nil, err
	}
	if err := checkTime("organization", o.ID, "created_at", o.CreatedAt); err != nil {
		return nil, err
	}
	if err := checkTime("organization", o.ID, "updated_at", o.UpdatedAt); err != nil {
		return nil, err
	}
	rec := orgRecord{PK: orgPK(o.ID), SK: orgSK, Type: typeOrg, ID: o.ID, Name: o.Name,
		CreatedAt: formatTime(o.CreatedAt), UpdatedAt: formatTime(o.UpdatedAt)}
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return nil, store.NotStorable("organization", o.ID, "item", err)
	}
	got, err := decodeOrg(item)
	if err != nil {
		return nil, store.NotStorable("organization", o.ID, "item", err)
	}
	if field := store.OrganizationDiff(o, got); field != "" {
		return nil, store.NotStorable("organization", o.ID, field, nil)
	}
	return item, nil
}

// Salvage: what can still be read of an item that does not decode.

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func numberAttr(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}
