package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/token"
)

// Item types (the "type" attribute of every item).
const (
	typeKey  = "key"
	typeOrg  = "org"
	typeNode = "node"
	typeName = "name"
)

// Data attribute names used in expressions (the records' dynamodbav tags
// spell the same names).
const (
	attrVersion  = "version"
	attrLastUsed = "last_used_at"
	attrName     = "name"
	attrUpdated  = "updated_at"
	attrChildren = "children"
	attrLevel    = "level"
	attrOwner    = "owner"
	// attrNetworks is a key's network allowlist (a list of strings).
	attrNetworks = "cidrs"
)

// timeLayout is a fixed-width UTC layout with nanoseconds, so stored times
// sort as strings and round-trip exactly.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(timeLayout, s)
}

// Primary and index keys.
func keyPK(id string) string            { return "KEY#" + id }
func orgPK(org string) string           { return "ORG#" + org }
func nodeSK(id string) string           { return "NODE#" + id }
func keysGSI1PK(org string) string      { return "ORG#" + org + "#KEYS" }
func sortKey(created, id string) string { return created + "#" + id }

const (
	keySK = "KEY"
	orgSK = "ORG"
)

func levelGSI1PK(org string, l authz.Level) string {
	return "ORG#" + org + "#LEVEL#" + l.String()
}

// childrenGSI2PK is the partition of GSI2 that holds parent's children of
// level l; parent is "" for the organization (teams).
func childrenGSI2PK(org, parent string, l authz.Level) string {
	if parent == "" {
		parent = "ORG"
	}
	return "ORG#" + org + "#PARENT#" + parent + "#" + l.String()
}

// nameSK is the sort key of the item that claims a name among the children
// of parent ("" for the organization's teams).
func nameSK(parent string, l authz.Level, name string) string {
	if parent == "" {
		parent = "ORG"
	}
	return "NAME#" + parent + "#" + l.String() + "#" + name
}

// grantRecord is one stored grant.
type grantRecord struct {
	Permission  string `dynamodbav:"permission"`
	Team        string `dynamodbav:"team,omitempty"`
	Project     string `dynamodbav:"project,omitempty"`
	Target      string `dynamodbav:"target,omitempty"`
	Environment string `dynamodbav:"environment,omitempty"`
}

