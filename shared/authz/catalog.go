// Package authz decides who may do what: the permissions catalog, scopes on
// the team ⊃ project ⊃ target ⊃ environment hierarchy, grant validation,
// coverage, the no-escalation rule, the principal carried by a request, and
// the one route table that maps every HTTP route to the permission it needs.
// Nothing else in the system makes authorization decisions.
package authz

import (
	"sort"
	"strings"
)

// Level is a level of the organization's hierarchy. Organization is the root;
// a deeper level has a larger value.
type Level int

// The levels of the hierarchy, root first.
const (
	LevelOrganization Level = iota
	LevelTeam
	LevelProject
	LevelTarget
	LevelEnvironment
)

// ScopeLevels are the levels a grant may be scoped to, root first.
var scopeLevels = [...]Level{LevelTeam, LevelProject, LevelTarget, LevelEnvironment}

// ScopeLevels returns the levels a grant may be scoped to, root first.
func ScopeLevels() []Level { return scopeLevels[:] }

var levelNames = [...]string{"organization", "team", "project", "target", "environment"}

// String returns the level's name as used in the API ("team", ...).
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "unknown"
	}
	return levelNames[l]
}

// ParseLevel returns the level with the given API name.
func ParseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), true
		}
	}
	return 0, false
}

// IDPrefix is the prefix of the ids of nodes at this level.
func (l Level) IDPrefix() string {
	switch l {
	case LevelOrganization:
		return "org_"
	case LevelTeam:
		return "team_"
	case LevelProject:
		return "prj_"
	case LevelTarget:
		return "tgt_"
	case LevelEnvironment:
		return "env_"
	}
	return ""
}

// Permission describes one entry of the catalog.
type Permission struct {
	// Name is "group:action".
	Name string
	// Group and Action are the two halves of Name.
	Group, Action string
	// Label is a short human description ("Read secrets").
	Label string
	// Description says what the permission allows.
	Description string
	// MaxLevel is the deepest level the permission may be scoped to;
	// LevelOrganization means organization-wide only.
	MaxLevel Level
}

// Scopable reports whether the permission may be scoped at all.
func (p Permission) Scopable() bool { return p.MaxLevel > LevelOrganization }

// AllowsLevel reports whether the permission may be scoped to level l.
func (p Permission) AllowsLevel(l Level) bool {
	return l == LevelOrganization || (l >= LevelTeam && l <= p.MaxLevel)
}

// ScopeLevels returns the levels the permission may be scoped to.
func (p Permission) ScopeLevels() []Level {
	if !p.Scopable() {
		return nil
	}
	return scopeLevels[:p.MaxLevel]
}

// Group is one area of the catalog.
type Group struct {
	// Name is the group's id ("secrets").
	Name string
	// Label is its display name ("Secrets").
	Label string
	// Area is the dashboard area that shows it ("Secrets" for
	// encryption_keys too).
	Area string
	// Permissions are the group's permissions in display order.
	Permissions []Permission
}

// Wildcard is the group's wildcard grant name ("secrets:*").
func (g Group) Wildcard() string { return g.Name + ":*" }

// MaxScopedLevel is the deepest level a scoped group wildcard may have: the
// deepest level of any of the group's scopable permissions.
func (g Group) MaxScopedLevel() Level {
	max := LevelOrganization
	for _, p := range g.Permissions {
		if p.MaxLevel > max {
			max = p.MaxLevel
		}
	}
	return max
}

// ScopeLevels returns the levels a scoped group wildcard may have, root
// first (none when no permission of the group is scopable).
func (g Group) ScopeLevels() []Level { return scopeLevels[:g.MaxScopedLevel()] }

// Preset is a named set of permissions offered as a shortcut.
type Preset struct {
	Name        string
	Label       string
	Permissions []string
}

// PresetReadOnly is the name of the read-only preset.
const PresetReadOnly = "read-only"

// Catalog is the set of permissions the system knows.
type Catalog struct {
	groups  []Group
	byName  map[string]Permission
	byGroup map[string]Group
	presets []Preset
}

type actionSpec struct {
	action, label, description string
	max                        Level
}

func group(name, label, area string, actions ...actionSpec) Group {
	g := Group{Name: name, Label: label, Area: area}
	for _, a := range actions {
		g.Permissions = append(g.Permissions, Permission{
			Name: name + ":" + a.action, Group: name, Action: a.action,
			Label: a.label, Description: a.description, MaxLevel: a.max,
		})
	}
	return g
}

func crud(noun string, max Level, withCreate bool) []actionSpec {
	var out []actionSpec
	if withCreate {
		out = append(out, actionSpec{"create", "Create " + noun, "Create new " + noun + ".", LevelOrganization})
	}
	return append(out,
		actionSpec{"read", "Read " + noun, "List and view " + noun + ".", max},
		actionSpec{"update", "Update " + noun, "Rename and change " + noun + ".", max},
		actionSpec{"delete", "Delete " + noun, "Delete " + noun + ".", max},
	)
}

