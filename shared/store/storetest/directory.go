package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/store"
)

// child returns a new node below parent (the organization when parent is
// nil) at the next level, named name, created at at.
func child(org string, parent *directory.Node, name string, at time.Time) *directory.Node {
	var path authz.Node
	level := authz.LevelTeam
	if parent != nil {
		path = parent.Path
		level = parent.Level() + 1
	}
	id := newID(level.IDPrefix())
	switch level {
	case authz.LevelTeam:
		path.Team = id
	case authz.LevelProject:
		path.Project = id
	case authz.LevelTarget:
		path.Target = id
	case authz.LevelEnvironment:
		path.Environment = id
	}
	return &directory.Node{ID: id, OrganizationID: org, Path: path, Name: name, CreatedAt: at, UpdatedAt: at}
}

// mustCreateNode stores n.
func mustCreateNode(t *testing.T, s store.Store, n *directory.Node) *directory.Node {
	t.Helper()
	if err := s.CreateNode(t.Context(), n, ev()); err != nil {
		t.Fatalf("CreateNode(%s %q): %v", n.Level(), n.Name, err)
	}
	return n
}

// nodeDiff lists the fields in which got differs from want.
func nodeDiff(want, got *directory.Node) []string {
	var d []string
	if got.ID != want.ID {
		d = append(d, fmt.Sprintf("ID: got %q, want %q", got.ID, want.ID))
	}
	if got.OrganizationID != want.OrganizationID {
		d = append(d, fmt.Sprintf("OrganizationID: got %q, want %q", got.OrganizationID, want.OrganizationID))
	}
	if got.Path != want.Path {
		d = append(d, fmt.Sprintf("Path: got %+v, want %+v", got.Path, want.Path))
	}
	if got.Name != want.Name {
		d = append(d, fmt.Sprintf("Name: got %q, want %q", got.Name, want.Name))
	}
	if !sameTime(want.CreatedAt, got.CreatedAt) {
		d = append(d, fmt.Sprintf("CreatedAt (same instant, in UTC): got %v, want %v", got.CreatedAt, want.CreatedAt))
	}
	if !sameTime(want.UpdatedAt, got.UpdatedAt) {
		d = append(d, fmt.Sprintf("UpdatedAt (same instant, in UTC): got %v, want %v", got.UpdatedAt, want.UpdatedAt))
	}
	return d
}

// checkNode reads id and compares it with want.
func checkNode(t *testing.T, s store.Store, what string, want *directory.Node) {
	t.Helper()
	got, err := s.GetNode(t.Context(), want.OrganizationID, want.ID)
	if err != nil {
		t.Fatalf("%s: GetNode(%s): %v", what, want.ID, err)
	}
	if d := nodeDiff(want, got); len(d) > 0 {
		t.Fatalf("%s: node %s differs:\n  %s", what, want.ID, strings.Join(d, "\n  "))
	}
}

