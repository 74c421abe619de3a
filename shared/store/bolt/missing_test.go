package bolt

import (
	"fmt"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/token"
)

// TestIndexEntryWithoutRecord: an index entry naming a key or node whose
// record is not stored (a corruption the store's own writes never make) is
// reported in the page's Unreadable with its id and MissingMessage; the
// listing still answers the other items instead of failing as a whole.
func TestIndexEntryWithoutRecord(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	org := &directory.Organization{ID: "org_Missing000000000", Name: "missing", CreatedAt: at, UpdatedAt: at}
	if err := s.CreateOrganization(ctx, org, storetest.Event()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 2 {
		k := &keys.Key{ID: fmt.Sprintf("key_Missing%09d", i), OrganizationID: org.ID, Name: "k", Access: authz.Access{AllowAll: true},
			SecretDigest: token.Digest{byte(i + 1)}, Hint: "dotenv_AbCd…wxyz", CreatedAt: at.Add(time.Duration(i) * time.Millisecond), UpdatedAt: at}
		if err := s.CreateKey(ctx, k, storetest.Event()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	var nodes []string
	for i, name := range []string{"a", "b"} {
		id := fmt.Sprintf("team_Missing%08d", i)
		n := &directory.Node{ID: id, OrganizationID: org.ID, Path: authz.Node{Team: id}, Name: name, CreatedAt: at, UpdatedAt: at}
		if err := s.CreateNode(ctx, n, storetest.Event()); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, id)
	}
	// Remove the records, keep their index entries.
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketKeys).Delete([]byte(ids[0])); err != nil {
			return err
		}
		return dirOf(tx, org.ID).nodes.Delete([]byte(nodes[0]))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.cache.invalidate(ids[0])

	kp, err := s.ListKeys(ctx, org.ID, directory.ListOptions{})
	if err != nil {
		t.Fatalf("ListKeys with a dangling index entry: %v, want the page", err)
	}
	if len(kp.Items) != 1 || kp.Items[0].ID != ids[1] || len(kp.Unreadable) != 1 || kp.Unreadable[0] != (directory.Unreadable{ID: ids[0], Message: directory.MissingMessage}) {
		t.Fatalf("ListKeys = %d items, unreadable %+v; want %s listed and %s reported missing", len(kp.Items), kp.Unreadable, ids[1], ids[0])
	}
	np, err := s.ListNodes(ctx, org.ID, authz.LevelTeam, "", directory.ListOptions{})
	if err != nil {
		t.Fatalf("ListNodes with a dangling index entry: %v, want the page", err)
	}
	if len(np.Items) != 1 || np.Items[0].ID != nodes[1] || len(np.Unreadable) != 1 || np.Unreadable[0] != (directory.Unreadable{ID: nodes[0], Message: directory.MissingMessage}) {
		t.Fatalf("ListNodes = %d items, unreadable %+v; want %s listed and %s reported missing", len(np.Items), np.Unreadable, nodes[1], nodes[0])
	}
}
