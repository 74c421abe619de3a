package wire

import "github.com/dotenv/apikeys/shared/authz"

// CatalogPermission is one permission of the catalog.
type CatalogPermission struct {
	Name        string `json:"name"`
	Action      string `json:"action"`
	Label       string `json:"label"`
	Description string `json:"description"`
	// Scopable is false for a permission that can only be granted
	// organization-wide (create permissions, API keys, billing).
	Scopable bool `json:"scopable"`
	// ScopeLevels are the levels a grant of it may be scoped to, root first;
	// empty when it is not scopable. A scoped group wildcard covers the
	// permission only when the wildcard's level is one of these.
	ScopeLevels []string `json:"scope_levels"`
}

// CatalogWildcard is a group's wildcard grant ("secrets:*") and how deep it
// may be scoped: as deep as the group's deepest scopable permission
// (docs/design.md, "Group wildcards").
type CatalogWildcard struct {
	Name string `json:"name"`
	// Scopable is false when no permission of the group is scopable.
	Scopable bool `json:"scopable"`
	// ScopeLevels are the levels the wildcard may be scoped to, root first.
	ScopeLevels []string `json:"scope_levels"`
}

// CatalogGroup is one group of the catalog.
type CatalogGroup struct {
	Name        string              `json:"name"`
	Label       string              `json:"label"`
	Area        string              `json:"area"`
	Wildcard    CatalogWildcard     `json:"wildcard"`
	Permissions []CatalogPermission `json:"permissions"`
}

// CatalogPreset is a named preset.
type CatalogPreset struct {
	Name        string   `json:"name"`
	Label       string   `json:"label"`
	Permissions []string `json:"permissions"`
}

// CatalogRoute is a route of the API and what it needs.
type CatalogRoute struct {
	Operation  string `json:"operation"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	Permission string `json:"permission"`
}

// Catalog is the answer of GET /v1/permissions.
type Catalog struct {
	Levels  []string        `json:"levels"`
	Groups  []CatalogGroup  `json:"groups"`
	Presets []CatalogPreset `json:"presets"`
	Routes  []CatalogRoute  `json:"routes"`
}

// NewCatalog describes the catalog and the route table.
func NewCatalog(c *authz.Catalog, routes authz.Routes) Catalog {
	out := Catalog{Levels: levelNames(authz.ScopeLevels())}
	for _, g := range c.Groups() {
		wg := CatalogGroup{Name: g.Name, Label: g.Label, Area: g.Area, Wildcard: CatalogWildcard{
			Name:        g.Wildcard(),
			Scopable:    g.MaxScopedLevel() > authz.LevelOrganization,
			ScopeLevels: levelNames(g.ScopeLevels()),
		}}
		for _, p := range g.Permissions {
			wg.Permissions = append(wg.Permissions, CatalogPermission{
				Name: p.Name, Action: p.Action, Label: p.Label, Description: p.Description,
				Scopable: p.Scopable(), ScopeLevels: levelNames(p.ScopeLevels()),
			})
		}
		out.Groups = append(out.Groups, wg)
	}
	for _, p := range c.Presets() {
		out.Presets = append(out.Presets, CatalogPreset{Name: p.Name, Label: p.Label, Permissions: p.Permissions})
	}
	for _, r := range routes {
		if r.Public() {
			continue
		}
		out.Routes = append(out.Routes, CatalogRoute{Operation: r.Operation, Method: r.Method, Path: r.Pattern, Permission: r.Permission})
	}
	return out
}

func levelNames(ls []authz.Level) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.String()
	}
	return out
}