// nodeIDs returns the ids of nodes.
func nodeIDs(ns []*directory.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// oldestFirst sorts nodes as ListNodes does: CreatedAt, then ID, ascending.
func oldestFirst(ns []*directory.Node) []*directory.Node {
	ns = slices.Clone(ns)
	slices.SortFunc(ns, func(a, b *directory.Node) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ns
}

// listAllNodes pages through a node listing with limit, checking the page
// rules, and returns every item in order.
func listAllNodes(t *testing.T, s store.Store, org string, level authz.Level, parent string, limit int) []*directory.Node {
	t.Helper()
	var all []*directory.Node
	cursor := ""
	size := directory.ListOptions{Limit: limit}.PageSize()
	for page := 0; ; page++ {
		if page == 20 {
			t.Fatalf("ListNodes(%s, %s, %q, limit %d): still a next page after %d pages", org, level, parent, limit, page)
		}
		p, err := s.ListNodes(t.Context(), org, level, parent, directory.ListOptions{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListNodes(%s, %s, %q, limit %d): %v", org, level, parent, limit, err)
		}
		if len(p.Items) > size || (p.Next != "" && len(p.Items) != size) {
			t.Fatalf("ListNodes(%s, %s, %q, limit %d): page %d has %d items and next %q; want at most %d, and exactly %d before the last page", org, level, parent, limit, page, len(p.Items), p.Next, size, size)
		}
		for _, n := range p.Items {
			if n.OrganizationID != org || n.Level() != level || (parent != "" && n.ParentID() != parent) {
				t.Fatalf("ListNodes(%s, %s, %q) returned %s node %s of %s under %q", org, level, parent, n.Level(), n.ID, n.OrganizationID, n.ParentID())
			}
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		cursor = p.Next
	}
}

func testOrganizations(t *testing.T, s store.Store) {
	at := now()
	o := &directory.Organization{ID: newID("org_"), Name: "Acme — Ünïcode", CreatedAt: at, UpdatedAt: at}
	if err := s.CreateOrganization(t.Context(), o, ev()); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	check := func(what string, want directory.Organization) {
		t.Helper()
		got, err := s.GetOrganization(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("%s: GetOrganization: %v", what, err)
		}
		if got.ID != want.ID || got.Name != want.Name || !sameTime(want.CreatedAt, got.CreatedAt) || !sameTime(want.UpdatedAt, got.UpdatedAt) {
			t.Fatalf("%s: got %+v, want %+v", what, *got, want)
		}
	}
	check("GetOrganization after create", *o)

	dup := &directory.Organization{ID: o.ID, Name: "other", CreatedAt: at, UpdatedAt: at}
	wantErr(t, "CreateOrganization with an existing id", s.CreateOrganization(t.Context(), dup, ev()), fault.ErrConflict)
	check("GetOrganization after the refused create", *o)

	_, err := s.GetOrganization(t.Context(), newID("org_"))
	wantErr(t, "GetOrganization of a missing id", err, fault.ErrNotFound)

	later := at.Add(time.Minute)
	got, err := s.RenameOrganization(t.Context(), o.ID, "Renamed", later, ev())
	if err != nil {
		t.Fatalf("RenameOrganization: %v", err)
	}
	want := *o
	want.Name, want.UpdatedAt = "Renamed", later
	if got.ID != o.ID || got.Name != "Renamed" || !sameTime(at, got.CreatedAt) || !sameTime(later, got.UpdatedAt) {
		t.Fatalf("RenameOrganization returned %+v, want %+v", *got, want)
	}
	check("GetOrganization after rename", want)

	_, err = s.RenameOrganization(t.Context(), newID("org_"), "x", later, ev())
	wantErr(t, "RenameOrganization of a missing id", err, fault.ErrNotFound)
}

func testNodeCreateGet(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	team := mustCreateNode(t, s, child(org, nil, "platform", at))
	prj := mustCreateNode(t, s, child(org, team, "billing", at.Add(time.Millisecond)))
	tgt := mustCreateNode(t, s, child(org, prj, "web", at.Add(2*time.Millisecond)))
	env := mustCreateNode(t, s, child(org, tgt, "production", at.Add(3*time.Millisecond)))
	for _, n := range []*directory.Node{team, prj, tgt, env} {
		checkNode(t, s, "GetNode after CreateNode", n)
	}
	want := authz.Node{Team: team.ID, Project: prj.ID, Target: tgt.ID, Environment: env.ID}
	if got, _ := s.GetNode(t.Context(), org, env.ID); got == nil || got.Path != want || got.ParentID() != tgt.ID || got.Level() != authz.LevelEnvironment {
		t.Fatalf("environment's path = %+v, want %+v", got, want)
	}

	// A node in another zone comes back in UTC.
	zone := time.FixedZone("UTC-5", -5*60*60)
	n := child(org, team, "zoned", at.In(zone))
	mustCreateNode(t, s, n)
	checkNode(t, s, "GetNode of a node created with a zoned time", n)

	_, err := s.GetNode(t.Context(), org, newID("team_"))
	wantErr(t, "GetNode of a missing id", err, fault.ErrNotFound)
}

func testNodeParentNotFound(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	other := newOrg(t, s).ID
	at := now()
	team := mustCreateNode(t, s, child(org, nil, "team", at))
	prj := mustCreateNode(t, s, child(org, team, "project", at))
	foreignTeam := mustCreateNode(t, s, child(other, nil, "team", at))
	otherTeam := mustCreateNode(t, s, child(org, nil, "other team", at))

	missingTeam := child(org, nil, "ghost", at)
	missingPrj := child(org, missingTeam, "ghost", at)
	wrongAncestor := child(org, prj, "target", at)
	wrongAncestor.Path.Team = otherTeam.ID // prj is not in otherTeam
	tests := []struct {
		name string
		node *directory.Node
	}{
		{"team in a missing organization", child(newID("org_"), nil, "team", at)},
		{"project under a missing team", child(org, missingTeam, "project", at)},
		{"target under a missing project", child(org, missingPrj, "target", at)},
		{"environment under a missing target", child(org, child(org, prj, "ghost", at), "env", at)},
		{"project under another organization's team", child(org, foreignTeam, "project", at)},
		{"target whose path names the wrong team", wrongAncestor},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "CreateNode", s.CreateNode(t.Context(), tc.node, ev()), fault.ErrNotFound)
			_, err := s.GetNode(t.Context(), tc.node.OrganizationID, tc.node.ID)
			wantErr(t, "GetNode of the refused node", err, fault.ErrNotFound)
		})
	}
}

func testNodeConflicts(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	t1 := mustCreateNode(t, s, child(org, nil, "backend", at))
	t2 := mustCreateNode(t, s, child(org, nil, "frontend", at))

	wantErr(t, "a second team named backend", s.CreateNode(t.Context(), child(org, nil, "backend", at), ev()), fault.ErrConflict)

	// The same name under another parent, or at another level, is fine.
	p1 := mustCreateNode(t, s, child(org, t1, "api", at))
	mustCreateNode(t, s, child(org, t2, "api", at))
	mustCreateNode(t, s, child(org, t1, "backend", at))
	mustCreateNode(t, s, child(org, p1, "api", at))
	wantErr(t, "a second project named api in the same team", s.CreateNode(t.Context(), child(org, t1, "api", at), ev()), fault.ErrConflict)

	// Names are unique per organization, not across organizations.
	other := newOrg(t, s).ID
	mustCreateNode(t, s, child(other, nil, "backend", at))

	// An id already used in the organization.
	dup := child(org, nil, "another name", at)
	dup.ID, dup.Path = t2.ID, t2.Path
	wantErr(t, "CreateNode with an existing id", s.CreateNode(t.Context(), dup, ev()), fault.ErrConflict)
	checkNode(t, s, "GetNode after the refused create", t2)
}

func testNodeOtherOrg(t *testing.T, s store.Store) {
	a, b := newOrg(t, s).ID, newOrg(t, s).ID
	at := now()
	team := mustCreateNode(t, s, child(a, nil, "secret team", at))
	_, err := s.GetNode(t.Context(), b, team.ID)
	wantErr(t, "GetNode from another organization", err, fault.ErrNotFound)
	_, err = s.RenameNode(t.Context(), b, team.ID, "hijacked", at, ev())
	wantErr(t, "RenameNode from another organization", err, fault.ErrNotFound)
	wantErr(t, "DeleteNode from another organization", s.DeleteNode(t.Context(), b, team.ID, ev()), fault.ErrNotFound)
	checkNode(t, s, "GetNode in its own organization", team)
	if got := listAllNodes(t, s, b, authz.LevelTeam, "", 0); len(got) != 0 {
		t.Fatalf("B lists A's teams: %v", nodeIDs(got))
	}
}

func testNodeList(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	other := newOrg(t, s).ID
	at := now()
	// Created out of order, with a tie on CreatedAt.
	t3 := mustCreateNode(t, s, child(org, nil, "c", at.Add(2*time.Second)))
	t1 := mustCreateNode(t, s, child(org, nil, "a", at))
	t2 := mustCreateNode(t, s, child(org, nil, "b", at.Add(time.Second)))
	t4 := mustCreateNode(t, s, child(org, nil, "d", at.Add(time.Second)))
	p2 := mustCreateNode(t, s, child(org, t1, "p2", at.Add(time.Minute)))
	p1 := mustCreateNode(t, s, child(org, t1, "p1", at.Add(-time.Minute)))
	p3 := mustCreateNode(t, s, child(org, t2, "p3", at))
	g1 := mustCreateNode(t, s, child(org, p1, "g1", at))
	mustCreateNode(t, s, child(other, nil, "foreign", at.Add(-time.Hour)))

	tests := []struct {
		name   string
		level  authz.Level
		parent string
		want   []*directory.Node
	}{
		{"all teams", authz.LevelTeam, "", []*directory.Node{t1, t2, t3, t4}},
		{"all projects", authz.LevelProject, "", []*directory.Node{p1, p2, p3}},
		{"projects of the first team", authz.LevelProject, t1.ID, []*directory.Node{p1, p2}},
		{"projects of the second team", authz.LevelProject, t2.ID, []*directory.Node{p3}},
		{"projects of a team without any", authz.LevelProject, t3.ID, nil},
		{"targets of a project", authz.LevelTarget, p1.ID, []*directory.Node{g1}},
		{"all environments", authz.LevelEnvironment, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := listAllNodes(t, s, org, tc.level, tc.parent, 0)
			want := oldestFirst(tc.want)
			if !slices.Equal(nodeIDs(got), nodeIDs(want)) {
				t.Fatalf("ListNodes:\n got %v\nwant %v (oldest first, ties by id)", nodeIDs(got), nodeIDs(want))
			}
			for i := range got {
				if d := nodeDiff(want[i], got[i]); len(d) > 0 {
					t.Fatalf("listed node differs: %s", strings.Join(d, "; "))
				}
			}
		})
	}
}