// keyRecord is a key item. Grants is not omitempty so that a nil list
// (NULL) and an empty list round-trip as they were.
type keyRecord struct {
	PK         string        `dynamodbav:"PK"`
	SK         string        `dynamodbav:"SK"`
	GSI1PK     string        `dynamodbav:"GSI1PK"`
	GSI1SK     string        `dynamodbav:"GSI1SK"`
	GSI2PK     string        `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK     string        `dynamodbav:"GSI2SK,omitempty"`
	Type       string        `dynamodbav:"type"`
	ID         string        `dynamodbav:"id"`
	Org        string        `dynamodbav:"org"`
	Name       string        `dynamodbav:"name"`
	AllowAll   bool          `dynamodbav:"allow_all"`
	Grants     []grantRecord `dynamodbav:"grants"`
	ExpiresAt  string        `dynamodbav:"expires_at,omitempty"`
	TTL        int64         `dynamodbav:"ttl,omitempty"`
	Digest     []byte        `dynamodbav:"digest"`
	Hint       string        `dynamodbav:"hint"`
	CreatedAt  string        `dynamodbav:"created_at"`
	UpdatedAt  string        `dynamodbav:"updated_at"`
	RotatedAt  string        `dynamodbav:"rotated_at,omitempty"`
	LastUsedAt string        `dynamodbav:"last_used_at,omitempty"`
	LastUsedIP string        `dynamodbav:"last_used_ip,omitempty"`
	LastUsedUA string        `dynamodbav:"last_used_ua,omitempty"`
	CreatedBy  string        `dynamodbav:"created_by,omitempty"`
	// PrevDigest, PrevHint and PrevExpiresAt are the token the last
	// rotation replaced (keys.PreviousToken), present while it is kept.
	PrevDigest    []byte `dynamodbav:"prev_digest,omitempty"`
	PrevHint      string `dynamodbav:"prev_hint,omitempty"`
	PrevExpiresAt string `dynamodbav:"prev_expires_at,omitempty"`
	// The previous token's last use (AddUsage).
	PrevLastUsedAt string `dynamodbav:"prev_last_used_at,omitempty"`
	PrevLastUsedIP string `dynamodbav:"prev_last_used_ip,omitempty"`
	PrevLastUsedUA string `dynamodbav:"prev_last_used_ua,omitempty"`
	Version        int64  `dynamodbav:"version"`
	// The revocation (absent when the key is not revoked).
	RevokedAt       string `dynamodbav:"revoked_at,omitempty"`
	RevokedReason   string `dynamodbav:"revoked_reason,omitempty"`
	RevokedReporter string `dynamodbav:"revoked_reporter,omitempty"`
	RevokedURL      string `dynamodbav:"revoked_url,omitempty"`
	RevokedSource   string `dynamodbav:"revoked_source,omitempty"`
	// Networks is the allowlist as a list of CIDR strings in normal form
	// (store.EncodeNetworks), absent when the key may be used anywhere.
	Networks []string `dynamodbav:"cidrs,omitempty"`
}

// revocationAttrs are the attributes of a key's revocation, for UpdateKey.
func (r *keyRecord) revocationAttrs() []struct{ name, value string } {
	return []struct{ name, value string }{{"revoked_at", r.RevokedAt}, {"revoked_reason", r.RevokedReason},
		{"revoked_reporter", r.RevokedReporter}, {"revoked_url", r.RevokedURL}, {"revoked_source", r.RevokedSource}}
}

// ttlOf is the TTL attribute's value for an expiry: epoch seconds rounded up
// (so DynamoDB never deletes a key before it expires), 0 for never.
func ttlOf(expires time.Time) int64 {
	if expires.IsZero() {
		return 0
	}
	s := expires.Unix()
	if expires.Nanosecond() > 0 {
		s++
	}
	return s
}

func grantsToRecords(gs []authz.Grant) []grantRecord {
	if gs == nil {
		return nil
	}
	out := make([]grantRecord, len(gs))
	for i, g := range gs {
		out[i] = grantRecord{Permission: g.Permission, Team: g.Scope.Team, Project: g.Scope.Project, Target: g.Scope.Target, Environment: g.Scope.Environment}
	}
	return out
}

func recordsToGrants(rs []grantRecord) []authz.Grant {
	if rs == nil {
		return nil
	}
	out := make([]authz.Grant, len(rs))
	for i, r := range rs {
		out[i] = authz.Grant{Permission: r.Permission, Scope: authz.Node{Team: r.Team, Project: r.Project, Target: r.Target, Environment: r.Environment}}
	}
	return out
}

// expiryGSI2 is the place of an expiring key in the sparse expiry index
// (GSI2 partition EXPIRES#<UTC day>, sort <expires_at>#<id>; the expiry
// sweep of webhooks.go reads it); empty for a key that never expires.
func expiryGSI2(expires time.Time, id string) (pk, sk string) {
	if expires.IsZero() {
		return "", ""
	}
	return expiresGSI2PK(expires), sortKey(formatTime(expires), id)
}

// expiresGSI2PK is the expiry index partition of the UTC day of t.
func expiresGSI2PK(t time.Time) string { return "EXPIRES#" + t.UTC().Format(time.DateOnly) }

func newKeyRecord(k *keys.Key) keyRecord {
	created := formatTime(k.CreatedAt)
	gsi2pk, gsi2sk := expiryGSI2(k.ExpiresAt, k.ID)
	rec := keyRecord{
		GSI2PK: gsi2pk, GSI2SK: gsi2sk,
		PK: keyPK(k.ID), SK: keySK,
		GSI1PK: keysGSI1PK(k.OrganizationID), GSI1SK: sortKey(created, k.ID),
		Type: typeKey, ID: k.ID, Org: k.OrganizationID, Name: k.Name,
		AllowAll: k.AllowAll, Grants: grantsToRecords(k.Grants),
		ExpiresAt: formatTime(k.ExpiresAt), TTL: ttlOf(k.ExpiresAt),
		Digest: k.SecretDigest[:], Hint: k.Hint,
		CreatedAt: created, UpdatedAt: formatTime(k.UpdatedAt),
		RotatedAt: formatTime(k.RotatedAt), LastUsedAt: formatTime(k.LastUsedAt),
		LastUsedIP: k.LastUsedIP, LastUsedUA: k.LastUsedUserAgent,
		CreatedBy: k.CreatedBy, Version: k.Version,
		Networks: store.EncodeNetworks(k.AllowedNetworks),
	}
	if v := k.Revoked; v != nil {
		rec.RevokedAt, rec.RevokedReason, rec.RevokedReporter, rec.RevokedURL, rec.RevokedSource =
			formatTime(v.At), v.Reason, v.Reporter, v.URL, v.Source
	}
	if p := k.Previous; p != nil {
		rec.PrevDigest, rec.PrevHint, rec.PrevExpiresAt = p.Digest[:], p.Hint, formatTime(p.ExpiresAt)
	}
	return rec
}

func (r *keyRecord) key() (*keys.Key, error) {
	k := &keys.Key{
		ID: r.ID, OrganizationID: r.Org, Name: r.Name,
		Access:    authz.Access{AllowAll: r.AllowAll, Grants: recordsToGrants(r.Grants)},
		Hint:      r.Hint,
		CreatedBy: r.CreatedBy, Version: r.Version,
		LastUsedIP: r.LastUsedIP, LastUsedUserAgent: r.LastUsedUA,
	}
	if len(r.Digest) != len(token.Digest{}) {
		return nil, fmt.Errorf("key %s: digest has %d bytes", r.ID, len(r.Digest))
	}
	copy(k.SecretDigest[:], r.Digest)
	var err error
	if k.AllowedNetworks, err = store.DecodeNetworks(r.Networks); err != nil {
		return nil, fmt.Errorf("key %s: %w", r.ID, err)
	}
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&k.ExpiresAt, r.ExpiresAt}, {&k.CreatedAt, r.CreatedAt}, {&k.UpdatedAt, r.UpdatedAt}, {&k.RotatedAt, r.RotatedAt}, {&k.LastUsedAt, r.LastUsedAt}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return nil, fmt.Errorf("key %s: %w", r.ID, err)
		}
	}
	if r.RevokedReason != "" {
		at, err := parseTime(r.RevokedAt)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", r.ID, err)
		}
		k.Revoked = &keys.Revocation{At: at, Reason: r.RevokedReason, Reporter: r.RevokedReporter, URL: r.RevokedURL, Source: r.RevokedSource}
	}
	if r.PrevDigest != nil {
		if len(r.PrevDigest) != len(token.Digest{}) {
			return nil, fmt.Errorf("key %s: previous digest has %d bytes", r.ID, len(r.PrevDigest))
		}
		k.Previous = &keys.PreviousToken{Hint: r.PrevHint}
		copy(k.Previous.Digest[:], r.PrevDigest)
		if k.Previous.ExpiresAt, err = parseTime(r.PrevExpiresAt); err != nil {
			return nil, fmt.Errorf("key %s: %w", r.ID, err)
		}
		// Its last use (AddUsage).
		if k.Previous.LastUsedAt, err = parseTime(r.PrevLastUsedAt); err != nil {
			return nil, fmt.Errorf("key %s: %w", r.ID, err)
		}
		k.Previous.LastUsedIP, k.Previous.LastUsedUserAgent = r.PrevLastUsedIP, r.PrevLastUsedUA
	}
	return k, nil
}

// orgRecord is an organization item. Children counts its teams.
type orgRecord struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	Name      string `dynamodbav:"name"`
	CreatedAt string `dynamodbav:"created_at"`
	UpdatedAt string `dynamodbav:"updated_at"`
	Children  int64  `dynamodbav:"children"`
}

func (r *orgRecord) org() (*directory.Organization, error) {
	o := &directory.Organization{ID: r.ID, Name: r.Name}
	var err error
	if o.CreatedAt, err = parseTime(r.CreatedAt); err != nil {
		return nil, fmt.Errorf("organization %s: %w", r.ID, err)
	}
	if o.UpdatedAt, err = parseTime(r.UpdatedAt); err != nil {
		return nil, fmt.Errorf("organization %s: %w", r.ID, err)
	}
	return o, nil
}

// nodeRecord is a team, project, target or environment item. Children
// counts its children; a node can only be deleted while it is zero.
type nodeRecord struct {
	PK          string      `dynamodbav:"PK"`
	SK          string      `dynamodbav:"SK"`
	GSI1PK      string      `dynamodbav:"GSI1PK"`
	GSI1SK      string      `dynamodbav:"GSI1SK"`
	GSI2PK      string      `dynamodbav:"GSI2PK"`
	GSI2SK      string      `dynamodbav:"GSI2SK"`
	Type        string      `dynamodbav:"type"`
	ID          string      `dynamodbav:"id"`
	Org         string      `dynamodbav:"org"`
	Level       authz.Level `dynamodbav:"level"`
	Team        string      `dynamodbav:"team,omitempty"`
	Project     string      `dynamodbav:"project,omitempty"`
	Target      string      `dynamodbav:"target,omitempty"`
	Environment string      `dynamodbav:"environment,omitempty"`
	Name        string      `dynamodbav:"name"`
	CreatedAt   string      `dynamodbav:"created_at"`
	UpdatedAt   string      `dynamodbav:"updated_at"`
	Children    int64       `dynamodbav:"children"`
}

func newNodeRecord(n *directory.Node) nodeRecord {
	created := formatTime(n.CreatedAt)
	l := n.Level()
	return nodeRecord{
		PK: orgPK(n.OrganizationID), SK: nodeSK(n.ID),
		GSI1PK: levelGSI1PK(n.OrganizationID, l), GSI1SK: sortKey(created, n.ID),
		GSI2PK: childrenGSI2PK(n.OrganizationID, n.ParentID(), l), GSI2SK: sortKey(created, n.ID),
		Type: typeNode, ID: n.ID, Org: n.OrganizationID, Level: l,
		Team: n.Path.Team, Project: n.Path.Project, Target: n.Path.Target, Environment: n.Path.Environment,
		Name: n.Name, CreatedAt: created, UpdatedAt: formatTime(n.UpdatedAt),
	}
}

func (r *nodeRecord) node() (*directory.Node, error) {
	n := &directory.Node{
		ID: r.ID, OrganizationID: r.Org, Name: r.Name,
		Path: authz.Node{Team: r.Team, Project: r.Project, Target: r.Target, Environment: r.Environment},
	}
	var err error
	if n.CreatedAt, err = parseTime(r.CreatedAt); err != nil {
		return nil, fmt.Errorf("node %s: %w", r.ID, err)
	}
	if n.UpdatedAt, err = parseTime(r.UpdatedAt); err != nil {
		return nil, fmt.Errorf("node %s: %w", r.ID, err)
	}
	return n, nil
}

// nameRecord claims a name among siblings for its owner node.
type nameRecord struct {
	PK    string `dynamodbav:"PK"`
	SK    string `dynamodbav:"SK"`
	Type  string `dynamodbav:"type"`
	Owner string `dynamodbav:"owner"`
}

// cursor is what an opaque page cursor holds: the organization and listing
// it belongs to, and the position (index sort key and item id) of the last
// item returned. The exclusive start key is rebuilt from it with the
// partition of the organization being listed, so a cursor can never reach
// another organization's items; a cursor minted for another organization
// or listing is refused all the same.
type cursor struct {
	Org   string `json:"o"`
	List  string `json:"l"`
	Sort  string `json:"s"`
	ID    string `json:"i"`
	Level int    `json:"v,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // cannot fail: strings and ints
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, org, list string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" || c.Sort == "" {
		return c, fault.Invalid("cursor", "the cursor is not valid")
	}
	if c.Org != org || c.List != list {
		return c, fault.Invalid("cursor", "the cursor belongs to another listing")
	}
	return c, nil
}