// NewCatalog returns the permissions catalog (docs/product.md, "Permissions").
func NewCatalog() *Catalog {
	env := LevelEnvironment
	groups := []Group{
		group("secrets", "Secrets", "Secrets",
			actionSpec{"read", "Read secrets", "Read secret values.", env},
			actionSpec{"write", "Write secrets", "Create and change secrets.", env},
			actionSpec{"decrypt", "Decrypt secrets", "Decrypt secrets server-side.", env},
			actionSpec{"history", "Secret history", "Read the version history of secrets.", env},
			actionSpec{"restore", "Restore secrets", "Restore earlier versions of secrets.", env},
			actionSpec{"purge", "Purge secrets", "Permanently purge secrets and their history.", env},
		),
		group("encryption_keys", "Encryption keys", "Secrets",
			actionSpec{"read", "Retrieve encryption keys", "Retrieve the encryption keys of secrets.", env},
			actionSpec{"rotate", "Rotate encryption keys", "Rotate the encryption keys of secrets.", env},
		),
		group("projects", "Projects", "Projects", crud("projects", LevelProject, true)...),
		group("targets", "Targets", "Targets", crud("targets", LevelTarget, true)...),
		group("environments", "Environments", "Environments", crud("environments", LevelEnvironment, true)...),
		group("teams", "Teams", "Teams", crud("teams", LevelTeam, true)...),
		group("organizations", "Organizations", "Organizations", crud("the organization", LevelOrganization, false)...),
		group("members", "Members", "Members", crud("members", LevelTeam, true)...),
		group("audit_log", "Audit log", "Organizations",
			actionSpec{"read", "Read the audit log", "List and export who changed which key, the organization or its directory, and when (never a token).", LevelOrganization},
		),
		group("api_tokens", "API tokens", "API Tokens",
			actionSpec{"create", "Create API keys", "Create new API keys (never stronger than the caller).", LevelOrganization},
			actionSpec{"read", "Read API keys", "List and view API keys (never their tokens).", LevelOrganization},
			actionSpec{"update", "Update API keys", "Change the name, permissions and expiry of API keys.", LevelOrganization},
			actionSpec{"rotate", "Rotate API keys", "Replace the secret of API keys.", LevelOrganization},
			actionSpec{"delete", "Delete API keys", "Revoke API keys.", LevelOrganization},
		),
		group("webhooks", "Webhooks", "Organizations",
			actionSpec{"create", "Create webhooks", "Add webhook endpoints that receive the organization's key events.", LevelOrganization},
			actionSpec{"read", "Read webhooks", "List and view webhook endpoints and their deliveries (never their signing secrets).", LevelOrganization},
			actionSpec{"update", "Update webhooks", "Change webhook endpoints, rotate their signing secrets and retry deliveries.", LevelOrganization},
			actionSpec{"delete", "Delete webhooks", "Delete webhook endpoints.", LevelOrganization},
		),
		group("billing", "Billing", "Billing",
			actionSpec{"read", "Read billing", "View invoices and the plan.", LevelOrganization},
			actionSpec{"manage", "Manage billing", "Change the plan and payment methods.", LevelOrganization},
		),
	}
	c := &Catalog{groups: groups, byName: map[string]Permission{}, byGroup: map[string]Group{}}
	for _, g := range groups {
		c.byGroup[g.Name] = g
		for _, p := range g.Permissions {
			c.byName[p.Name] = p
		}
	}
	c.presets = []Preset{{
		Name: PresetReadOnly, Label: "Read-only",
		Permissions: []string{"secrets:read", "projects:read", "targets:read", "environments:read", "organizations:read"},
	}}
	return c
}

// Groups returns the catalog's groups in display order.
func (c *Catalog) Groups() []Group { return c.groups }

// Presets returns the named presets.
func (c *Catalog) Presets() []Preset { return c.presets }

// Permission returns the permission with the given name.
func (c *Catalog) Permission(name string) (Permission, bool) {
	p, ok := c.byName[name]
	return p, ok
}

// Preset returns the preset with the given name.
func (c *Catalog) Preset(name string) (Preset, bool) {
	for _, p := range c.presets {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// PermissionNames returns every permission name, sorted.
func (c *Catalog) PermissionNames() []string {
	out := make([]string, 0, len(c.byName))
	for n := range c.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// splitName splits "group:action".
func splitName(name string) (group, action string, ok bool) {
	i := strings.IndexByte(name, ':')
	if i <= 0 || i == len(name)-1 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}
