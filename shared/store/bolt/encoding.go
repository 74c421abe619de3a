package bolt

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/token"
)

// tsLen is the length of ts(t), the sortable form of an instant.
const tsLen = 12

// appendTS appends the 12-byte sortable form of t: seconds since the Unix
// epoch with the sign bit flipped (so instants before 1970, the zero time
// included, still sort first), then nanoseconds, both big-endian.
func appendTS(dst []byte, t time.Time) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(dst, uint32(t.Nanosecond()))
}

// readTS reads the instant appendTS wrote at the start of b (in UTC).
func readTS(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(b[:8]) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(b[8:tsLen]))).UTC()
}

// keyRecord is the stored form of a keys.Key.
type keyRecord struct {
	ID         string        `json:"id"`
	Org        string        `json:"organization_id"`
	Name       string        `json:"name"`
	AllowAll   bool          `json:"allow_all,omitempty"`
	Grants     []grantRecord `json:"grants,omitempty"`
	ExpiresAt  time.Time     `json:"expires_at,omitzero"`
	Digest     []byte        `json:"secret_digest"`
	Hint       string        `json:"hint"`
	CreatedAt  time.Time     `json:"created_at,omitzero"`
	UpdatedAt  time.Time     `json:"updated_at,omitzero"`
	RotatedAt  time.Time     `json:"rotated_at,omitzero"`
	LastUsedAt time.Time     `json:"last_used_at,omitzero"`
	LastUsedIP string        `json:"last_used_ip,omitempty"`
	LastUsedUA string        `json:"last_used_ua,omitempty"`
	CreatedBy  string        `json:"created_by,omitempty"`
	Revoked    *revocation   `json:"revoked,omitempty"`
	// PrevDigest, PrevHint and PrevExpiresAt are the token the last
	// rotation replaced (keys.PreviousToken), present while it is kept.
	PrevDigest    []byte    `json:"prev_digest,omitempty"`
	PrevHint      string    `json:"prev_hint,omitempty"`
	PrevExpiresAt time.Time `json:"prev_expires_at,omitzero"`
	// The previous token's last use (usage.Store.AddUsage).
	PrevLastUsedAt time.Time `json:"prev_last_used_at,omitzero"`
	PrevLastUsedIP string    `json:"prev_last_used_ip,omitempty"`
	PrevLastUsedUA string    `json:"prev_last_used_ua,omitempty"`
	Version        int64     `json:"version"`
	// Networks is the allowlist in normal form (store.CheckNetworks),
	// decoded here once: the cache holds parsed prefixes.
	Networks []netip.Prefix `json:"allowed_cidrs,omitempty"`
}

// grantRecord is the stored form of an authz.Grant.
type grantRecord struct {
	Permission  string `json:"permission"`
	Team        string `json:"team,omitempty"`
	Project     string `json:"project,omitempty"`
	Target      string `json:"target,omitempty"`
	Environment string `json:"environment,omitempty"`
}

// revocation is a key's Revocation as stored.
type revocation struct {
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"`
	Reporter string    `json:"reporter,omitempty"`
	URL      string    `json:"url,omitempty"`
	Source   string    `json:"source,omitempty"`
}

// utc returns t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// keyRecordOf returns the stored form of k.
func keyRecordOf(k *keys.Key) *keyRecord {
	r := &keyRecord{
		ID: k.ID, Org: k.OrganizationID, Name: k.Name, AllowAll: k.AllowAll,
		ExpiresAt: utc(k.ExpiresAt), Digest: append([]byte(nil), k.SecretDigest[:]...), Hint: k.Hint,
		CreatedAt: utc(k.CreatedAt), UpdatedAt: utc(k.UpdatedAt), RotatedAt: utc(k.RotatedAt),
		LastUsedAt: utc(k.LastUsedAt), LastUsedIP: k.LastUsedIP, LastUsedUA: k.LastUsedUserAgent,
		CreatedBy: k.CreatedBy, Version: k.Version,
	}
	if v := k.Revoked; v != nil {
		r.Revoked = &revocation{At: utc(v.At), Reason: v.Reason, Reporter: v.Reporter, URL: v.URL, Source: v.Source}
	}
	if p := k.Previous; p != nil {
		r.PrevDigest, r.PrevHint, r.PrevExpiresAt = append([]byte(nil), p.Digest[:]...), p.Hint, utc(p.ExpiresAt)
		r.PrevLastUsedAt, r.PrevLastUsedIP, r.PrevLastUsedUA = utc(p.LastUsedAt), p.LastUsedIP, p.LastUsedUserAgent
	}
	if len(k.AllowedNetworks) > 0 {
		r.Networks = slices.Clone(k.AllowedNetworks)
	}
	if len(k.Grants) > 0 {
		r.Grants = make([]grantRecord, len(k.Grants))
		for i, g := range k.Grants {
			r.Grants[i] = grantRecord{g.Permission, g.Scope.Team, g.Scope.Project, g.Scope.Target, g.Scope.Environment}
		}
	}
	return r
}