func testNodeListPaging(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	other := newOrg(t, s).ID
	at := now()
	var teams []*directory.Node
	for i := range 5 {
		teams = append(teams, mustCreateNode(t, s, child(org, nil, fmt.Sprintf("team %d", i), at.Add(time.Duration(5-i)*time.Second))))
	}
	mustCreateNode(t, s, child(other, nil, "x", at))
	mustCreateNode(t, s, child(other, nil, "y", at))

	want := oldestFirst(teams)
	if got := listAllNodes(t, s, org, authz.LevelTeam, "", 2); !slices.Equal(nodeIDs(got), nodeIDs(want)) {
		t.Fatalf("paging with limit 2:\n got %v\nwant %v", nodeIDs(got), nodeIDs(want))
	}

	p, err := s.ListNodes(t.Context(), org, authz.LevelTeam, "", directory.ListOptions{Limit: 2})
	if err != nil || p.Next == "" {
		t.Fatalf("first page: next %q, %v", p.Next, err)
	}
	got, err := s.ListNodes(t.Context(), other, authz.LevelTeam, "", directory.ListOptions{Limit: 2, Cursor: p.Next})
	wantValidation(t, "ListNodes of B with A's cursor", err)
	if len(got.Items) != 0 {
		t.Fatalf("ListNodes with another organization's cursor returned %d items with the error", len(got.Items))
	}
	for _, cursor := range []string{"garbage", "!!!", p.Next[:len(p.Next)/2]} {
		got, err := s.ListNodes(t.Context(), org, authz.LevelTeam, "", directory.ListOptions{Cursor: cursor})
		wantValidation(t, fmt.Sprintf("ListNodes with cursor %q", cursor), err)
		if len(got.Items) != 0 {
			t.Fatalf("ListNodes with cursor %q returned %d items with the error", cursor, len(got.Items))
		}
	}
}

