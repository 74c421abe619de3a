package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
)

// The write gate and unreadable items (docs/dynamodb.md, "The write gate"
// and "Unreadable items"; the bbolt engine follows the same rules).

// checkTimes refuses instants the JSON documents cannot hold (encoding/json
// writes RFC 3339 years 0000 to 9999 only) or that read back different.
func checkTimes(kind, id string, names []string, ts []time.Time) error {
	for i, t := range ts {
		if t.IsZero() {
			continue
		}
		b, err := t.MarshalJSON()
		var got time.Time
		if err == nil {
			err = got.UnmarshalJSON(b)
		}
		if err == nil && !got.Equal(t) {
			err = fmt.Errorf("reads back as %s", got)
		}
		if err != nil {
			return store.NotStorable(kind, id, names[i], err)
		}
	}
	return nil
}

// encodeKey is the gate of every key write: it encodes r, decodes the
// document with decodeKey (the reader of Open and ListKeys) and compares.
// It returns the document, or the refusal.
func encodeKey(r *keyRecord) ([]byte, error) {
	refuse := func(err error) ([]byte, error) {
		// Name the field when it is a time (the common case), else the item.
		if terr := checkTimes("key", r.ID, []string{"expires_at", "created_at", "updated_at", "rotated_at", "last_used_at", "prev_expires_at"},
			[]time.Time{r.ExpiresAt, r.CreatedAt, r.UpdatedAt, r.RotatedAt, r.LastUsedAt, r.PrevExpiresAt}); terr != nil {
			return nil, terr
		}
		return nil, store.NotStorable("key", r.ID, "item", err)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return refuse(err)
	}
	got, err := decodeKey(v)
	if err != nil {
		return refuse(err)
	}
	if field := store.KeyDiff(r.key(), got); field != "" {
		return nil, store.NotStorable("key", r.ID, field, nil)
	}
	return v, nil
}

// encodeNode is the gate of every node write.
func encodeNode(r *nodeRecord) ([]byte, error) {
	if err := checkTimes("node", r.ID, []string{"created_at", "updated_at"}, []time.Time{r.CreatedAt, r.UpdatedAt}); err != nil {
		return nil, err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return nil, store.NotStorable("node", r.ID, "item", err)
	}
	got, err := decodeNode(v)
	if err != nil {
		return nil, store.NotStorable("node", r.ID, "item", err)
	}
	if field := store.NodeDiff(r.node(), got.node()); field != "" {
		return nil, store.NotStorable("node", r.ID, field, nil)
	}
	return v, nil
}

// encodeOrg is the gate of every organization write.
func encodeOrg(r *orgRecord) ([]byte, error) {
	if err := checkTimes("organization", r.ID, []string{"created_at", "updated_at"}, []time.Time{r.CreatedAt, r.UpdatedAt}); err != nil {
		return nil, err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return nil, store.NotStorable("organization", r.ID, "item", err)
	}
	got, err := decodeOrg(v)
	if err != nil {
		return nil, store.NotStorable("organization", r.ID, "item", err)
	}
	if field := store.OrganizationDiff(r.organization(), got.organization()); field != "" {
		return nil, store.NotStorable("organization", r.ID, field, nil)
	}
	return v, nil
}

// decodeNode parses a stored node.
func decodeNode(v []byte) (*nodeRecord, error) {
	var r nodeRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decoding node: %w", err)
	}
	return &r, nil
}

// decodeOrg parses a stored organization.
func decodeOrg(v []byte) (*orgRecord, error) {
	var r orgRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decoding organization: %w", err)
	}
	return &r, nil
}

// keyHeader is what can still be read of a key document that does not
// decode: enough to list it as unreadable and to delete it.
type keyHeader struct {
	ID      string `json:"id"`
	Org     string `json:"organization_id"`
	Version int64  `json:"version"`
}

// readKeyHeader reads what it can of the key document v stored under id.
func readKeyHeader(id string, v []byte) keyHeader {
	var h keyHeader
	_ = json.Unmarshal(v, &h) // best effort: a field that does not parse stays empty
	h.ID = id
	return h
}

// noteBrokenKey logs a stored key document that does not decode (met by
// GetKey or a listing) and returns the error GetKey answers for it, with
// what can still be read of it.
func (s *Store) noteBrokenKey(id string, v []byte, cause error) *keys.UnreadableError {
	h := readKeyHeader(id, v)
	e := keys.Unreadable(id, h.Org, h.Version, cause)
	s.log.Error("bolt: stored key cannot be decoded", "id", id, "error", cause)
	return e
}

// deleteKeyIndexOf removes id's entry from org's key index by a scan: for a
// key whose document does not decode, so its creation time is unknown.
func deleteKeyIndexOf(tx *bbolt.Tx, org, id string) error {
	idx := tx.Bucket(bucketKeyIndex).Bucket([]byte(org))
	if idx == nil {
		return nil
	}
	c := idx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) >= tsLen && string(k[tsLen:]) == id {
			return c.Delete()
		}
	}
	return nil
}

// unreadableNode is the error of a stored node that does not decode.
func unreadableNode(id string, err error) error {
	return fault.Wrap(fmt.Errorf("bolt: node %s: %w", id, err), fault.CodeInternal, "this stored node could not be read; contact support")
}

// unreadable lists an item a listing skipped.
func unreadable(id string) directory.Unreadable { return directory.Unreadable{ID: id} }

// deleteBrokenNode deletes a node whose document does not decode, with
// what can still be read of it (path and name); its index entries are
// found by a scan since its creation time may be unreadable.
func deleteBrokenNode(d *orgDir, id string) error {
	var h struct {
		Team        string `json:"team"`
		Project     string `json:"project"`
		Target      string `json:"target"`
		Environment string `json:"environment"`
		Name        string `json:"name"`
	}
	if err := json.Unmarshal(d.nodes.Get([]byte(id)), &h); err != nil {
		return unreadableNode(id, err)
	}
	n := &directory.Node{ID: id, Path: authz.Node{Team: h.Team, Project: h.Project, Target: h.Target, Environment: h.Environment}}
	if n.Path.ID() != id {
		return unreadableNode(id, fmt.Errorf("its path does not end with its id"))
	}
	if k, _ := d.children.Cursor().Seek(childrenPrefix(id)); k != nil && bytes.HasPrefix(k, childrenPrefix(id)) {
		return fmt.Errorf("bolt: delete node %s: it has children: %w", id, fault.ErrConflict)
	}
	level, parent := n.Level(), n.ParentID()
	if err := d.nodes.Delete([]byte(id)); err != nil {
		return err
	}
	if owner := d.names.Get(nameKey(level, parent, h.Name)); string(owner) == id {
		if err := d.names.Delete(nameKey(level, parent, h.Name)); err != nil {
			return err
		}
	}
	for _, ix := range []struct {
		b      *bbolt.Bucket
		prefix []byte
	}{{d.children, childrenPrefix(parent)}, {d.levels, levelPrefix(level)}} {
		c := ix.b.Cursor()
		for k, _ := c.Seek(ix.prefix); k != nil && bytes.HasPrefix(k, ix.prefix); k, _ = c.Next() {
			if len(k) == len(ix.prefix)+tsLen+len(id) && string(k[len(ix.prefix)+tsLen:]) == id {
				if err := c.Delete(); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}
