package authz

import (
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// Node is a place in the hierarchy, given by its own id and the ids of all
// its ancestors. The zero Node is the organization itself. A Node's level is
// its deepest non-empty id.
type Node struct {
	Team        string `json:"team,omitempty"`
	Project     string `json:"project,omitempty"`
	Target      string `json:"target,omitempty"`
	Environment string `json:"environment,omitempty"`
}

// Level returns the node's level (LevelOrganization for the zero Node).
func (n Node) Level() Level {
	switch {
	case n.Environment != "":
		return LevelEnvironment
	case n.Target != "":
		return LevelTarget
	case n.Project != "":
		return LevelProject
	case n.Team != "":
		return LevelTeam
	}
	return LevelOrganization
}

// At returns the id of the node's ancestor (or itself) at level l, "" above
// the team level or below the node.
func (n Node) At(l Level) string {
	switch l {
	case LevelTeam:
		return n.Team
	case LevelProject:
		return n.Project
	case LevelTarget:
		return n.Target
	case LevelEnvironment:
		return n.Environment
	}
	return ""
}

// With returns a copy of n with id at level l (the levels below are kept;
// callers build paths root first).
func (n Node) With(l Level, id string) Node {
	switch l {
	case LevelTeam:
		n.Team = id
	case LevelProject:
		n.Project = id
	case LevelTarget:
		n.Target = id
	case LevelEnvironment:
		n.Environment = id
	}
	return n
}

// ID returns the node's own id ("" for the organization).
func (n Node) ID() string { return n.At(n.Level()) }

// Contains reports whether m is n or lies below n.
func (n Node) Contains(m Node) bool {
	l := n.Level()
	return l == LevelOrganization || m.At(l) == n.At(l)
}

// Grant is one permission (or group wildcard) with an optional scope. The
// zero Scope means organization-wide.
type Grant struct {
	Permission string `json:"permission"`
	Scope      Node   `json:"scope,omitzero"`
}

func (g Grant) String() string {
	if g.Scope.Level() == LevelOrganization {
		return g.Permission
	}
	return fmt.Sprintf("%s on %s %s", g.Permission, g.Scope.Level(), g.Scope.ID())
}

// matches reports whether the grant's permission (exact or group wildcard)
// names permission perm.
func (g Grant) matches(perm string) bool {
	if g.Permission == perm {
		return true
	}
	grp, act, ok := splitName(g.Permission)
	if !ok || act != "*" {
		return false
	}
	pg, _, ok := splitName(perm)
	return ok && pg == grp
}

// GrantError says which grant is refused and why.
type GrantError struct {
	// Index is the grant's position in the request.
	Index int
	// Grant is the refused grant.
	Grant Grant
	// Reason is a sentence for the user.
	Reason string
}

func (e *GrantError) Error() string {
	return fmt.Sprintf("permissions[%d] (%s): %s", e.Index, e.Grant.Permission, e.Reason)
}

// ValidateGrant checks a grant against the catalog: a known permission or
// group wildcard, scoped no deeper than it allows, never a scoped create
// permission. Whether the scope's node exists is the caller's business (it
// needs the directory).
func (c *Catalog) ValidateGrant(g Grant) error {
	level := g.Scope.Level()
	if p, ok := c.byName[g.Permission]; ok {
		if level == LevelOrganization {
			return nil
		}
		if !p.Scopable() {
			if p.Action == "create" {
				return fmt.Errorf("%s cannot be scoped: there is nothing yet to scope it to", p.Name)
			}
			return fmt.Errorf("%s can only be granted organization-wide", p.Name)
		}
		if !p.AllowsLevel(level) {
			return fmt.Errorf("%s can be scoped at most to the %s level, not to a %s", p.Name, p.MaxLevel, level)
		}
		return nil
	}
	grp, act, ok := splitName(g.Permission)
	if ok && act == "*" {
		gr, known := c.byGroup[grp]
		if !known {
			return fmt.Errorf("unknown permission group %q", grp)
		}
		if level != LevelOrganization && level > gr.MaxScopedLevel() {
			if gr.MaxScopedLevel() == LevelOrganization {
				return fmt.Errorf("%s can only be granted organization-wide", g.Permission)
			}
			return fmt.Errorf("%s can be scoped at most to the %s level, not to a %s", g.Permission, gr.MaxScopedLevel(), level)
		}
		return nil
	}
	return fmt.Errorf("unknown permission %q", g.Permission)
}

// ValidateGrants checks every grant and returns the first refusal as a
// *GrantError.
func (c *Catalog) ValidateGrants(grants []Grant) error {
	for i, g := range grants {
		if err := c.ValidateGrant(g); err != nil {
			return &GrantError{Index: i, Grant: g, Reason: err.Error()}
		}
	}
	return nil
}

// ExpandPreset returns the grants of a preset, organization-wide.
func (c *Catalog) ExpandPreset(name string) ([]Grant, bool) {
	p, ok := c.Preset(name)
	if !ok {
		return nil, false
	}
	out := make([]Grant, len(p.Permissions))
	for i, n := range p.Permissions {
		out[i] = Grant{Permission: n}
	}
	return out, true
}

// Access is what a key may do: allow-all, or a list of grants, until an
// optional expiry, from an optional list of networks.
type Access struct {
	AllowAll bool
	Grants   []Grant
	// ExpiresAt is the zero time for a key that never expires.
	ExpiresAt time.Time
	// AllowedNetworks are the networks the key may be used from, in
	// NormalizeNetworks form; empty means anywhere (AllowsAddr).
	AllowedNetworks []netip.Prefix
}

// Allows reports whether the access allows permission perm on node n: a
// grant for perm (or its group wildcard) scoped to n or one of its
// ancestors. Scoped group wildcards never cover unscopable permissions.
func (a Access) Allows(c *Catalog, perm string, n Node) bool {
	if a.AllowAll {
		return true
	}
	for _, g := range a.Grants {
		if g.matches(perm) && g.Scope.Contains(n) && c.scopeApplies(g, perm) {
			return true
		}
	}
	return false
}

// Reaches reports whether the access allows perm on n or on anything below n.
// List routes use it: the caller may list a node's children when some grant
// reaches into that subtree, and the list then shows only what Allows.
func (a Access) Reaches(c *Catalog, perm string, n Node) bool {
	if a.AllowAll {
		return true
	}
	for _, g := range a.Grants {
		if g.matches(perm) && (g.Scope.Contains(n) || n.Contains(g.Scope)) && c.scopeApplies(g, perm) {
			return true
		}
	}
	return false
}

// scopeApplies is false for a scoped wildcard and an unscopable permission
// (a projects:* grant on one team does not allow projects:create).
func (c *Catalog) scopeApplies(g Grant, perm string) bool {
	if g.Scope.Level() == LevelOrganization {
		return true
	}
	p, ok := c.byName[perm]
	return !ok || p.AllowsLevel(g.Scope.Level())
}

// OrganizationWide reports whether perm is allowed on the whole organization,
// in which case no node needs to be looked up to decide.
func (a Access) OrganizationWide(c *Catalog, perm string) bool {
	return a.Allows(c, perm, Node{})
}

// EscalationError names what a caller tried to give beyond its own access.
type EscalationError struct {
	// Field is the request field concerned ("allow_all", "expires_at",
	// "permissions[i]", "allowed_cidrs" or "allowed_cidrs[i]").
	Field string
	// Reason is a sentence for the user.
	Reason string
}

func (e *EscalationError) Error() string { return e.Field + ": " + e.Reason }

// CheckNoEscalation enforces that a key made or changed by caller is never
// stronger than caller: allow-all only from allow-all, every grant covered by
// one of caller's (same permission or a wildcard of its group, on the same
// node or an ancestor), an expiry no later than caller's, and, when caller
// is restricted to networks, every network of the key inside one of
// caller's (a key usable from anywhere is not). The refusal's reason names
// what the caller really lacks: the permission itself, a scope wide enough,
// a late enough expiry, the networks, or allow-all.
func CheckNoEscalation(c *Catalog, caller, wanted Access) error {
	if !caller.ExpiresAt.IsZero() {
		if wanted.ExpiresAt.IsZero() {
			return &EscalationError{Field: "expiration", Reason: "your key expires at " + FormatTime(caller.ExpiresAt) + ", so it cannot stand behind a key that never expires"}
		}
		if wanted.ExpiresAt.After(caller.ExpiresAt) {
			return &EscalationError{Field: "expires_at", Reason: "your key expires at " + FormatTime(caller.ExpiresAt) + ", earlier than the asked expiry " + FormatTime(wanted.ExpiresAt)}
		}
	}
	if err := checkNetworks(caller, wanted); err != nil {
		return err
	}
	if caller.AllowAll {
		return nil
	}
	if wanted.AllowAll {
		return &EscalationError{Field: "allow_all", Reason: "only an allow-all key can make an allow-all key"}
	}
	for i, g := range wanted.Grants {
		if !caller.covers(c, g) {
			return &EscalationError{Field: fmt.Sprintf("permissions[%d]", i), Reason: caller.lack(c, g)}
		}
	}
	return nil
}

// lack explains why a's grants do not cover g: a does not hold the
// permission at all, or holds it only on a scope that does not include g's.
func (a Access) lack(c *Catalog, g Grant) string {
	_, act, _ := splitName(g.Permission)
	for _, mine := range a.Grants {
		held := mine.Permission == g.Permission
		if act != "*" {
			held = mine.matches(g.Permission) && c.scopeApplies(mine, g.Permission)
		}
		if !held {
			continue
		}
		if g.Scope.Contains(mine.Scope) {
			return fmt.Sprintf("your %s is scoped to %s, narrower than the asked scope (%s)", mine.Permission, describeScope(mine.Scope), describeScope(g.Scope))
		}
		return fmt.Sprintf("your %s is scoped to %s, which does not include the asked scope (%s)", mine.Permission, describeScope(mine.Scope), describeScope(g.Scope))
	}
	if act == "*" {
		return "you do not hold " + g.Permission + " (a group wildcard is only covered by the same wildcard: it also grants permissions added to the group later)"
	}
	return "you do not hold " + g.Permission
}

// describeScope names a scope for people: "the whole organization" or
// "<level> <id>".
func describeScope(n Node) string {
	if n.Level() == LevelOrganization {
		return "the whole organization"
	}
	return n.Level().String() + " " + n.ID()
}

// TimeLayout is the API's one time format: RFC 3339 in UTC with exactly
// three fraction digits ("2027-01-31T00:00:00.000Z"). See docs/design.md.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime formats an instant in TimeLayout (truncated to the
// millisecond, the precision every stored time has).
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(TimeLayout) }

