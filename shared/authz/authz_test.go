package authz

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A small hierarchy: team T1 ⊃ project P1 ⊃ target G1 ⊃ envs E1, E2;
// project P2 in T1; team T2 ⊃ P3.
var (
	t1  = Node{Team: "team_1"}
	p1  = Node{Team: "team_1", Project: "prj_1"}
	p2  = Node{Team: "team_1", Project: "prj_2"}
	g1  = Node{Team: "team_1", Project: "prj_1", Target: "tgt_1"}
	e1  = Node{Team: "team_1", Project: "prj_1", Target: "tgt_1", Environment: "env_1"}
	e2  = Node{Team: "team_1", Project: "prj_1", Target: "tgt_1", Environment: "env_2"}
	t2  = Node{Team: "team_2"}
	p3  = Node{Team: "team_2", Project: "prj_3"}
	org = Node{}
)

var nodeAtLevel = map[Level]Node{LevelOrganization: org, LevelTeam: t1, LevelProject: p1, LevelTarget: g1, LevelEnvironment: e1}

// wantMax is the catalog of docs/product.md: every permission and the deepest level
// it can be scoped to.
var wantMax = map[string]Level{
	"secrets:read": LevelEnvironment, "secrets:write": LevelEnvironment, "secrets:decrypt": LevelEnvironment,
	"secrets:history": LevelEnvironment, "secrets:restore": LevelEnvironment, "secrets:purge": LevelEnvironment,
	"encryption_keys:read": LevelEnvironment, "encryption_keys:rotate": LevelEnvironment,
	"projects:create": LevelOrganization, "projects:read": LevelProject, "projects:update": LevelProject, "projects:delete": LevelProject,
	"targets:create": LevelOrganization, "targets:read": LevelTarget, "targets:update": LevelTarget, "targets:delete": LevelTarget,
	"environments:create": LevelOrganization, "environments:read": LevelEnvironment, "environments:update": LevelEnvironment, "environments:delete": LevelEnvironment,
	"teams:create": LevelOrganization, "teams:read": LevelTeam, "teams:update": LevelTeam, "teams:delete": LevelTeam,
	"members:create": LevelOrganization, "members:read": LevelTeam, "members:update": LevelTeam, "members:delete": LevelTeam,
	"organizations:read": LevelOrganization, "organizations:update": LevelOrganization, "organizations:delete": LevelOrganization,
	"api_tokens:create": LevelOrganization, "api_tokens:read": LevelOrganization, "api_tokens:update": LevelOrganization,
	"api_tokens:rotate": LevelOrganization, "api_tokens:delete": LevelOrganization,
	"billing:read": LevelOrganization, "billing:manage": LevelOrganization,
	"audit_log:read":  LevelOrganization,
	"webhooks:create": LevelOrganization, "webhooks:read": LevelOrganization, "webhooks:update": LevelOrganization,
	"webhooks:delete": LevelOrganization,
}

func TestCatalogIsProductMD(t *testing.T) {
	c := NewCatalog()
	got := c.PermissionNames()
	if len(got) != len(wantMax) {
		t.Fatalf("catalog has %d permissions, docs/product.md %d: %v", len(got), len(wantMax), got)
	}
	for name, max := range wantMax {
		p, ok := c.Permission(name)
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if p.MaxLevel != max {
			t.Errorf("%s scopable to %s, want %s", name, p.MaxLevel, max)
		}
		if p.Action == "create" && p.Scopable() {
			t.Errorf("%s is a create permission and must not be scopable", name)
		}
		if p.Label == "" || p.Description == "" {
			t.Errorf("%s has no label or description", name)
		}
	}
}

