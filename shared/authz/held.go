package authz

// HeldElsewhere returns the scopes on which the access holds perm (its
// grants that name perm, exactly or by a group wildcard) without any of
// them containing n, in grant order: what explains a refusal of perm on n
// to a key that does hold perm, only on other or narrower scopes. Nil when
// the access holds perm nowhere, or allows everything.
func (a Access) HeldElsewhere(perm string, n Node) []Node {
	if a.AllowAll {
		return nil
	}
	var out []Node
	for _, g := range a.Grants {
		if !g.matches(perm) {
			continue
		}
		if g.Scope.Contains(n) {
			return nil // held on n itself: the refusal is not about scope
		}
		out = append(out, g.Scope)
	}
	return out
}

// ScopeString names a scope in a sentence: "the whole organization", or
// its level and id ("project prj_…").
func ScopeString(n Node) string {
	if n.Level() == LevelOrganization {
		return "the whole organization"
	}
	return n.Level().String() + " " + n.ID()
}