// NormalizeGrants returns the canonical form of a grant set: duplicates
// removed, every grant covered by another grant of the set removed (a group
// wildcard covers its permissions, a grant on a node covers the same
// permission on the nodes below), sorted by permission, then scope level,
// then scope ids. It allows exactly the same (permission, node) pairs as
// grants, and normalizing a normalized set changes nothing.
func NormalizeGrants(c *Catalog, grants []Grant) []Grant {
	uniq := make([]Grant, 0, len(grants))
	seen := make(map[Grant]bool, len(grants))
	for _, g := range grants {
		if !seen[g] {
			seen[g] = true
			uniq = append(uniq, g)
		}
	}
	out := make([]Grant, 0, len(uniq))
	for i, g := range uniq {
		covered := false
		for j, h := range uniq {
			if i == j || !(Access{Grants: []Grant{h}}).covers(c, g) {
				continue
			}
			// Two distinct grants covering each other: keep the first.
			if (Access{Grants: []Grant{g}}).covers(c, h) && i < j {
				continue
			}
			covered = true
			break
		}
		if !covered {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return grantLess(out[i], out[j]) })
	return out
}

// grantLess is the canonical order of grants.
func grantLess(a, b Grant) bool {
	if a.Permission != b.Permission {
		return a.Permission < b.Permission
	}
	if la, lb := a.Scope.Level(), b.Scope.Level(); la != lb {
		return la < lb
	}
	for _, l := range scopeLevels {
		if x, y := a.Scope.At(l), b.Scope.At(l); x != y {
			return x < y
		}
	}
	return false
}

// covers reports whether one of a's grants includes grant g entirely.
func (a Access) covers(c *Catalog, g Grant) bool {
	_, act, _ := splitName(g.Permission)
	for _, mine := range a.Grants {
		if !mine.Scope.Contains(g.Scope) {
			continue
		}
		if act == "*" {
			// A wildcard is only covered by the same wildcard: it includes
			// permissions added to the group later.
			if mine.Permission == g.Permission {
				return true
			}
			continue
		}
		if mine.matches(g.Permission) && c.scopeApplies(mine, g.Permission) {
			return true
		}
	}
	return false
}