// TestEveryPermissionEveryLevel checks, for every permission of the catalog
// and every level, that scoping is accepted exactly up to its level.
func TestEveryPermissionEveryLevel(t *testing.T) {
	c := NewCatalog()
	for name, max := range wantMax {
		for level, node := range nodeAtLevel {
			err := c.ValidateGrant(Grant{Permission: name, Scope: node})
			want := level == LevelOrganization || level <= max
			if (err == nil) != want {
				t.Errorf("%s scoped to %s: err=%v, want allowed=%v", name, level, err, want)
			}
			if err != nil && strings.HasSuffix(name, ":create") && !strings.Contains(err.Error(), "cannot be scoped") {
				t.Errorf("%s: error %q should say create permissions cannot be scoped", name, err)
			}
		}
	}
}

func TestValidateGrants(t *testing.T) {
	c := NewCatalog()
	tests := []struct {
		name    string
		grants  []Grant
		wantIdx int // -1: valid
	}{
		{"known", []Grant{{Permission: "secrets:read"}, {Permission: "billing:manage"}}, -1},
		{"unknown permission", []Grant{{Permission: "secrets:read"}, {Permission: "secrets:steal"}}, 1},
		{"unknown group wildcard", []Grant{{Permission: "nuclear:*"}}, 0},
		{"no colon", []Grant{{Permission: "secrets"}}, 0},
		{"group wildcard org-wide", []Grant{{Permission: "projects:*"}}, -1},
		{"secrets wildcard on environment", []Grant{{Permission: "secrets:*", Scope: e1}}, -1},
		{"projects wildcard on project", []Grant{{Permission: "projects:*", Scope: p1}}, -1},
		{"projects wildcard too deep", []Grant{{Permission: "projects:*", Scope: g1}}, 0},
		{"billing wildcard scoped", []Grant{{Permission: "billing:*", Scope: t1}}, 0},
		{"create scoped", []Grant{{Permission: "projects:read", Scope: p1}, {Permission: "projects:create", Scope: t1}}, 1},
		{"teams read on project", []Grant{{Permission: "teams:read", Scope: p1}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.ValidateGrants(tt.grants)
			var ge *GrantError
			if tt.wantIdx < 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.As(err, &ge) || ge.Index != tt.wantIdx {
				t.Fatalf("err = %v, want GrantError at %d", err, tt.wantIdx)
			}
		})
	}
}

func TestAllowsFollowsTheHierarchy(t *testing.T) {
	c := NewCatalog()
	tests := []struct {
		name  string
		grant Grant
		perm  string
		node  Node
		want  bool
	}{
		{"org-wide covers env", Grant{Permission: "secrets:read"}, "secrets:read", e1, true},
		{"org-wide covers org", Grant{Permission: "secrets:read"}, "secrets:read", org, true},
		{"team covers its env", Grant{Permission: "secrets:read", Scope: t1}, "secrets:read", e2, true},
		{"team covers itself", Grant{Permission: "secrets:read", Scope: t1}, "secrets:read", t1, true},
		{"team not other team", Grant{Permission: "secrets:read", Scope: t1}, "secrets:read", p3, false},
		{"project covers target", Grant{Permission: "secrets:read", Scope: p1}, "secrets:read", g1, true},
		{"project not sibling project", Grant{Permission: "secrets:read", Scope: p1}, "secrets:read", p2, false},
		{"env not sibling env", Grant{Permission: "secrets:read", Scope: e1}, "secrets:read", e2, false},
		{"env not its parent target (no upward)", Grant{Permission: "secrets:read", Scope: e1}, "secrets:read", g1, false},
		{"env not the org", Grant{Permission: "secrets:read", Scope: e1}, "secrets:read", org, false},
		{"project not its team", Grant{Permission: "projects:read", Scope: p1}, "projects:read", t1, false},
		{"other permission", Grant{Permission: "secrets:read"}, "secrets:write", e1, false},
		{"group wildcard", Grant{Permission: "secrets:*", Scope: g1}, "secrets:purge", e1, true},
		{"group wildcard other group", Grant{Permission: "secrets:*"}, "projects:read", p1, false},
		{"scoped wildcard never covers create", Grant{Permission: "projects:*", Scope: t1}, "projects:create", org, false},
		{"scoped wildcard covers read below", Grant{Permission: "projects:*", Scope: t1}, "projects:read", p2, true},
		{"org-wide wildcard covers create", Grant{Permission: "projects:*"}, "projects:create", org, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Access{Grants: []Grant{tt.grant}}
			if got := a.Allows(c, tt.perm, tt.node); got != tt.want {
				t.Fatalf("Allows(%s on %+v) = %v, want %v", tt.perm, tt.node, got, tt.want)
			}
		})
	}
	if !(Access{AllowAll: true}).Allows(c, "anything:new", e1) {
		t.Fatal("allow-all must cover permissions added later")
	}
	union := Access{Grants: []Grant{{Permission: "secrets:read", Scope: e1}, {Permission: "secrets:read", Scope: p3}}}
	if !union.Allows(c, "secrets:read", p3) || !union.Allows(c, "secrets:read", e1) || union.Allows(c, "secrets:read", e2) {
		t.Fatal("several scopes of one permission must combine as a union")
	}
}