func testNodeRename(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	team := mustCreateNode(t, s, child(org, nil, "team", at))
	a := mustCreateNode(t, s, child(org, team, "alpha", at))
	b := mustCreateNode(t, s, child(org, team, "beta", at))

	later := at.Add(time.Minute)
	got, err := s.RenameNode(t.Context(), org, a.ID, "gamma", later, ev())
	if err != nil {
		t.Fatalf("RenameNode: %v", err)
	}
	want := *a
	want.Name, want.UpdatedAt = "gamma", later
	if d := nodeDiff(&want, got); len(d) > 0 {
		t.Fatalf("RenameNode returned a node that differs:\n  %s", strings.Join(d, "\n  "))
	}
	checkNode(t, s, "GetNode after RenameNode", &want)

	_, err = s.RenameNode(t.Context(), org, b.ID, "gamma", later, ev())
	wantErr(t, "RenameNode to a sibling's name", err, fault.ErrConflict)
	checkNode(t, s, "GetNode after a refused rename", b)

	even := later.Add(time.Second)
	if _, err := s.RenameNode(t.Context(), org, b.ID, "beta", even, ev()); err != nil {
		t.Fatalf("RenameNode to its own name: %v", err)
	}
	// The old name is free again.
	if _, err := s.RenameNode(t.Context(), org, b.ID, "alpha", even, ev()); err != nil {
		t.Fatalf("RenameNode to a name a sibling gave up: %v", err)
	}
	mustCreateNode(t, s, child(org, team, "beta", at))

	_, err = s.RenameNode(t.Context(), org, newID("prj_"), "x", later, ev())
	wantErr(t, "RenameNode of a missing node", err, fault.ErrNotFound)
}

