// Package handler serves the directory routes: the organization and its
// teams, projects, targets and environments, which key scopes refer to.
// Lists show only what the caller's grants cover.
package handler

import (
	"net/http"

	showhandler "github.com/dotenv/apikeys/functions/show/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

// Handlers returns the directory function's handlers by operation.
func Handlers(d httpapi.Deps) map[string]http.Handler {
	h := map[string]http.Handler{
		"getOrganization":    getOrganization(d),
		"updateOrganization": updateOrganization(d),
	}
	for _, l := range []struct {
		name  string
		level authz.Level
	}{{"Team", authz.LevelTeam}, {"Project", authz.LevelProject}, {"Target", authz.LevelTarget}, {"Environment", authz.LevelEnvironment}} {
		h["list"+l.name+"s"] = list(d, l.level)
		h["create"+l.name] = create(d, l.level)
		h["get"+l.name] = get(d)
		h["update"+l.name] = rename(d)
		h["delete"+l.name] = remove(d)
	}
	return h
}

func getOrganization(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		o, err := d.Directory.Organization(r.Context(), caller)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, wire.NewOrganization(o))
	}
}

func updateOrganization(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		var body wire.OrganizationSpec
		if err := httpapi.DecodeJSON(w, r, &body); err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		o, err := d.Directory.RenameOrganization(r.Context(), caller, body.Name)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, wire.NewOrganization(o))
	}
}

// list answers the nodes of a level under the path's node.
func list(d httpapi.Deps, level authz.Level) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		opt, err := showhandler.ListOptions(r)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		page, err := d.Directory.List(r.Context(), caller, level, authz.PathNode(r.PathValue), opt)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, wire.NewPage(page, func(n *directory.Node) wire.Node { return wire.NewNode(n) }))
	}
}

func create(d httpapi.Deps, level authz.Level) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		var body wire.NodeSpec
		if err := httpapi.DecodeJSON(w, r, &body); err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		n, err := d.Directory.Create(r.Context(), caller, level, authz.PathNode(r.PathValue), body.Name, body.TeamID)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusCreated, wire.NewNode(n))
	}
}

func get(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		n, err := d.Directory.Get(r.Context(), caller, authz.PathNode(r.PathValue))
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, wire.NewNode(n))
	}
}

func rename(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		var body wire.NodeSpec
		if err := httpapi.DecodeJSON(w, r, &body); err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		if body.TeamID != nil {
			httpapi.WriteError(w, r, d.Logger, errTeamImmutable())
			return
		}
		n, err := d.Directory.Rename(r.Context(), caller, authz.PathNode(r.PathValue), body.Name)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, wire.NewNode(n))
	}
}

func remove(d httpapi.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, _ := authz.FromContext(r.Context())
		if err := d.Directory.Delete(r.Context(), caller, authz.PathNode(r.PathValue)); err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		httpapi.WriteNoContent(w)
	}
}