func TestReachesLooksDownToo(t *testing.T) {
	c := NewCatalog()
	a := Access{Grants: []Grant{{Permission: "targets:read", Scope: g1}}}
	if !a.Reaches(c, "targets:read", p1) || !a.Reaches(c, "targets:read", org) {
		t.Fatal("a target-scoped grant must reach into its project's and the org's listing")
	}
	if a.Reaches(c, "targets:read", p2) || a.Reaches(c, "targets:read", t2) {
		t.Fatal("must not reach into other subtrees")
	}
	if a.Allows(c, "targets:read", p1) {
		t.Fatal("reaching is not allowing")
	}
}

func TestNoEscalation(t *testing.T) {
	c := NewCatalog()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	in30, in60 := now.Add(30*24*time.Hour), now.Add(60*24*time.Hour)
	scoped := Access{Grants: []Grant{{Permission: "secrets:read", Scope: p1}, {Permission: "secrets:*", Scope: t2}, {Permission: "api_tokens:create"}}}
	tests := []struct {
		name      string
		caller    Access
		wanted    Access
		wantField string // "" = allowed
	}{
		{"allow-all makes allow-all", Access{AllowAll: true}, Access{AllowAll: true}, ""},
		{"allow-all makes anything", Access{AllowAll: true}, Access{Grants: []Grant{{Permission: "billing:manage"}}}, ""},
		{"only allow-all makes allow-all", scoped, Access{AllowAll: true}, "allow_all"},
		{"same grant", scoped, Access{Grants: []Grant{{Permission: "secrets:read", Scope: p1}}}, ""},
		{"narrower scope", scoped, Access{Grants: []Grant{{Permission: "secrets:read", Scope: e2}}}, ""},
		{"wider scope", scoped, Access{Grants: []Grant{{Permission: "secrets:read", Scope: t1}}}, "permissions[0]"},
		{"org-wide from scoped", scoped, Access{Grants: []Grant{{Permission: "secrets:read"}}}, "permissions[0]"},
		{"sibling scope", scoped, Access{Grants: []Grant{{Permission: "secrets:read", Scope: p2}}}, "permissions[0]"},
		{"other permission", scoped, Access{Grants: []Grant{{Permission: "secrets:read", Scope: p1}, {Permission: "secrets:write", Scope: p1}}}, "permissions[1]"},
		{"wildcard covers member", scoped, Access{Grants: []Grant{{Permission: "secrets:purge", Scope: p3}}}, ""},
		{"same wildcard narrower", scoped, Access{Grants: []Grant{{Permission: "secrets:*", Scope: p3}}}, ""},
		{"wildcard not from members", Access{Grants: []Grant{{Permission: "secrets:read"}, {Permission: "secrets:write"}}}, Access{Grants: []Grant{{Permission: "secrets:*"}}}, "permissions[0]"},
		{"expiring caller makes never", Access{AllowAll: true, ExpiresAt: in30}, Access{AllowAll: true}, "expiration"},
		{"expiring caller makes later", Access{AllowAll: true, ExpiresAt: in30}, Access{AllowAll: true, ExpiresAt: in60}, "expires_at"},
		{"expiring caller makes earlier", Access{AllowAll: true, ExpiresAt: in60}, Access{AllowAll: true, ExpiresAt: in30}, ""},
		{"never caller makes expiring", Access{AllowAll: true}, Access{AllowAll: true, ExpiresAt: in30}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNoEscalation(c, tt.caller, tt.wanted)
			var esc *EscalationError
			switch {
			case tt.wantField == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantField != "" && (!errors.As(err, &esc) || esc.Field != tt.wantField):
				t.Fatalf("err = %v, want refusal on %s", err, tt.wantField)
			}
		})
	}
}

