package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"
)

// CountKeys counts the entries of the organization's key index, stopping at
// atMost.
func (s *Store) CountKeys(ctx context.Context, org string, atMost int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		idx := tx.Bucket(bucketKeyIndex).Bucket([]byte(org))
		if idx == nil {
			return nil
		}
		c := idx.Cursor()
		for k, _ := c.First(); k != nil && n < atMost; k, _ = c.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, engineErr("count keys of "+org, err)
	}
	return n, nil
}