func testNodeDelete(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	at := now()
	team := mustCreateNode(t, s, child(org, nil, "team", at))
	prj := mustCreateNode(t, s, child(org, team, "project", at))
	tgt := mustCreateNode(t, s, child(org, prj, "target", at))
	env := mustCreateNode(t, s, child(org, tgt, "env", at))

	for _, n := range []*directory.Node{team, prj, tgt} {
		wantErr(t, fmt.Sprintf("DeleteNode of a %s with children", n.Level()), s.DeleteNode(t.Context(), org, n.ID, ev()), fault.ErrConflict)
		checkNode(t, s, "GetNode after a refused delete", n)
	}
	for _, n := range []*directory.Node{env, tgt, prj} {
		if err := s.DeleteNode(t.Context(), org, n.ID, ev()); err != nil {
			t.Fatalf("DeleteNode of a childless %s: %v", n.Level(), err)
		}
		_, err := s.GetNode(t.Context(), org, n.ID)
		wantErr(t, "GetNode after DeleteNode", err, fault.ErrNotFound)
	}
	wantErr(t, "DeleteNode twice", s.DeleteNode(t.Context(), org, prj.ID, ev()), fault.ErrNotFound)
	wantErr(t, "DeleteNode of a missing node", s.DeleteNode(t.Context(), org, newID("env_"), ev()), fault.ErrNotFound)
	if got := listAllNodes(t, s, org, authz.LevelProject, "", 0); len(got) != 0 {
		t.Fatalf("projects listed after delete: %v", nodeIDs(got))
	}
	// The deleted project's name is free in its team again.
	mustCreateNode(t, s, child(org, team, "project", at))
	wantErr(t, "DeleteNode of a team with a new project", s.DeleteNode(t.Context(), org, team.ID, ev()), fault.ErrConflict)
}
