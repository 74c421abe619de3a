package keys_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/token"
)

func TestNamesPath(t *testing.T) {
	names := keys.Names{"team_1": "platform", "proj_1": "billing", "tgt_1": "web", "env_1": "production"}
	for _, tc := range []struct {
		name string
		node authz.Node
		want string
	}{
		{"organization", authz.Node{}, ""},
		{"team", authz.Node{Team: "team_1"}, "platform"},
		{"project", authz.Node{Project: "proj_1"}, "billing"},
		{"environment from the project down", authz.Node{Project: "proj_1", Target: "tgt_1", Environment: "env_1"}, "billing / web / production"},
		{"a node no longer there", authz.Node{Project: "proj_1", Target: "tgt_2"}, "billing / " + keys.DeletedName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names.Path(tc.node); got != tc.want {
				t.Errorf("Path(%+v) = %q, want %q", tc.node, got, tc.want)
			}
		})
	}
}

// namesFixture is an organization with a team "platform", its project
// "billing" and the project's target "web", on a new embedded store.
type namesFixture struct {
	st                    *bolt.Store
	cat                   *authz.Catalog
	tokens                *token.Generator
	now                   func() time.Time
	caller                authz.Principal
	team, project, target *directory.Node
}

func newNamesFixture(t *testing.T) namesFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := namesFixture{st: st, cat: authz.NewCatalog(), tokens: token.NewGenerator(),
		now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}
	svc := keys.NewService(st, st, f.cat, f.tokens, f.now, keys.Limits{})
	dirs := directory.NewService(st, f.cat, f.tokens, keys.ValidateName, f.now)
	ctx := context.Background()
	_, owner, err := svc.Bootstrap(ctx, "Org")
	if err != nil {
		t.Fatal(err)
	}
	f.caller = authz.Principal{OrganizationID: owner.Key.OrganizationID, KeyID: owner.Key.ID, Access: owner.Key.Access}
	str := func(s string) *string { return &s }
	if f.team, err = dirs.Create(ctx, f.caller, authz.LevelTeam, authz.Node{}, str("platform"), nil); err != nil {
		t.Fatal(err)
	}
	if f.project, err = dirs.Create(ctx, f.caller, authz.LevelProject, authz.Node{}, str("billing"), &f.team.Path.Team); err != nil {
		t.Fatal(err)
	}
	if f.target, err = dirs.Create(ctx, f.caller, authz.LevelTarget, f.project.Path, str("web"), nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// countingDir counts the directory's node reads.
type countingDir struct {
	*bolt.Store
	reads map[string]int
}

func (c *countingDir) GetNode(ctx context.Context, org, id string) (*directory.Node, error) {
	c.reads[id]++
	return c.Store.GetNode(ctx, org, id)
}

// TestServiceNamesReadsEachNodeOnce: the names of every scope of a page of
// keys come from one read per node, whatever the number of keys and grants
// naming it; a deleted node is named, not an error.
func TestServiceNamesReadsEachNodeOnce(t *testing.T) {
	f := newNamesFixture(t)
	ctx, st, cat, tokens, now, caller := context.Background(), f.st, f.cat, f.tokens, f.now, f.caller
	team, project, target := f.team, f.project, f.target
	env := target.Path
	env.Environment = "env_gone"
	grant := func(n authz.Node) authz.Grant { return authz.Grant{Permission: "secrets:read", Scope: n} }
	ks := []*keys.Key{
		{Access: authz.Access{Grants: []authz.Grant{grant(target.Path), grant(project.Path)}}},
		{Access: authz.Access{Grants: []authz.Grant{grant(target.Path), grant(team.Path), grant(authz.Node{})}}},
		{Access: authz.Access{Grants: []authz.Grant{grant(env)}}},
	}
	counting := &countingDir{Store: st, reads: map[string]int{}}
	names, err := keys.NewService(st, counting, cat, tokens, now, keys.Limits{}).Names(ctx, caller.OrganizationID, ks...)
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range counting.reads {
		if n != 1 {
			t.Errorf("node %s read %d times, want 1", id, n)
		}
	}
	if len(counting.reads) != 4 {
		t.Errorf("read %d nodes (%v), want 4: team, project, target, the deleted environment", len(counting.reads), counting.reads)
	}
	if got, want := names.Path(env), "billing / web / "+keys.DeletedName; got != want {
		t.Errorf("deleted environment named %q, want %q", got, want)
	}
	if got := names.Path(team.Path); got != "platform" {
		t.Errorf("team named %q, want platform", got)
	}
}

// TestCreateAndEditAnswersReadEachScopeOnce: the node a grant's scope names
// is read once while the request is validated, and the answer's names reuse
// that read (Created.Names, Update's names through Complete): a create or
// edit with one target-scoped grant reads the target once and the project
// once, never the target twice.
func TestCreateAndEditAnswersReadEachScopeOnce(t *testing.T) {
	f := newNamesFixture(t)
	ctx, caller, project, target := context.Background(), f.caller, f.project, f.target
	str := func(s string) *string { return &s }
	counting := &countingDir{Store: f.st, reads: map[string]int{}}
	svc := keys.NewService(f.st, counting, f.cat, f.tokens, f.now, keys.Limits{})
	grants := []keys.GrantInput{{Permission: "secrets:read", Scope: &keys.ScopeInput{Level: "target", ID: target.Path.Target}}}
	answer := func(what string, k *keys.Key, known keys.Names) {
		t.Helper()
		names, err := svc.Complete(ctx, caller.OrganizationID, known, k)
		if err != nil {
			t.Fatal(err)
		}
		if got := names.Path(k.Grants[0].Scope); got != "billing / web" {
			t.Errorf("%s: scope named %q, want billing / web", what, got)
		}
		want := map[string]int{target.Path.Target: 1, project.Path.Project: 1}
		if len(counting.reads) != len(want) || counting.reads[target.Path.Target] != 1 || counting.reads[project.Path.Project] != 1 {
			t.Errorf("%s read the directory %v, want %v", what, counting.reads, want)
		}
	}

	counting.reads = map[string]int{}
	c, err := svc.Create(ctx, caller, keys.Spec{Name: str("ci"), Permissions: grants, PermissionsSet: true, Expiration: str("30d")})
	if err != nil {
		t.Fatal(err)
	}
	answer("create", c.Key, c.Names)

	counting.reads = map[string]int{}
	k, names, err := svc.Update(ctx, caller, c.Key.ID, keys.Spec{Permissions: grants, PermissionsSet: true, Name: str("ci 2")}, keys.AnyVersion)
	if err != nil {
		t.Fatal(err)
	}
	answer("edit", k, names)
}
