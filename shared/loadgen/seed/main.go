// Command seed fills an embedded store with many keys fast, for the load
// generator's listing and memory measurements: it bootstraps organizations
// through the key service (as `edge bootstrap` does) and then writes the
// other keys straight into the store with its bulk CreateKeys, in id order
// and 50,000 keys per transaction, so that bbolt appends to the pages it
// has just written (10^6 keys take well under a minute). The binary cannot
// do this while it serves (it holds the file lock), so the load generator
// runs seed first.
//
//	seed --data DIR --org NAME=N [--org NAME=N ...] [--grants G] [--tokens FILE]
//
// Each seeded key has G grants (default 1: secrets:read on the whole
// organization; more: secrets:read scoped to G distinct projects). With
// --tokens, the seeded keys' tokens are written to FILE (mode 0600), one a
// line. It prints one JSON object on stdout: organization name →
// {"organization_id", "token", "keys"} (the owner token: the caller must
// not print it).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// chunk is how many keys one CreateKeys transaction writes.
const chunk = 50_000

func main() {
	data := flag.String("data", "", "data directory (the store is DIR/apikeys.db)")
	var orgs orgFlag
	flag.Var(&orgs, "org", "NAME=N: an organization with N keys (owner key included); repeatable")
	grants := flag.Int("grants", 1, "grants of each seeded key (1: secrets:read organization-wide; more: scoped to as many projects)")
	tokens := flag.String("tokens", "", "file to write the seeded keys' tokens to, one a line (mode 0600)")
	flag.Parse()
	if *data == "" || len(orgs) == 0 || *grants < 1 {
		flag.Usage()
		os.Exit(2)
	}
	out, err := seed(context.Background(), filepath.Join(*data, "apikeys.db"), orgs, *grants, *tokens)
	if err != nil {
		fmt.Fprintf(os.Stderr, "seed: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}

func seed(ctx context.Context, path string, orgs orgFlag, grants int, tokensPath string) (map[string]seeded, error) {
	st, err := bolt.Open(path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var tokens *os.File
	if tokensPath != "" {
		if tokens, err = os.OpenFile(tokensPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return nil, err
		}
		defer tokens.Close()
	}
	d := wiring.NewDeps(st, wiring.Options{})
	gen := token.NewGenerator()
	out := map[string]seeded{}
	for _, o := range orgs {
		org, owner, err := d.Keys.Bootstrap(ctx, o.name)
		if err != nil {
			return nil, err
		}
		// The tokens first, sorted by key id, so that the keys go into the
		// file in id order.
		secs := make([]token.Secret, o.n-1)
		for i := range secs {
			if secs[i], err = gen.New(); err != nil {
				return nil, err
			}
		}
		slices.SortFunc(secs, func(a, b token.Secret) int { return strings.Compare(a.Selector, b.Selector) })
		access := accessOf(grants)
		// The other keys are older than the owner key, one millisecond
		// apart, read-only, never expiring.
		base := owner.Key.CreatedAt
		w := bufio.NewWriterSize(tokens, 1<<20)
		for start := 0; start < len(secs); start += chunk {
			ks := make([]*keys.Key, min(chunk, len(secs)-start))
			for j := range ks {
				i := start + j
				sec := secs[i]
				at := base.Add(-time.Duration(len(secs)-i) * time.Millisecond)
				ks[j] = &keys.Key{
					ID: sec.KeyID(), OrganizationID: org.ID, Name: fmt.Sprintf("seeded %d", i),
					Access:       access,
					SecretDigest: sec.Digest(), Hint: token.Hint(sec.Parsed, sec.Token),
					CreatedAt: at, UpdatedAt: at, CreatedBy: owner.Key.ID, Version: 1,
				}
				if tokens != nil {
					w.WriteString(sec.Token)
					w.WriteByte('\n')
				}
			}
			if err := st.CreateKeys(ctx, ks); err != nil {
				return nil, err
			}
		}
		if tokens != nil {
			if err := w.Flush(); err != nil {
				return nil, fmt.Errorf("writing the tokens: %w", err)
			}
		}
		out[o.name] = seeded{OrganizationID: org.ID, Token: owner.Token, Keys: o.n}
	}
	return out, nil
}

// accessOf is what every seeded key may do: secrets:read on the whole
// organization, or, for more than one grant, on that many projects.
func accessOf(grants int) authz.Access {
	if grants == 1 {
		return authz.Access{Grants: []authz.Grant{{Permission: "secrets:read"}}}
	}
	a := authz.Access{Grants: make([]authz.Grant, grants)}
	for i := range a.Grants {
		a.Grants[i] = authz.Grant{Permission: "secrets:read", Scope: authz.Node{
			Team: fmt.Sprintf("team_seed%011d", i/10), Project: fmt.Sprintf("prj_seed%011d", i)}}
	}
	return a
}
