package wire

import (
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
)

// Organization is the organization object.
type Organization struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// NewOrganization converts an organization.
func NewOrganization(o *directory.Organization) Organization {
	return Organization{ID: o.ID, Name: o.Name, CreatedAt: Time(o.CreatedAt), UpdatedAt: Time(o.UpdatedAt)}
}

// Node is a team, project, target or environment with its parents' ids.
type Node struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	OrganizationID string `json:"organization_id"`
	TeamID         string `json:"team_id,omitempty"`
	ProjectID      string `json:"project_id,omitempty"`
	TargetID       string `json:"target_id,omitempty"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

// NewNode converts a node; a node's own id is not repeated as a parent id.
func NewNode(n *directory.Node) Node {
	out := Node{ID: n.ID, Name: n.Name, OrganizationID: n.OrganizationID, CreatedAt: Time(n.CreatedAt), UpdatedAt: Time(n.UpdatedAt)}
	l := n.Level()
	if l > authz.LevelTeam {
		out.TeamID = n.Path.Team
	}
	if l > authz.LevelProject {
		out.ProjectID = n.Path.Project
	}
	if l > authz.LevelTarget {
		out.TargetID = n.Path.Target
	}
	return out
}

// NodeSpec is the body that creates or renames a node; TeamID only for a
// project's create.
type NodeSpec struct {
	Name   *string `json:"name" required:"true"`
	TeamID *string `json:"team_id,omitempty"`
}

// OrganizationSpec is the body that renames the organization.
type OrganizationSpec struct {
	Name *string `json:"name" required:"true"`
}
