package authz

import "net/http"

// Function names the Lambda function (and handler package) that serves a
// route.
type Function string

// The functions of the system, one per operation plus the directory.
const (
	FunctionCreate    Function = "create"
	FunctionShow      Function = "show"
	FunctionEdit      Function = "edit"
	FunctionRotate    Function = "rotate"
	FunctionDelete    Function = "delete"
	FunctionVerify    Function = "verify"
	FunctionExplore   Function = "explore"
	FunctionDirectory Function = "directory"
	// FunctionLeaks receives leaked-token reports (no API key: GitHub's
	// signature or possession of the token authenticates them).
	FunctionLeaks Function = "leaks"
	// FunctionAudit serves the audit trail.
	FunctionAudit    Function = "audit"
	FunctionWebhooks Function = "webhooks"
)

// The event-driven functions: they serve no route. notify runs on a
// schedule (the expiry sweep, and the due webhook deliveries sent to a
// queue); deliver consumes that queue (docs/design.md, "Webhooks").
const (
	FunctionNotify  Function = "notify"
	FunctionDeliver Function = "deliver"
)

// EventFunctions lists the event-driven functions in a stable order.
func EventFunctions() []Function { return []Function{FunctionNotify, FunctionDeliver} }

// Functions lists every function that serves routes, in a stable order.
func Functions() []Function {
	return []Function{FunctionCreate, FunctionShow, FunctionEdit, FunctionRotate,
		FunctionDelete, FunctionVerify, FunctionExplore, FunctionDirectory, FunctionLeaks, FunctionAudit, FunctionWebhooks}
}

// Operation is a route's OpenAPI operationId as a handler is keyed by it:
// each handler package exports its handlers keyed by the operations it
// serves (see Handlers).
type Operation string

// Handlers are the handlers of some operations, keyed by operation.
type Handlers map[Operation]http.Handler

// Op returns the route's operation as the typed id its handler is keyed by.
func (r Route) Op() Operation { return Operation(r.Operation) }

// Check says how a route's permission is checked against its node.
type Check int

const (
	// CheckPublic routes need no token (verify, healthz).
	CheckPublic Check = iota
	// CheckAuthenticated routes need any valid token.
	CheckAuthenticated
	// CheckNode routes need the permission on the node named by the path
	// (the organization when the path names none).
	CheckNode
	// CheckReach routes (lists) need the permission somewhere in the
	// subtree of the node named by the path; the handler then shows only
	// what the caller may see.
	CheckReach
)

// Route is one HTTP route and what it takes to call it.
type Route struct {
	// Operation is the route's OpenAPI operationId.
	Operation string
	// Method and Pattern as net/http.ServeMux understands them; path
	// parameters named team, project, target and environment give the
	// node the permission is checked on.
	Method, Pattern string
	// Function serves the route.
	Function Function
	// Permission is needed unless Check is CheckPublic or
	// CheckAuthenticated.
	Permission string
	// Check says how Permission applies.
	Check Check
}

// Public reports whether the route needs no token.
func (r Route) Public() bool { return r.Check == CheckPublic }

// NodeParams are the path parameters that name hierarchy nodes, root first.
var nodeParams = [...]struct {
	name  string
	level Level
}{{"team", LevelTeam}, {"project", LevelProject}, {"target", LevelTarget}, {"environment", LevelEnvironment}}

// PathNode returns the ids a request's path parameters name, as a Node. It
// is the organization (zero Node) when the path names none. Ancestors the
// path leaves out (a project's team) must be filled in from the directory,
// and the result checked with Consistent.
func PathNode(pathValue func(string) string) (named Node) {
	for _, p := range nodeParams {
		if v := pathValue(p.name); v != "" {
			named = named.With(p.level, v)
		}
	}
	return named
}

// Consistent reports whether a resolved node agrees with every id the path
// named (a target must belong to the project in its path).
func (n Node) Consistent(named Node) bool {
	for _, l := range scopeLevels {
		if v := named.At(l); v != "" && v != n.At(l) {
			return false
		}
	}
	return true
}

// Routes is the route table: every route of the HTTP API.
type Routes []Route