// key returns the keys.Key the record stores; it shares nothing with r.
func (r *keyRecord) key() *keys.Key {
	k := &keys.Key{
		ID: r.ID, OrganizationID: r.Org, Name: r.Name,
		Access: authz.Access{AllowAll: r.AllowAll, ExpiresAt: utc(r.ExpiresAt)},
		Hint:   r.Hint, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
		RotatedAt: utc(r.RotatedAt), LastUsedAt: utc(r.LastUsedAt), CreatedBy: r.CreatedBy, Version: r.Version,
		LastUsedIP: r.LastUsedIP, LastUsedUserAgent: r.LastUsedUA,
	}
	copy(k.SecretDigest[:], r.Digest)
	if v := r.Revoked; v != nil {
		k.Revoked = &keys.Revocation{At: utc(v.At), Reason: v.Reason, Reporter: v.Reporter, URL: v.URL, Source: v.Source}
	}
	if r.PrevDigest != nil {
		k.Previous = &keys.PreviousToken{Hint: r.PrevHint, ExpiresAt: utc(r.PrevExpiresAt),
			LastUsedAt: utc(r.PrevLastUsedAt), LastUsedIP: r.PrevLastUsedIP, LastUsedUserAgent: r.PrevLastUsedUA}
		copy(k.Previous.Digest[:], r.PrevDigest)
	}
	if len(r.Networks) > 0 {
		k.AllowedNetworks = slices.Clone(r.Networks)
	}
	if len(r.Grants) > 0 {
		k.Grants = make([]authz.Grant, len(r.Grants))
		for i, g := range r.Grants {
			k.Grants[i] = authz.Grant{Permission: g.Permission, Scope: authz.Node{Team: g.Team, Project: g.Project, Target: g.Target, Environment: g.Environment}}
		}
	}
	return k
}

// decodeKeyRecord parses a stored key.
func decodeKeyRecord(v []byte) (*keyRecord, error) {
	var r keyRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decoding key: %w", err)
	}
	if len(r.Digest) != len(token.Digest{}) {
		return nil, fmt.Errorf("decoding key %s: digest of %d bytes", r.ID, len(r.Digest))
	}
	if r.PrevDigest != nil && len(r.PrevDigest) != len(token.Digest{}) {
		return nil, fmt.Errorf("decoding key %s: previous digest of %d bytes", r.ID, len(r.PrevDigest))
	}
	if err := store.CheckNetworks(r.Networks); err != nil {
		return nil, fmt.Errorf("decoding key %s: %w", r.ID, err)
	}
	return &r, nil
}

// decodeKey parses a stored key into a keys.Key.
func decodeKey(v []byte) (*keys.Key, error) {
	r, err := decodeKeyRecord(v)
	if err != nil {
		return nil, err
	}
	return r.key(), nil
}

// keyIndexKey is a key's entry in its organization's key_index bucket.
func keyIndexKey(createdAt time.Time, id string) []byte {
	return append(appendTS(make([]byte, 0, tsLen+len(id)), createdAt), id...)
}

