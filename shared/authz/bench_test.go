package authz

import "testing"

func BenchmarkAllowsScoped(b *testing.B) {
	c := NewCatalog()
	a := Access{Grants: []Grant{
		{Permission: "projects:read", Scope: p2}, {Permission: "secrets:write", Scope: e2},
		{Permission: "secrets:*", Scope: t2}, {Permission: "secrets:read", Scope: g1},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if !a.Allows(c, "secrets:read", e1) {
			b.Fatal("denied")
		}
	}
}

func BenchmarkAllowsAllowAll(b *testing.B) {
	c := NewCatalog()
	a := Access{AllowAll: true}
	b.ReportAllocs()
	for b.Loop() {
		if !a.Allows(c, "secrets:read", e1) {
			b.Fatal("denied")
		}
	}
}
