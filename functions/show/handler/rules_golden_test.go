package handler_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
)

// ruleNode is one node of the fixture's hierarchy.
type ruleNode struct {
	ID      string   `json:"id"`
	Level   string   `json:"level"`
	Lineage []string `json:"lineage"`
}

// The fixture's hierarchy: team_a ⊃ prj_a ⊃ tgt_a ⊃ env_a, and a sibling
// branch team_b ⊃ prj_b.
var ruleNodes = []authz.Node{
	{Team: "team_a"},
	{Team: "team_a", Project: "prj_a"},
	{Team: "team_a", Project: "prj_a", Target: "tgt_a"},
	{Team: "team_a", Project: "prj_a", Target: "tgt_a", Environment: "env_a"},
	{Team: "team_b"},
	{Team: "team_b", Project: "prj_b"},
}

func lineage(n authz.Node) []string {
	var out []string
	for _, l := range authz.ScopeLevels() {
		if id := n.At(l); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// grantText is the fixture's short form of a grant: "projects:*" or
// "projects:*@team_a" (the scope's own id).
func grantText(g authz.Grant) string {
	if g.Scope.Level() == authz.LevelOrganization {
		return g.Permission
	}
	return g.Permission + "@" + g.Scope.ID()
}

// ruleCases computes, with shared/authz, every case the dashboard's rules
// must answer like the server (see web/src/rules.golden.test.ts):
//   - scopable: may this permission or group wildcard be scoped to a node of
//     this level (ValidateGrant);
//   - allows: which permissions of its group on which nodes one grant allows
//     (Access.Allows);
//   - covers: which grants of its group a key holding only this grant may
//     give (the no-escalation rule, CheckNoEscalation).
//
// Grants are written "permission" (organization-wide) or
// "permission@node_id".
func ruleCases() ([]byte, error) {
	c := authz.NewCatalog()
	nodes := append([]authz.Node{{}}, ruleNodes...)
	var names []string
	byGroup := map[string][]string{}
	for _, g := range c.Groups() {
		names = append(names, g.Wildcard())
		byGroup[g.Name] = append(byGroup[g.Name], g.Wildcard())
		for _, p := range g.Permissions {
			names = append(names, p.Name)
			byGroup[g.Name] = append(byGroup[g.Name], p.Name)
		}
	}
	var b bytes.Buffer
	value := func(last bool, v any) error {
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(j)
		if !last {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		return nil
	}
	line := func(last bool, v any) error {
		b.WriteString("    ")
		return value(last, v)
	}
	entry := func(last bool, key string, v any) error {
		k, err := json.Marshal(key)
		if err != nil {
			return err
		}
		b.WriteString("    ")
		b.Write(k)
		b.WriteString(": ")
		return value(last, v)
	}
	b.WriteString("{\n  \"nodes\": [\n")
	for i, n := range ruleNodes {
		if err := line(i == len(ruleNodes)-1, ruleNode{ID: n.ID(), Level: n.Level().String(), Lineage: lineage(n)}); err != nil {
			return nil, err
		}
	}
	b.WriteString("  ],\n  \"scopable\": [\n")
	levelNode := map[authz.Level]authz.Node{authz.LevelOrganization: {}}
	for _, n := range ruleNodes {
		if _, ok := levelNode[n.Level()]; !ok {
			levelNode[n.Level()] = n
		}
	}
	levels := append([]authz.Level{authz.LevelOrganization}, authz.ScopeLevels()...)
	var valid []authz.Grant
	for i, name := range names {
		for j, l := range levels {
			ok := c.ValidateGrant(authz.Grant{Permission: name, Scope: levelNode[l]}) == nil
			if err := line(i == len(names)-1 && j == len(levels)-1, []any{name, l.String(), ok}); err != nil {
				return nil, err
			}
		}
		for _, n := range nodes {
			if g := (authz.Grant{Permission: name, Scope: n}); c.ValidateGrant(g) == nil {
				valid = append(valid, g)
			}
		}
	}
	groupOf := func(name string) string { return name[:strings.IndexByte(name, ':')] }
	// allows: each valid grant → the "permission@node" pairs (permissions of
	// its group, nodes of the fixture, "permission" alone for the
	// organization) it allows; it allows none of the others.
	b.WriteString("  ],\n  \"allows\": {\n")
	for i, g := range valid {
		allowed := []string{}
		for _, perm := range byGroup[groupOf(g.Permission)][1:] {
			for _, n := range nodes {
				if (authz.Access{Grants: []authz.Grant{g}}).Allows(c, perm, n) {
					allowed = append(allowed, grantText(authz.Grant{Permission: perm, Scope: n}))
				}
			}
		}
		if err := entry(i == len(valid)-1, grantText(g), allowed); err != nil {
			return nil, err
		}
	}
	// covers: each valid grant → the valid grants of its group a key holding
	// only it may give; it may give none of the others.
	b.WriteString("  },\n  \"covers\": {\n")
	for i, h := range valid {
		given := []string{}
		for _, w := range valid {
			if groupOf(h.Permission) != groupOf(w.Permission) {
				continue
			}
			if authz.CheckNoEscalation(c, authz.Access{Grants: []authz.Grant{h}}, authz.Access{Grants: []authz.Grant{w}}) == nil {
				given = append(given, grantText(w))
			}
		}
		if err := entry(i == len(valid)-1, grantText(h), given); err != nil {
			return nil, err
		}
	}
	b.WriteString("  }\n}\n")
	return b.Bytes(), nil
}

// The dashboard decides scopes and coverage from GET /v1/permissions alone;
// web/src/fixtures/rules.json holds what shared/authz answers for every
// permission, wildcard, level and pair of grants of one group, and the
// Vitest test rules.golden.test.ts runs the dashboard's rules over it.
func TestDashboardRulesFixture(t *testing.T) {
	want, err := ruleCases()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(want) {
		t.Fatal("the rules fixture is not valid JSON")
	}
	path := filepath.Join("..", "..", "..", "web", "src", "fixtures", "rules.json")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from shared/authz: run `go test ./functions/show/handler -update`, then `cd web && npm test`", path)
	}
}