// NewRoutes returns the route table (docs/http-api.md, "Routes").
func NewRoutes() Routes {
	const (
		get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	)
	r := Routes{
		{"health", get, "/healthz", FunctionVerify, "", CheckPublic},
		{"verifyToken", post, "/v1/verify", FunctionVerify, "", CheckPublic},
		{"listPermissions", get, "/v1/permissions", FunctionShow, "", CheckAuthenticated},
		{"reportLeak", post, "/v1/leaks", FunctionLeaks, "", CheckPublic},
		{"reportGitHubLeaks", post, "/v1/leaks/github", FunctionLeaks, "", CheckPublic},

		{"createKey", post, "/v1/api-keys", FunctionCreate, "api_tokens:create", CheckNode},
		{"listKeys", get, "/v1/api-keys", FunctionShow, "api_tokens:read", CheckNode},
		{"getKey", get, "/v1/api-keys/{id}", FunctionShow, "api_tokens:read", CheckNode},
		{"getKeyUsage", get, "/v1/api-keys/{id}/usage", FunctionShow, "api_tokens:read", CheckNode},
		{"updateKey", patch, "/v1/api-keys/{id}", FunctionEdit, "api_tokens:update", CheckNode},
		{"rotateKey", post, "/v1/api-keys/{id}/rotate", FunctionRotate, "api_tokens:rotate", CheckNode},
		{"revokePreviousToken", del, "/v1/api-keys/{id}/previous-token", FunctionRotate, "api_tokens:rotate", CheckNode},
		{"deleteKey", del, "/v1/api-keys/{id}", FunctionDelete, "api_tokens:delete", CheckNode},
		{"exploreKey", post, "/v1/api-keys/{id}/explore", FunctionExplore, "api_tokens:read", CheckNode},

		{"getOrganization", get, "/v1/organization", FunctionDirectory, "organizations:read", CheckNode},
		{"updateOrganization", patch, "/v1/organization", FunctionDirectory, "organizations:update", CheckNode},
		{"listAuditEvents", get, "/v1/audit-events", FunctionAudit, "audit_log:read", CheckNode},

		{"createWebhook", post, "/v1/webhooks", FunctionWebhooks, "webhooks:create", CheckNode},
		{"listWebhooks", get, "/v1/webhooks", FunctionWebhooks, "webhooks:read", CheckNode},
		{"getWebhook", get, "/v1/webhooks/{id}", FunctionWebhooks, "webhooks:read", CheckNode},
		{"updateWebhook", patch, "/v1/webhooks/{id}", FunctionWebhooks, "webhooks:update", CheckNode},
		{"deleteWebhook", del, "/v1/webhooks/{id}", FunctionWebhooks, "webhooks:delete", CheckNode},
		{"rotateWebhookSecret", post, "/v1/webhooks/{id}/rotate-secret", FunctionWebhooks, "webhooks:update", CheckNode},
		{"listWebhookDeliveries", get, "/v1/webhooks/{id}/deliveries", FunctionWebhooks, "webhooks:read", CheckNode},
		{"retryWebhookDelivery", post, "/v1/webhooks/{id}/deliveries/{delivery}/retry", FunctionWebhooks, "webhooks:update", CheckNode},
	}
	for _, lv := range []struct {
		op, base, item, perms string
	}{
		{"Team", "/v1/teams", "/v1/teams/{team}", "teams"},
		{"Project", "/v1/projects", "/v1/projects/{project}", "projects"},
		{"Target", "/v1/projects/{project}/targets", "/v1/projects/{project}/targets/{target}", "targets"},
		{"Environment", "/v1/projects/{project}/targets/{target}/environments", "/v1/projects/{project}/targets/{target}/environments/{environment}", "environments"},
	} {
		r = append(r,
			Route{"list" + lv.op + "s", get, lv.base, FunctionDirectory, lv.perms + ":read", CheckReach},
			Route{"create" + lv.op, post, lv.base, FunctionDirectory, lv.perms + ":create", CheckNode},
			Route{"get" + lv.op, get, lv.item, FunctionDirectory, lv.perms + ":read", CheckNode},
			Route{"update" + lv.op, patch, lv.item, FunctionDirectory, lv.perms + ":update", CheckNode},
			Route{"delete" + lv.op, del, lv.item, FunctionDirectory, lv.perms + ":delete", CheckNode},
		)
	}
	return r
}

// ForFunction returns the routes one function serves.
func (rs Routes) ForFunction(f Function) Routes {
	var out Routes
	for _, r := range rs {
		if r.Function == f {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the route with the given method and pattern.
func (rs Routes) Find(method, pattern string) (Route, bool) {
	for _, r := range rs {
		if r.Method == method && r.Pattern == pattern {
			return r, true
		}
	}
	return Route{}, false
}
