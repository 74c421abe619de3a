// Command seed fills an embedded store with many keys fast, for the load
// generator's listing measurement: it bootstraps organizations through the
// key service (as `edge bootstrap` does) and then writes the other keys
// straight into the store from many goroutines, so that bbolt's group
// commit puts hundreds of keys in each transaction and fsync. The binary
// cannot do this while it serves (it holds the file lock), so the load
// generator runs seed first.
//
//	seed --data DIR --org NAME=N [--org NAME=N ...]
//
// It prints one JSON object on stdout: organization name → {"organization_id",
// "token"} (the owner token: the caller must not print it).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/wiring"
)

type orgFlag []struct {
	name string
	n    int
}

func (o *orgFlag) String() string { return fmt.Sprint(*o) }

func (o *orgFlag) Set(v string) error {
	name, count, ok := strings.Cut(v, "=")
	n, err := strconv.Atoi(count)
	if !ok || name == "" || err != nil || n < 1 {
		return errors.New("want NAME=N with N ≥ 1")
	}
	*o = append(*o, struct {
		name string
		n    int
	}{name, n})
	return nil
}

type seeded struct {
	OrganizationID string `json:"organization_id"`
	Token          string `json:"token"`
	Keys           int    `json:"keys"`
}

func main() {
	data := flag.String("data", "", "data directory (the store is DIR/apikeys.db)")
	var orgs orgFlag
	flag.Var(&orgs, "org", "NAME=N: an organization with N keys (owner key included); repeatable")
	flag.Parse()
	if *data == "" || len(orgs) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	out, err := seed(context.Background(), filepath.Join(*data, "apikeys.db"), orgs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "seed: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}

func seed(ctx context.Context, path string, orgs orgFlag) (map[string]seeded, error) {
	st, err := bolt.Open(path, bolt.WithMaxBatchSize(1000), bolt.WithBatchDelay(5*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	d := wiring.NewDeps(st, wiring.Options{})
	gen := token.NewGenerator()
	out := map[string]seeded{}
	for _, o := range orgs {
		org, owner, err := d.Keys.Bootstrap(ctx, o.name)
		if err != nil {
			return nil, err
		}
		// The other keys are older than the owner key, one millisecond
		// apart, read-only, never expiring.
		base := owner.Key.CreatedAt
		ks := make([]*keys.Key, o.n-1)
		for i := range ks {
			sec, err := gen.New()
			if err != nil {
				return nil, err
			}
			at := base.Add(-time.Duration(len(ks)-i) * time.Millisecond)
			ks[i] = &keys.Key{
				ID: sec.KeyID(), OrganizationID: org.ID, Name: fmt.Sprintf("seeded %d", i),
				Access:       authz.Access{Grants: []authz.Grant{{Permission: "secrets:read"}}},
				SecretDigest: sec.Digest(), Hint: token.Hint(sec.Parsed, sec.Token),
				CreatedAt: at, UpdatedAt: at, CreatedBy: owner.Key.ID, Version: 1,
			}
		}
		if err := createAll(ctx, st, ks); err != nil {
			return nil, err
		}
		out[o.name] = seeded{OrganizationID: org.ID, Token: owner.Token, Keys: o.n}
	}
	return out, nil
}

// createAll stores ks from 1000 goroutines.
func createAll(ctx context.Context, st *bolt.Store, ks []*keys.Key) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var first error
	var once sync.Once
	for range min(1000, max(1, len(ks))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ks) {
					return
				}
				if err := st.CreateKey(ctx, ks[i]); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
