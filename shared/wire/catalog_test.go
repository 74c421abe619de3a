package wire_test

import (
	"slices"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/wire"
)

// GET /v1/permissions publishes how deep each permission and each group
// wildcard may be scoped: a wildcard as deep as the group's deepest scopable
// permission, never the intersection of its permissions' levels.
func TestCatalogPublishesScopeLevels(t *testing.T) {
	c := wire.NewCatalog(authz.NewCatalog(), authz.NewRoutes())
	wildcards := map[string]wire.CatalogWildcard{}
	perms := map[string]wire.CatalogPermission{}
	for _, g := range c.Groups {
		wildcards[g.Wildcard.Name] = g.Wildcard
		for _, p := range g.Permissions {
			perms[p.Name] = p
		}
	}
	for _, tc := range []struct {
		name     string
		scopable bool
		levels   []string
	}{
		{"secrets:*", true, []string{"team", "project", "target", "environment"}},
		{"projects:*", true, []string{"team", "project"}},
		{"targets:*", true, []string{"team", "project", "target"}},
		{"teams:*", true, []string{"team"}},
		{"organizations:*", false, []string{}},
		{"api_tokens:*", false, []string{}},
		{"projects:create", false, []string{}},
		{"projects:read", true, []string{"team", "project"}},
		{"members:read", true, []string{"team"}},
		{"billing:read", false, []string{}},
	} {
		var scopable bool
		var levels []string
		if w, ok := wildcards[tc.name]; ok {
			scopable, levels = w.Scopable, w.ScopeLevels
		} else if p, ok := perms[tc.name]; ok {
			scopable, levels = p.Scopable, p.ScopeLevels
		} else {
			t.Errorf("%s is not in the catalog", tc.name)
			continue
		}
		if scopable != tc.scopable || levels == nil || !slices.Equal(levels, tc.levels) {
			t.Errorf("%s: scopable %v, scope_levels %#v; want %v, %#v", tc.name, scopable, levels, tc.scopable, tc.levels)
		}
	}
}