// orgRecord is the stored form of a directory.Organization.
type orgRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func (r *orgRecord) organization() *directory.Organization {
	return &directory.Organization{ID: r.ID, Name: r.Name, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

// nodeRecord is the stored form of a directory.Node.
type nodeRecord struct {
	ID          string    `json:"id"`
	Org         string    `json:"organization_id"`
	Team        string    `json:"team,omitempty"`
	Project     string    `json:"project,omitempty"`
	Target      string    `json:"target,omitempty"`
	Environment string    `json:"environment,omitempty"`
	Name        string    `json:"name"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

func nodeRecordOf(n *directory.Node) *nodeRecord {
	return &nodeRecord{
		ID: n.ID, Org: n.OrganizationID, Team: n.Path.Team, Project: n.Path.Project,
		Target: n.Path.Target, Environment: n.Path.Environment, Name: n.Name,
		CreatedAt: utc(n.CreatedAt), UpdatedAt: utc(n.UpdatedAt),
	}
}

func (r *nodeRecord) node() *directory.Node {
	return &directory.Node{
		ID: r.ID, OrganizationID: r.Org,
		Path: authz.Node{Team: r.Team, Project: r.Project, Target: r.Target, Environment: r.Environment},
		Name: r.Name, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
}

// Index keys of the directory buckets (see the package doc).
func nameKey(level authz.Level, parent, name string) []byte {
	b := make([]byte, 0, 2+len(parent)+len(name))
	b = append(b, byte(level))
	b = append(b, parent...)
	b = append(b, 0)
	return append(b, name...)
}

func childrenPrefix(parent string) []byte { return append([]byte(parent), 0) }

func childKey(parent string, createdAt time.Time, id string) []byte {
	return append(appendTS(childrenPrefix(parent), createdAt), id...)
}

func levelPrefix(level authz.Level) []byte { return []byte{byte(level)} }

func levelKey(level authz.Level, createdAt time.Time, id string) []byte {
	return append(appendTS(levelPrefix(level), createdAt), id...)
}

// Listing cursors.

const (
	cursorFormat   = 1
	cursorKeys     = 'k'
	cursorNodes    = 'n'
	maxCursorChars = 2048
)

// cursor is the decoded form of a listing cursor.
type cursor struct {
	kind   byte
	org    string
	level  authz.Level
	parent string
	pos    []byte // index key of the last item returned
}

func (c cursor) encode() string {
	b := []byte{cursorFormat, c.kind}
	b = appendString(b, c.org)
	b = append(b, byte(c.level))
	b = appendString(b, c.parent)
	b = appendString(b, string(c.pos))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// errCursor is the validation error of a cursor that does not belong to the
// listing it is given to.
func errCursor(reason string) error {
	return fault.Invalid("cursor", "%s: start again from the first page", reason)
}

// decodeCursor parses s and checks that it is a cursor of the listing want
// describes (kind, organization, level, parent).
func decodeCursor(s string, want cursor) (cursor, error) {
	if len(s) > maxCursorChars {
		return cursor{}, errCursor("is too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2+4 {
		return cursor{}, errCursor("is not a cursor")
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(sum) || body[0] != cursorFormat {
		return cursor{}, errCursor("is not a cursor")
	}
	c := cursor{kind: body[1]}
	rest := body[2:]
	var ok bool
	var pos string
	if c.org, rest, ok = readString(rest); !ok || len(rest) < 1 {
		return cursor{}, errCursor("is not a cursor")
	}
	c.level, rest = authz.Level(rest[0]), rest[1:]
	if c.parent, rest, ok = readString(rest); !ok {
		return cursor{}, errCursor("is not a cursor")
	}
	if pos, rest, ok = readString(rest); !ok || len(rest) != 0 || len(pos) < tsLen {
		return cursor{}, errCursor("is not a cursor")
	}
	c.pos = []byte(pos)
	if c.kind != want.kind || c.org != want.org || c.level != want.level || c.parent != want.parent {
		return cursor{}, errCursor("belongs to another listing")
	}
	return c, nil
}

func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// checkID refuses ids the index layout cannot hold.
func checkID(field, id string) error {
	if id == "" {
		return fault.Invalid(field, "is required")
	}
	if strings.IndexByte(id, 0) >= 0 {
		return fault.Invalid(field, "must not contain NUL characters")
	}
	return nil
}
