package authz

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// sampleNodes is the sample hierarchy of authz_test.go, organization first.
var sampleNodes = []Node{org, t1, p1, p2, g1, e1, e2, t2, p3}

func TestNormalizeGrants(t *testing.T) {
	c := NewCatalog()
	tests := []struct {
		name string
		in   []Grant
		want []Grant
	}{
		{"empty", nil, []Grant{}},
		{"duplicate", []Grant{{Permission: "secrets:read", Scope: p1}, {Permission: "secrets:read", Scope: p1}}, []Grant{{Permission: "secrets:read", Scope: p1}}},
		{"deeper scope covered", []Grant{{Permission: "secrets:read", Scope: e1}, {Permission: "secrets:read", Scope: t1}}, []Grant{{Permission: "secrets:read", Scope: t1}}},
		{"org-wide covers scoped", []Grant{{Permission: "secrets:read", Scope: e1}, {Permission: "secrets:read"}}, []Grant{{Permission: "secrets:read"}}},
		{"wildcard covers member", []Grant{{Permission: "secrets:read", Scope: p1}, {Permission: "secrets:*", Scope: t1}}, []Grant{{Permission: "secrets:*", Scope: t1}}},
		{"member does not cover wildcard", []Grant{{Permission: "secrets:*", Scope: p1}, {Permission: "secrets:read"}}, []Grant{{Permission: "secrets:*", Scope: p1}, {Permission: "secrets:read"}}},
		{"scoped wildcard does not cover unscopable", []Grant{{Permission: "projects:create"}, {Permission: "projects:*", Scope: t1}}, []Grant{{Permission: "projects:*", Scope: t1}, {Permission: "projects:create"}}},
		{"siblings kept, sorted", []Grant{{Permission: "secrets:read", Scope: e2}, {Permission: "billing:read"}, {Permission: "secrets:read", Scope: e1}}, []Grant{{Permission: "billing:read"}, {Permission: "secrets:read", Scope: e1}, {Permission: "secrets:read", Scope: e2}}},
		{"other group not covered", []Grant{{Permission: "secrets:*"}, {Permission: "encryption_keys:read"}}, []Grant{{Permission: "encryption_keys:read"}, {Permission: "secrets:*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeGrants(c, tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("NormalizeGrants(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeGrantsProperty: on random grant sets over the whole catalog
// and the sample hierarchy, normalization is idempotent, never grows the
// set, and allows and reaches exactly the same (permission, node) pairs.
func TestNormalizeGrantsProperty(t *testing.T) {
	c := NewCatalog()
	var names []string
	for _, g := range c.Groups() {
		names = append(names, g.Wildcard())
		for _, p := range g.Permissions {
			names = append(names, p.Name)
		}
	}
	// Every valid grant over the catalog and the sample hierarchy.
	var valid []Grant
	for _, n := range names {
		for _, node := range sampleNodes {
			if g := (Grant{Permission: n, Scope: node}); c.ValidateGrant(g) == nil {
				valid = append(valid, g)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		in := make([]Grant, rng.IntN(12))
		for i := range in {
			in[i] = valid[rng.IntN(len(valid))]
			if i > 0 && rng.IntN(5) == 0 {
				in[i] = in[rng.IntN(i)] // duplicates
			}
		}
		out := NormalizeGrants(c, in)
		if again := NormalizeGrants(c, out); !slices.Equal(again, out) {
			t.Fatalf("round %d: not idempotent: %v then %v", round, out, again)
		}
		if len(out) > len(in) {
			t.Fatalf("round %d: %d grants became %d", round, len(in), len(out))
		}
		a, b := Access{Grants: in}, Access{Grants: out}
		for _, perm := range c.PermissionNames() {
			for _, node := range sampleNodes {
				if a.Allows(c, perm, node) != b.Allows(c, perm, node) || a.Reaches(c, perm, node) != b.Reaches(c, perm, node) {
					t.Fatalf("round %d: %s on %v differs:\n in  %v\n out %v", round, perm, node, in, out)
				}
			}
		}
		// The same keys can be made from it (wildcards are not widened).
		for _, g := range in {
			if !b.covers(c, g) {
				t.Fatalf("round %d: %v no longer covered by %v", round, g, out)
			}
		}
	}
}

// TestEscalationReasons: a refusal names what the caller really lacks.
func TestEscalationReasons(t *testing.T) {
	c := NewCatalog()
	at := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	scoped := Access{Grants: []Grant{{Permission: "secrets:read", Scope: p1}, {Permission: "secrets:*", Scope: e1}, {Permission: "billing:read"}}, ExpiresAt: at}
	tests := []struct {
		name   string
		wanted Access
		field  string
		reason string
	}{
		{"not held", Access{Grants: []Grant{{Permission: "teams:read", Scope: t1}}, ExpiresAt: at}, "permissions[0]", "you do not hold teams:read"},
		{"wider scope", Access{Grants: []Grant{{Permission: "secrets:read"}}, ExpiresAt: at}, "permissions[0]", "your secrets:read is scoped to project prj_1, narrower than the asked scope (the whole organization)"},
		{"wider project scope", Access{Grants: []Grant{{Permission: "billing:read"}, {Permission: "secrets:read", Scope: t1}}, ExpiresAt: at}, "permissions[1]", "your secrets:read is scoped to project prj_1, narrower than the asked scope (team team_1)"},
		{"sibling scope", Access{Grants: []Grant{{Permission: "secrets:read", Scope: p2}}, ExpiresAt: at}, "permissions[0]", "your secrets:read is scoped to project prj_1, which does not include the asked scope (project prj_2)"},
		{"wildcard wider", Access{Grants: []Grant{{Permission: "secrets:*", Scope: g1}}, ExpiresAt: at}, "permissions[0]", "your secrets:* is scoped to environment env_1, narrower than the asked scope (target tgt_1)"},
		{"wildcard not held", Access{Grants: []Grant{{Permission: "billing:*"}}, ExpiresAt: at}, "permissions[0]", "you do not hold billing:*"},
		{"later expiry", Access{Grants: []Grant{{Permission: "billing:read"}}, ExpiresAt: at.Add(time.Hour)}, "expires_at", "your key expires at 2027-01-31T00:00:00.000Z, earlier than the asked expiry 2027-01-31T01:00:00.000Z"},
		{"never expires", Access{Grants: []Grant{{Permission: "billing:read"}}}, "expiration", "your key expires at 2027-01-31T00:00:00.000Z"},
		{"allow-all", Access{AllowAll: true, ExpiresAt: at}, "allow_all", "only an allow-all key can make an allow-all key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var esc *EscalationError
			if err := CheckNoEscalation(c, scoped, tt.wanted); !errors.As(err, &esc) {
				t.Fatalf("err = %v, want an EscalationError", err)
			}
			if esc.Field != tt.field || !strings.HasPrefix(esc.Reason, tt.reason) {
				t.Fatalf("refusal = %s: %q, want %s: %q", esc.Field, esc.Reason, tt.field, tt.reason)
			}
		})
	}
}