func TestRouteTable(t *testing.T) {
	c := NewCatalog()
	rs := NewRoutes()
	ops := map[string]bool{}
	pats := map[string]bool{}
	for _, r := range rs {
		if ops[r.Operation] {
			t.Errorf("operation %s twice", r.Operation)
		}
		ops[r.Operation] = true
		k := r.Method + " " + r.Pattern
		if pats[k] {
			t.Errorf("route %s twice", k)
		}
		pats[k] = true
		if r.Check == CheckNode || r.Check == CheckReach {
			p, ok := c.Permission(r.Permission)
			if !ok {
				t.Errorf("%s needs unknown permission %q", k, r.Permission)
				continue
			}
			// The node a route's path names must be one the permission
			// can be scoped to, or scopes would never apply.
			named := PathNode(func(name string) string {
				if strings.Contains(r.Pattern, "{"+name+"}") {
					return name
				}
				return ""
			})
			if l := named.Level(); r.Check == CheckNode && p.Scopable() && l > p.MaxLevel {
				t.Errorf("%s checks %s on a %s, deeper than it can be scoped", k, r.Permission, l)
			}
		} else if r.Permission != "" {
			t.Errorf("%s is public or any-token but names a permission", k)
		}
	}
	for _, f := range Functions() {
		if len(rs.ForFunction(f)) == 0 {
			t.Errorf("function %s serves no route", f)
		}
	}
	for _, want := range []string{"POST /v1/api-keys", "GET /v1/api-keys", "GET /v1/api-keys/{id}", "PATCH /v1/api-keys/{id}",
		"POST /v1/api-keys/{id}/rotate", "DELETE /v1/api-keys/{id}", "POST /v1/api-keys/{id}/explore", "GET /v1/permissions",
		"POST /v1/verify", "GET /healthz", "GET /v1/organization", "PATCH /v1/organization",
		"GET /v1/projects/{project}/targets/{target}/environments/{environment}", "DELETE /v1/teams/{team}"} {
		if !pats[want] {
			t.Errorf("route %s missing", want)
		}
	}
	if r, _ := rs.Find(http.MethodPost, "/v1/verify"); !r.Public() {
		t.Error("verify must be public")
	}
	if r, _ := rs.Find(http.MethodGet, "/v1/projects"); r.Check != CheckReach {
		t.Error("lists must check reach")
	}
}

func TestPathNodeConsistency(t *testing.T) {
	vals := map[string]string{"project": "prj_1", "target": "tgt_1"}
	named := PathNode(func(k string) string { return vals[k] })
	if named.Level() != LevelTarget || named.ID() != "tgt_1" {
		t.Fatalf("named = %+v", named)
	}
	if !g1.Consistent(named) {
		t.Fatal("resolved target in its project must be consistent")
	}
	other := Node{Team: "team_2", Project: "prj_3", Target: "tgt_1"}
	if other.Consistent(named) {
		t.Fatal("a target under another project must not be consistent with the path")
	}
}
