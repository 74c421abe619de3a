package gate_test

import (
	"errors"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/gate"
)

// TestForbiddenNamesTheRealReason: a refusal says the key lacks a
// permission only when it holds it nowhere; a key that holds it on other or
// narrower scopes is told where it holds it and where the route needs it.
func TestForbiddenNamesTheRealReason(t *testing.T) {
	project := authz.Node{Team: "team_a", Project: "prj_a"}
	other := authz.Node{Team: "team_b", Project: "prj_b"}
	env := authz.Node{Team: "team_a", Project: "prj_a", Target: "tgt_a", Environment: "env_a"}
	grant := func(perm string, scope authz.Node) authz.Grant { return authz.Grant{Permission: perm, Scope: scope} }
	for _, tc := range []struct {
		name   string
		grants []authz.Grant
		need   authz.Grant
		want   string
	}{
		{"holds nothing of it", []authz.Grant{grant("secrets:read", authz.Node{})}, grant("api_tokens:create", authz.Node{}),
			"this API key lacks the permission api_tokens:create"},
		{"holds it on one project, asked organization-wide", []authz.Grant{grant("secrets:read", project)}, grant("secrets:read", authz.Node{}),
			"this API key holds secrets:read only on project prj_a; this route needs it on the whole organization"},
		{"holds it on an environment, asked on its project", []authz.Grant{grant("secrets:read", env)}, grant("secrets:read", project),
			"this API key holds secrets:read only on environment env_a; this route needs it on project prj_a"},
		{"holds it by a group wildcard on other projects", []authz.Grant{grant("secrets:*", other), grant("secrets:read", env)}, grant("secrets:read", project),
			"this API key holds secrets:read only on project prj_b, environment env_a; this route needs it on project prj_a"},
		{"lacks another permission, named with its scope", []authz.Grant{grant("secrets:read", project)}, grant("environments:delete", env),
			"this API key lacks the permission environments:delete on environment env_a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := gate.Decision{Outcome: gate.Forbidden, Missing: tc.need,
				Principal: authz.Principal{Access: authz.Access{Grants: tc.grants}}}
			err := d.Err()
			var f *fault.Error
			if !errors.As(err, &f) || f.Code != fault.CodeForbidden || f.Message != tc.want {
				t.Fatalf("Err() = %v, want 403 %q", err, tc.want)
			}
		})
	}
}
