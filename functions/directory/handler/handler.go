// Package handler serves the directory routes: the organization and its
// teams, projects, targets and environments, which key scopes refer to.
// Lists show only what the caller's grants reach.
package handler

import (
	"net/http"
	"net/url"

	"github.com/dotenv/apikeys/shared/answer"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Services are the services of Deps the directory function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Directory} }

// Handlers returns the directory function's handlers by operation.
func Handlers(d wiring.Deps) authz.Handlers {
	h := authz.Handlers{
		"getOrganization":    d.Serve(getOrganization(d)),
		"updateOrganization": d.Serve(updateOrganization(d)),
	}
	for _, l := range []struct {
		name  string
		level authz.Level
	}{{"Team", authz.LevelTeam}, {"Project", authz.LevelProject}, {"Target", authz.LevelTarget}, {"Environment", authz.LevelEnvironment}} {
		h[authz.Operation("list"+l.name+"s")] = d.Serve(list(d, l.level))
		h[authz.Operation("create"+l.name)] = d.Serve(create(d, l.level))
		h[authz.Operation("get"+l.name)] = d.Serve(get(d))
		h[authz.Operation("update"+l.name)] = d.Serve(rename(d))
		h[authz.Operation("delete"+l.name)] = d.Serve(remove(d))
	}
	return h
}

func getOrganization(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		o, err := d.Directory.Organization(r.Context(), caller)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.NewOrganization(o), nil
	}
}

func updateOrganization(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		body, err := httpapi.Decode[wire.OrganizationSpec](w, r)
		if err != nil {
			return 0, nil, err
		}
		o, err := d.Directory.RenameOrganization(r.Context(), caller, body.Name)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.NewOrganization(o), nil
	}
}

// list answers the nodes of a level under the path's node.
func list(d wiring.Deps, level authz.Level) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		opt, err := answer.ListOptions(r)
		if err != nil {
			return 0, nil, err
		}
		page, err := d.Directory.List(r.Context(), caller, level, authz.PathNode(r.PathValue), opt)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.NewPage(page, func(n *directory.Node) wire.Node { return wire.NewNode(n) }), nil
	}
}

func create(d wiring.Deps, level authz.Level) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		body, err := httpapi.Decode[wire.NodeSpec](w, r)
		if err != nil {
			return 0, nil, err
		}
		n, err := d.Directory.Create(r.Context(), caller, level, authz.PathNode(r.PathValue), body.Name, body.TeamID)
		if err != nil {
			return 0, nil, err
		}
		out := wire.NewNode(n)
		w.Header().Set("Location", location(level, out))
		return http.StatusCreated, out, nil
	}
}

// location is the path of a node's get route, the Location of the 201
// that created it (docs/openapi.json requires it on every 201).
func location(level authz.Level, n wire.Node) string {
	esc := url.PathEscape
	switch level {
	case authz.LevelTeam:
		return "/v1/teams/" + esc(n.ID)
	case authz.LevelProject:
		return "/v1/projects/" + esc(n.ID)
	case authz.LevelTarget:
		return "/v1/projects/" + esc(n.ProjectID) + "/targets/" + esc(n.ID)
	default:
		return "/v1/projects/" + esc(n.ProjectID) + "/targets/" + esc(n.TargetID) + "/environments/" + esc(n.ID)
	}
}

func get(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		n, err := d.Directory.Get(r.Context(), caller, authz.PathNode(r.PathValue))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.NewNode(n), nil
	}
}

func rename(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		body, err := httpapi.Decode[wire.NodeSpec](w, r)
		if err != nil {
			return 0, nil, err
		}
		if body.TeamID != nil {
			return 0, nil, errTeamImmutable()
		}
		n, err := d.Directory.Rename(r.Context(), caller, authz.PathNode(r.PathValue), body.Name)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.NewNode(n), nil
	}
}

func remove(d wiring.Deps) httpapi.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
		return http.StatusNoContent, nil, d.Directory.Delete(r.Context(), caller, authz.PathNode(r.PathValue))
	}
}
