package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/openapi/client"
	"github.com/dotenv/apikeys/shared/openapi/schematest"
	"github.com/dotenv/apikeys/shared/proctest"
	"github.com/dotenv/apikeys/shared/secretscan/secretscantest"
)

// TestClientLifecycle builds the real binary, bootstraps an organization,
// serves on a free loopback port (with a GitHub secret-scanning key of the
// test's own) and walks a key's whole life through the generated client,
// the directory, leaks (self-reported and GitHub-signed), webhooks and the
// audit trail with its exports. Every request and answer also goes
// through contract, which validates them against docs/openapi.json, and
// every operation of the document must have been called: a new operation
// fails here until the lifecycle calls it.
func TestClientLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "edge")
	build := exec.Command("go", "build", "-o", bin, "github.com/dotenv/apikeys/functions/edge")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building edge: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	owner := bootstrap(t, bin, data)
	gh := newGitHubSigner(t, dir)
	base := serve(t, bin, data, "--github-keys", gh.keys)

	check := newContract(t, base)
	httpc := &http.Client{Transport: check, Timeout: 30 * time.Second}
	c, err := client.NewClientWithResponses(base, client.WithHTTPClient(httpc))
	if err != nil {
		t.Fatal(err)
	}
	as := func(tok string) client.RequestEditorFn {
		return func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	}
	asOwner := as(owner)

	// The permission catalog.
	perms, err := c.ListPermissionsWithResponse(ctx, asOwner)
	must(t, err, perms.StatusCode(), 200, "listPermissions")
	if len(perms.JSON200.Groups) == 0 || len(perms.JSON200.Routes) == 0 {
		t.Fatalf("listPermissions: %d groups, %d routes, want some", len(perms.JSON200.Groups), len(perms.JSON200.Routes))
	}

	// A directory branch; every 201 names the new node in Location.
	team, err := c.CreateTeamWithResponse(ctx, client.NodeSpec{Name: "platform"}, asOwner)
	must(t, err, team.StatusCode(), 201, "createTeam")
	teamID := team.JSON201.Id
	prj, err := c.CreateProjectWithResponse(ctx, client.ProjectSpec{Name: "billing", TeamId: teamID}, asOwner)
	must(t, err, prj.StatusCode(), 201, "createProject")
	tgt, err := c.CreateTargetWithResponse(ctx, prj.JSON201.Id, client.NodeSpec{Name: "web"}, asOwner)
	must(t, err, tgt.StatusCode(), 201, "createTarget")
	env, err := c.CreateEnvironmentWithResponse(ctx, prj.JSON201.Id, tgt.JSON201.Id, client.NodeSpec{Name: "production"}, asOwner)
	must(t, err, env.StatusCode(), 201, "createEnvironment")
	prod := env.JSON201.Id
	for _, loc := range []struct{ got, want string }{
		{team.Headers201.Location, "/v1/teams/" + teamID},
		{prj.Headers201.Location, "/v1/projects/" + prj.JSON201.Id},
		{tgt.Headers201.Location, "/v1/projects/" + prj.JSON201.Id + "/targets/" + tgt.JSON201.Id},
		{env.Headers201.Location, "/v1/projects/" + prj.JSON201.Id + "/targets/" + tgt.JSON201.Id + "/environments/" + prod},
	} {
		if loc.got != loc.want {
			t.Errorf("Location = %q, want %q", loc.got, loc.want)
		}
	}

	// The rest of the directory's answers, each held to the document by
	// contract: health, the organization, every list, show, rename, delete.
	p, tg := prj.JSON201.Id, tgt.JSON201.Id
	for _, call := range []struct {
		what string
		do   func() (int, error)
		want int
	}{
		{"health", func() (int, error) { r, err := c.HealthWithResponse(ctx); return code(r, err) }, 200},
		{"getOrganization", func() (int, error) { r, err := c.GetOrganizationWithResponse(ctx, asOwner); return code(r, err) }, 200},
		{"listTeams", func() (int, error) { r, err := c.ListTeamsWithResponse(ctx, nil, asOwner); return code(r, err) }, 200},
		{"listProjects", func() (int, error) { r, err := c.ListProjectsWithResponse(ctx, nil, asOwner); return code(r, err) }, 200},
		{"listTargets", func() (int, error) { r, err := c.ListTargetsWithResponse(ctx, p, nil, asOwner); return code(r, err) }, 200},
		{"listEnvironments", func() (int, error) {
			r, err := c.ListEnvironmentsWithResponse(ctx, p, tg, nil, asOwner)
			return code(r, err)
		}, 200},
		{"getTeam", func() (int, error) { r, err := c.GetTeamWithResponse(ctx, teamID, asOwner); return code(r, err) }, 200},
		{"getEnvironment", func() (int, error) {
			r, err := c.GetEnvironmentWithResponse(ctx, p, tg, prod, asOwner)
			return code(r, err)
		}, 200},
		{"updateEnvironment", func() (int, error) {
			r, err := c.UpdateEnvironmentWithResponse(ctx, p, tg, prod, client.NodeSpec{Name: "prod"}, asOwner)
			return code(r, err)
		}, 200},
		{"updateEnvironment to a sibling's name", func() (int, error) {
			s, err := c.CreateEnvironmentWithResponse(ctx, p, tg, client.NodeSpec{Name: "staging"}, asOwner)
			if err != nil || s.JSON201 == nil {
				return code(s, err)
			}
			r, err := c.UpdateEnvironmentWithResponse(ctx, p, tg, s.JSON201.Id, client.NodeSpec{Name: "prod"}, asOwner)
			if err != nil || r.StatusCode() != 409 {
				return code(r, err)
			}
			problem(t, r.ApplicationproblemJSON409, client.ProblemCodeConflict, 409)
			d, err := c.DeleteEnvironmentWithResponse(ctx, p, tg, s.JSON201.Id, asOwner)
			return code(d, err)
		}, 204},
		{"getTeam of no team", func() (int, error) {
			r, err := c.GetTeamWithResponse(ctx, "team_0000000000000000", asOwner)
			return code(r, err)
		}, 404},
		{"getOrganization with an unknown token", func() (int, error) {
			r, err := c.GetOrganizationWithResponse(ctx, as("dotenv_"+strings.Repeat("0", 54)))
			if err == nil && (r.Headers401 == nil || r.Headers401.WWWAuthenticate == "") {
				t.Error("getOrganization 401: no WWW-Authenticate")
			}
			return code(r, err)
		}, 401},
	} {
		got, err := call.do()
		must(t, err, got, call.want, call.what)
	}

	// Every level's show, rename and delete, on a branch of its own
	// (deleted leaf first: a node with children cannot go), and the
	// organization's rename.
	orgName := "Client Org (renamed)"
	org, err := c.UpdateOrganizationWithResponse(ctx, client.OrganizationSpec{Name: orgName}, asOwner)
	must(t, err, org.StatusCode(), 200, "updateOrganization")
	if org.JSON200.Name != orgName {
		t.Errorf("updateOrganization: name %q, want %q", org.JSON200.Name, orgName)
	}
	team2, err := c.CreateTeamWithResponse(ctx, client.NodeSpec{Name: "data"}, asOwner)
	must(t, err, team2.StatusCode(), 201, "createTeam data")
	prj2, err := c.CreateProjectWithResponse(ctx, client.ProjectSpec{Name: "warehouse", TeamId: team2.JSON201.Id}, asOwner)
	must(t, err, prj2.StatusCode(), 201, "createProject warehouse")
	tgt2, err := c.CreateTargetWithResponse(ctx, prj2.JSON201.Id, client.NodeSpec{Name: "etl"}, asOwner)
	must(t, err, tgt2.StatusCode(), 201, "createTarget etl")
	t2, p2, g2 := team2.JSON201.Id, prj2.JSON201.Id, tgt2.JSON201.Id
	for _, call := range []struct {
		what string
		do   func() (int, string, error)
		want int
		name string
	}{
		{"getProject", func() (int, string, error) {
			r, err := c.GetProjectWithResponse(ctx, p2, asOwner)
			return named(r, r.JSON200, err)
		}, 200, "warehouse"},
		{"getTarget", func() (int, string, error) {
			r, err := c.GetTargetWithResponse(ctx, p2, g2, asOwner)
			return named(r, r.JSON200, err)
		}, 200, "etl"},
		{"updateTeam", func() (int, string, error) {
			r, err := c.UpdateTeamWithResponse(ctx, t2, client.NodeSpec{Name: "analytics"}, asOwner)
			return named(r, r.JSON200, err)
		}, 200, "analytics"},
		{"updateProject", func() (int, string, error) {
			r, err := c.UpdateProjectWithResponse(ctx, p2, client.NodeSpec{Name: "lake"}, asOwner)
			return named(r, r.JSON200, err)
		}, 200, "lake"},
		{"updateTarget", func() (int, string, error) {
			r, err := c.UpdateTargetWithResponse(ctx, p2, g2, client.NodeSpec{Name: "ingest"}, asOwner)
			return named(r, r.JSON200, err)
		}, 200, "ingest"},
		{"deleteTeam with a project", func() (int, string, error) {
			r, err := c.DeleteTeamWithResponse(ctx, t2, asOwner)
			return named(r, nil, err)
		}, 409, ""},
		{"deleteTarget", func() (int, string, error) {
			r, err := c.DeleteTargetWithResponse(ctx, p2, g2, asOwner)
			return named(r, nil, err)
		}, 204, ""},
		{"deleteProject", func() (int, string, error) {
			r, err := c.DeleteProjectWithResponse(ctx, p2, asOwner)
			return named(r, nil, err)
		}, 204, ""},
		{"deleteTeam", func() (int, string, error) {
			r, err := c.DeleteTeamWithResponse(ctx, t2, asOwner)
			return named(r, nil, err)
		}, 204, ""},
		{"getTeam after delete", func() (int, string, error) {
			r, err := c.GetTeamWithResponse(ctx, t2, asOwner)
			return named(r, nil, err)
		}, 404, ""},
	} {
		got, name, err := call.do()
		must(t, err, got, call.want, call.what)
		if name != call.name {
			t.Errorf("%s: name %q, want %q", call.what, name, call.name)
		}
	}

	// A scoped key: one grant organization-wide (no scope), one scoped.
	name := "CI deploy"
	expiration := client.KeyCreateSpecExpiration("30d")
	grants := []client.GrantSpec{
		{Permission: "projects:read"},
		{Permission: "secrets:read", Scope: &client.ScopeSpec{Level: client.ScopeSpecLevelEnvironment, Id: prod}},
	}
	created, err := c.CreateKeyWithResponse(ctx, client.KeyCreateSpec{Name: name, Permissions: &grants, Expiration: &expiration}, asOwner)
	must(t, err, created.StatusCode(), 201, "createKey")
	id, tok := created.JSON201.Id, created.JSON201.Token
	if !strings.HasPrefix(tok, "dotenv_") || len(tok) != 61 {
		t.Fatalf("createKey: the token is not a dotenv_ token of 61 characters (length %d)", len(tok))
	}
	if got := created.Headers201.Location; got != "/v1/api-keys/"+id {
		t.Errorf("createKey: Location = %q, want /v1/api-keys/%s", got, id)
	}
	if got := created.Headers201.ETag; got != `"1"` {
		t.Errorf("createKey: ETag = %q, want \"1\"", got)
	}
	var orgWide, scoped bool
	for _, g := range created.JSON201.Permissions {
		switch {
		case g.Permission == "projects:read" && g.Scope == nil:
			orgWide = true
		case g.Permission == "secrets:read" && g.Scope != nil && g.Scope.Id == prod && g.Scope.Path != "":
			scoped = true
		}
	}
	if !orgWide || !scoped {
		t.Errorf("createKey: permissions = %+v, want projects:read with scope null and secrets:read on %s with its path", created.JSON201.Permissions, prod)
	}

	// Show: the ETag, never the token.
	shown, err := c.GetKeyWithResponse(ctx, id, asOwner)
	must(t, err, shown.StatusCode(), 200, "getKey")
	if shown.Headers200.ETag != `"1"` || shown.JSON200.Name != name {
		t.Errorf("getKey: ETag %q, name %q, want \"1\" and %q", shown.Headers200.ETag, shown.JSON200.Name, name)
	}
	if bytes.Contains(shown.Body, []byte(tok)) {
		t.Error("getKey answered the token")
	}

	// Usage: 30 UTC days, oldest first, ending today (the counts reach the
	// store every 10 s: the HTTP scenarios in shared/wiring check them).
	used, err := c.GetKeyUsageWithResponse(ctx, id, asOwner)
	must(t, err, used.StatusCode(), 200, "getKeyUsage")
	if u := used.JSON200; u.KeyId != id || len(u.Days) != 30 || u.Days[29].Date.String() != time.Now().UTC().Format(time.DateOnly) || u.Days[0].Date != u.From || u.Days[29].Date != u.To {
		t.Errorf("getKeyUsage: key %s, %d days from %s to %s, want %s, 30 days ending today", u.KeyId, len(u.Days), u.From, u.To, id)
	}

	// Edit with If-Match; the same If-Match again is stale: 409.
	renamed := "CI deploy (web)"
	ifMatch := shown.Headers200.ETag
	edited, err := c.UpdateKeyWithResponse(ctx, id, &client.UpdateKeyParams{IfMatch: &ifMatch}, client.KeySpec{Name: &renamed}, asOwner)
	must(t, err, edited.StatusCode(), 200, "updateKey")
	if edited.Headers200.ETag != `"2"` || edited.JSON200.Name != renamed || edited.JSON200.Version != 2 {
		t.Errorf("updateKey: ETag %q, name %q, version %d, want \"2\", %q, 2", edited.Headers200.ETag, edited.JSON200.Name, edited.JSON200.Version, renamed)
	}
	stale, err := c.UpdateKeyWithResponse(ctx, id, &client.UpdateKeyParams{IfMatch: &ifMatch}, client.KeySpec{Name: &name}, asOwner)
	must(t, err, stale.StatusCode(), 409, "updateKey with a stale If-Match")
	problem(t, stale.ApplicationproblemJSON409, client.ProblemCodeConflict, 409)

	// Rotate with an hour's grace: a new token, the old one kept as the
	// previous token until the answer's previous_token_expires_at.
	grace := int64(3600)
	rotated, err := c.RotateKeyWithResponse(ctx, id, nil, client.RotateSpec{GraceSeconds: &grace}, asOwner)
	must(t, err, rotated.StatusCode(), 200, "rotateKey")
	newTok := rotated.JSON200.Token
	if newTok == tok || rotated.JSON200.Id != id || rotated.Headers200.ETag != `"3"` {
		t.Errorf("rotateKey: want a new token for the same key with ETag \"3\", got ETag %q", rotated.Headers200.ETag)
	}
	graceEnds := rotated.JSON200.PreviousTokenExpiresAt
	if graceEnds == nil || rotated.JSON200.PreviousTokenHint == nil || !strings.HasSuffix(*rotated.JSON200.PreviousTokenHint, tok[len(tok)-4:]) {
		t.Fatalf("rotateKey with grace: previous token ends %v, hint %v; want both, the hint of the old token", graceEnds, rotated.JSON200.PreviousTokenHint)
	}

	// Verify: allowed, forbidden (with what is missing), and the old token.
	readSecrets, writeSecrets := "secrets:read", "secrets:write"
	res := &client.Resource{Environment: &prod}
	for _, v := range []struct {
		name          string
		tok           string
		perm          *string
		valid, allows bool
		code          client.VerifyResponseCode
	}{
		{"allowed", newTok, &readSecrets, true, true, "ok"},
		{"forbidden", newTok, &writeSecrets, true, false, "forbidden"},
		{"previous token, in its grace period", tok, &readSecrets, true, true, "ok"},
	} {
		r, err := c.VerifyTokenWithResponse(ctx, client.VerifyRequest{Token: v.tok, Permission: v.perm, Resource: res})
		must(t, err, r.StatusCode(), 200, "verifyToken "+v.name)
		if r.JSON200.Valid != v.valid || r.JSON200.Allowed != v.allows || r.JSON200.Code != v.code {
			t.Errorf("verifyToken %s: valid %v allowed %v code %s, want %v %v %s", v.name, r.JSON200.Valid, r.JSON200.Allowed, r.JSON200.Code, v.valid, v.allows, v.code)
		}
		if v.code == "forbidden" && (r.JSON200.Missing == nil || r.JSON200.Missing.Permission != writeSecrets) {
			t.Errorf("verifyToken forbidden: missing = %+v, want secrets:write", r.JSON200.Missing)
		}
		previous := v.tok == tok
		if got := r.JSON200.PreviousToken != nil && *r.JSON200.PreviousToken; got != previous ||
			(previous && (r.JSON200.PreviousTokenExpiresAt == nil || !r.JSON200.PreviousTokenExpiresAt.Equal(*graceEnds))) {
			t.Errorf("verifyToken %s: previous_token %v ending %v, want %v ending %v", v.name, r.JSON200.PreviousToken, r.JSON200.PreviousTokenExpiresAt, previous, graceEnds)
		}
	}

	// Revoke the previous token: 204 with the next ETag, then it fails; a
	// second revocation finds no grace period.
	revoked, err := c.RevokePreviousTokenWithResponse(ctx, id, nil, asOwner)
	must(t, err, revoked.StatusCode(), 204, "revokePreviousToken")
	if revoked.Headers204 == nil || revoked.Headers204.ETag != `"4"` {
		t.Errorf("revokePreviousToken: headers %+v, want ETag \"4\"", revoked.Headers204)
	}
	old, err := c.VerifyTokenWithResponse(ctx, client.VerifyRequest{Token: tok})
	must(t, err, old.StatusCode(), 200, "verifyToken of the revoked previous token")
	if old.JSON200.Valid || old.JSON200.Code != "not_found" || old.JSON200.PreviousToken != nil {
		t.Errorf("verifyToken of the revoked previous token: valid %v code %s, want not_found", old.JSON200.Valid, old.JSON200.Code)
	}
	again, err := c.RevokePreviousTokenWithResponse(ctx, id, nil, asOwner)
	must(t, err, again.StatusCode(), 404, "revokePreviousToken again")
	problem(t, again.ApplicationproblemJSON404, client.ProblemCodeNotFound, 404)

	// Explore: the key's own call, and its access map.
	explored, err := c.ExploreKeyWithResponse(ctx, id, client.ExploreRequest{Token: newTok, Method: "GET", Path: "/v1/projects"}, asOwner)
	must(t, err, explored.StatusCode(), 200, "exploreKey")
	if explored.JSON200.Response.Status != 200 || len(explored.JSON200.Access) == 0 {
		t.Errorf("exploreKey: called route answered %d with %d access cells, want 200 and some", explored.JSON200.Response.Status, len(explored.JSON200.Access))
	}
	if bytes.Contains(explored.Body, []byte(newTok)) {
		t.Error("exploreKey answered the token")
	}

	// List with paging: the owner key, the scoped key and two more.
	preset := client.KeyCreateSpecPreset("read-only")
	for i := range 2 {
		n := fmt.Sprintf("reader %d", i)
		r, err := c.CreateKeyWithResponse(ctx, client.KeyCreateSpec{Name: n, Preset: &preset, Expiration: &expiration}, asOwner)
		must(t, err, r.StatusCode(), 201, "createKey "+n)
	}
	var listed []string
	limit := 1
	params := &client.ListKeysParams{Limit: &limit}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("listKeys: more than 10 pages of 1 for 4 keys")
		}
		page, err := c.ListKeysWithResponse(ctx, params, asOwner)
		must(t, err, page.StatusCode(), 200, "listKeys")
		if len(page.JSON200.Items) > 1 {
			t.Fatalf("listKeys limit 1 answered %d items", len(page.JSON200.Items))
		}
		for _, k := range page.JSON200.Items {
			listed = append(listed, k.Id)
		}
		if page.JSON200.NextCursor == nil {
			break
		}
		params = &client.ListKeysParams{Limit: &limit, Cursor: page.JSON200.NextCursor}
	}
	if len(listed) != 4 || !slices.Contains(listed, id) {
		t.Errorf("listKeys paged through %d keys (with %s: %v), want 4 with it", len(listed), id, slices.Contains(listed, id))
	}

	// Error answers, decoded as Problem.
	// The fields the create schemas require beyond the shared ones: an
	// empty value is what a generated client sends when they are left out.
	empty, err := c.CreateKeyWithResponse(ctx, client.KeyCreateSpec{}, asOwner, offContract("an empty name"))
	must(t, err, empty.StatusCode(), 400, "createKey without a name")
	problem(t, empty.ApplicationproblemJSON400, client.ProblemCodeValidationFailed, 400)
	fieldError(t, empty.ApplicationproblemJSON400, "name", client.FieldErrorCode("invalid"))
	raw, err := c.CreateKeyWithBodyWithResponse(ctx, "application/json", strings.NewReader(`{}`), asOwner, offContract("no name"))
	must(t, err, raw.StatusCode(), 400, "createKey {}")
	fieldError(t, raw.ApplicationproblemJSON400, "name", client.FieldErrorCode("required"))
	noTeam, err := c.CreateProjectWithResponse(ctx, client.ProjectSpec{Name: "orphan"}, asOwner, offContract("an empty team_id"))
	must(t, err, noTeam.StatusCode(), 400, "createProject without a team")
	fieldError(t, noTeam.ApplicationproblemJSON400, "team_id", client.FieldErrorCode("required"))
	anon, err := c.ListKeysWithResponse(ctx, nil, offContract("no token"))
	must(t, err, anon.StatusCode(), 401, "listKeys without a token")
	problem(t, anon.ApplicationproblemJSON401, client.ProblemCodeUnauthenticated, 401)
	if anon.Headers401 == nil || !strings.HasPrefix(anon.Headers401.WWWAuthenticate, "Bearer") {
		t.Errorf("401: WWW-Authenticate = %+v, want Bearer", anon.Headers401)
	}
	denied, err := c.CreateTeamWithResponse(ctx, client.NodeSpec{Name: "not mine"}, as(newTok))
	must(t, err, denied.StatusCode(), 403, "createTeam by the scoped key")
	problem(t, denied.ApplicationproblemJSON403, client.ProblemCodeForbidden, 403)

	// A leaked token: GitHub's report must be signed; a self-report of
	// the live token revokes the key, which a rotation makes active again.
	unsigned, err := c.ReportGitHubLeaksWithResponse(ctx, &client.ReportGitHubLeaksParams{}, []client.GitHubMatch{{Token: newTok, Type: "dotenv_api_key"}}, offContract("unsigned"))
	must(t, err, unsigned.StatusCode(), 401, "reportGitHubLeaks unsigned")
	// A signed report of a live token: revoked, and GitHub is told it was
	// a true positive; the same report with a signature of another body
	// is refused.
	exposed, err := c.CreateKeyWithResponse(ctx, client.KeyCreateSpec{Name: "committed by mistake", Preset: &preset, Expiration: &expiration}, asOwner)
	must(t, err, exposed.StatusCode(), 201, "createKey to be reported")
	report, _ := json.Marshal([]client.GitHubMatch{{Token: exposed.JSON201.Token, Type: "dotenv_api_key",
		Url: ptr("https://github.com/acme/app/blob/main/.env"), Source: ptr("content")}})
	forged, err := c.ReportGitHubLeaksWithBodyWithResponse(ctx, &client.ReportGitHubLeaksParams{
		GithubPublicKeyIdentifier: gh.ID, GithubPublicKeySignature: gh.sign(t, []byte("[]"))}, "application/json", bytes.NewReader(report))
	must(t, err, forged.StatusCode(), 401, "reportGitHubLeaks with the signature of another body")
	signed, err := c.ReportGitHubLeaksWithBodyWithResponse(ctx, &client.ReportGitHubLeaksParams{
		GithubPublicKeyIdentifier: gh.ID, GithubPublicKeySignature: gh.sign(t, report)}, "application/json", bytes.NewReader(report))
	must(t, err, signed.StatusCode(), 200, "reportGitHubLeaks")
	if fb := *signed.JSON200; len(fb) != 1 || fb[0].Label != "true_positive" || fb[0].TokenType != "dotenv_api_key" {
		t.Errorf("reportGitHubLeaks feedback = %+v, want one true_positive", fb)
	}
	if bytes.Contains(signed.Body, []byte(exposed.JSON201.Token)) {
		t.Error("reportGitHubLeaks answered the token")
	}
	ghShown, err := c.GetKeyWithResponse(ctx, exposed.JSON201.Id, asOwner)
	must(t, err, ghShown.StatusCode(), 200, "getKey of the key GitHub reported")
	if r := ghShown.JSON200.Revocation; ghShown.JSON200.Status != "revoked" || r == nil || r.Reporter != "github" {
		t.Errorf("getKey of the key GitHub reported: status %s, revocation %+v, want revoked by github", ghShown.JSON200.Status, r)
	}
	url, source := "https://pastebin.example/x", "paste"
	reported, err := c.ReportLeakWithResponse(ctx, client.SelfLeakReport{Token: newTok, Url: &url, Source: &source})
	must(t, err, reported.StatusCode(), 202, "reportLeak")
	leaked, err := c.VerifyTokenWithResponse(ctx, client.VerifyRequest{Token: newTok})
	must(t, err, leaked.StatusCode(), 200, "verifyToken of a reported token")
	if leaked.JSON200.Code != "revoked" {
		t.Errorf("verifyToken of a reported token: code %s, want revoked", leaked.JSON200.Code)
	}
	leakShown, err := c.GetKeyWithResponse(ctx, id, asOwner)
	must(t, err, leakShown.StatusCode(), 200, "getKey of a revoked key")
	if leakShown.JSON200.Status != "revoked" || leakShown.JSON200.Revocation == nil || leakShown.JSON200.Revocation.Source == nil || *leakShown.JSON200.Revocation.Source != source {
		t.Errorf("getKey of a revoked key: status %s, revocation %+v", leakShown.JSON200.Status, leakShown.JSON200.Revocation)
	}
	revived, err := c.RotateKeyWithResponse(ctx, id, nil, client.RotateSpec{}, asOwner)
	must(t, err, revived.StatusCode(), 200, "rotateKey of a revoked key")
	if revived.JSON200.Status != "active" || revived.JSON200.Revocation != nil {
		t.Errorf("rotateKey of a revoked key: status %s, revocation %+v", revived.JSON200.Status, revived.JSON200.Revocation)
	}
	// Webhooks: an endpoint subscribed to expiry notices, a key expiring
	// within the week, the notice the background sweep queues (its first
	// attempt fails: .invalid never resolves), a manual retry, the
	// endpoint's edit, secret rotation and delete.
	hook, err := c.CreateWebhookWithResponse(ctx, client.CreateWebhookJSONRequestBody{Url: "https://webhooks.invalid/dotenv",
		Events: []client.CreateWebhookJSONBodyEvents{"key.expiring", "key.expired"}}, asOwner)
	must(t, err, hook.StatusCode(), 201, "createWebhook")
	hookID := hook.JSON201.Id
	if !strings.HasPrefix(hook.JSON201.Secret, "whsec_") || hook.Headers201.Location != "/v1/webhooks/"+hookID {
		t.Errorf("createWebhook: secret prefix or Location %q wrong", hook.Headers201.Location)
	}
	soon := time.Now().Add(72 * time.Hour)
	hookKey, err := c.CreateKeyWithResponse(ctx, client.KeyCreateSpec{Name: "expiring soon", Preset: &preset, ExpiresAt: &soon}, asOwner)
	must(t, err, hookKey.StatusCode(), 201, "createKey expiring in 3 days")
	hookRefused, err := c.CreateWebhookWithResponse(ctx, client.CreateWebhookJSONRequestBody{Url: "http://127.0.0.1/x",
		Events: []client.CreateWebhookJSONBodyEvents{"key.created"}}, asOwner)
	must(t, err, hookRefused.StatusCode(), 400, "createWebhook to loopback")
	fieldError(t, hookRefused.ApplicationproblemJSON400, "url", client.FieldErrorCode("invalid"))
	hookList, err := c.ListWebhooksWithResponse(ctx, asOwner)
	must(t, err, hookList.StatusCode(), 200, "listWebhooks")
	if len(hookList.JSON200.Items) != 1 {
		t.Errorf("listWebhooks: %d endpoints, want 1", len(hookList.JSON200.Items))
	}
	var hookDelivery client.WebhookDelivery
	for deadline := time.Now().Add(20 * time.Second); ; {
		ds, err := c.ListWebhookDeliveriesWithResponse(ctx, hookID, nil, asOwner)
		must(t, err, ds.StatusCode(), 200, "listWebhookDeliveries")
		if len(ds.JSON200.Items) == 1 && len(ds.JSON200.Items[0].Attempts) > 0 && ds.JSON200.Items[0].Attempts[0].Error != nil {
			hookDelivery = ds.JSON200.Items[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempted key.expiring delivery within 20 s: %+v", ds.JSON200.Items)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if hookDelivery.EventType != "key.expiring" || hookDelivery.Payload.Data.Key.Id != hookKey.JSON201.Id {
		t.Errorf("delivery %s of %s for %s, want key.expiring for %s", hookDelivery.Id, hookDelivery.EventType, hookDelivery.Payload.Data.Key.Id, hookKey.JSON201.Id)
	}
	hookRetried, err := c.RetryWebhookDeliveryWithResponse(ctx, hookID, hookDelivery.Id, asOwner)
	must(t, err, hookRetried.StatusCode(), 200, "retryWebhookDelivery")
	if hookRetried.JSON200.Id != hookDelivery.Id || hookRetried.JSON200.State != "pending" {
		t.Errorf("retryWebhookDelivery: %s %s, want %s pending", hookRetried.JSON200.Id, hookRetried.JSON200.State, hookDelivery.Id)
	}
	hookDesc := "pager"
	hookEdited, err := c.UpdateWebhookWithResponse(ctx, hookID, client.WebhookSpec{Description: &hookDesc}, asOwner)
	must(t, err, hookEdited.StatusCode(), 200, "updateWebhook")
	hookRotated, err := c.RotateWebhookSecretWithResponse(ctx, hookID, asOwner)
	must(t, err, hookRotated.StatusCode(), 200, "rotateWebhookSecret")
	if hookRotated.JSON200.Secret == hook.JSON201.Secret || hookRotated.JSON200.PreviousSecretExpiresAt == nil {
		t.Errorf("rotateWebhookSecret: the secret did not change or no overlap is shown")
	}
	hookShown, err := c.GetWebhookWithResponse(ctx, hookID, asOwner)
	must(t, err, hookShown.StatusCode(), 200, "getWebhook")
	if hookShown.JSON200.Description != hookDesc {
		t.Errorf("getWebhook: description %q, want %q", hookShown.JSON200.Description, hookDesc)
	}
	if strings.Contains(string(hookShown.Body), "whsec_") {
		t.Error("getWebhook answered a signing secret")
	}
	hookDeleted, err := c.DeleteWebhookWithResponse(ctx, hookID, asOwner)
	must(t, err, hookDeleted.StatusCode(), 204, "deleteWebhook")
	hookGone, err := c.GetWebhookWithResponse(ctx, hookID, asOwner)
	must(t, err, hookGone.StatusCode(), 404, "getWebhook after delete")
	// The endpoint's story is in the audit trail (by the owner key, named
	// by its URL), newest first, without either signing secret.
	var hookActions []string
	for _, action := range []string{"webhook.deleted", "webhook.secret_rotated", "webhook.updated", "webhook.created"} {
		a := action
		evs, err := c.ListAuditEventsWithResponse(ctx, &client.ListAuditEventsParams{Action: &a}, asOwner)
		must(t, err, evs.StatusCode(), 200, "listAuditEvents of "+action)
		for _, e := range evs.JSON200.Items {
			if e.Target.Id == hookID && e.Target.Type == client.AuditTargetTypeWebhook && e.Target.Name != nil && *e.Target.Name == "https://webhooks.invalid/dotenv" {
				hookActions = append(hookActions, string(e.Action))
			}
		}
		for _, secret := range []string{hook.JSON201.Secret, hookRotated.JSON200.Secret} {
			if strings.Contains(string(evs.Body), strings.TrimPrefix(secret, "whsec_")) {
				t.Errorf("the audit trail of %s holds a signing secret", action)
			}
		}
	}
	if want := []string{"webhook.deleted", "webhook.secret_rotated", "webhook.updated", "webhook.created"}; !slices.Equal(hookActions, want) {
		t.Errorf("the endpoint's audit trail = %v, want %v", hookActions, want)
	}

	// Delete, then the key is gone.
	deleted, err := c.DeleteKeyWithResponse(ctx, id, asOwner)
	must(t, err, deleted.StatusCode(), 204, "deleteKey")
	gone, err := c.GetKeyWithResponse(ctx, id, asOwner)
	must(t, err, gone.StatusCode(), 404, "getKey after delete")
	problem(t, gone.ApplicationproblemJSON404, client.ProblemCodeNotFound, 404)

	// The audit trail holds the key's story, newest first: deleted,
	// rotated (clearing the revocation), revoked by the self-report,
	// previous token revoked, rotated, updated, created; each by the owner
	// key but the revocation, by the system on the reporter's behalf.
	keyID := id
	trail, err := c.ListAuditEventsWithResponse(ctx, &client.ListAuditEventsParams{KeyId: &keyID}, asOwner)
	must(t, err, trail.StatusCode(), 200, "listAuditEvents")
	var actions []string
	for _, e := range trail.JSON200.Items {
		actions = append(actions, string(e.Action))
		wantActor := keys.OwnerKeyName
		if e.Action == "key.revoked" {
			wantActor = keys.ReporterSelf
		}
		if e.Actor.Name == nil || *e.Actor.Name != wantActor || (e.Actor.Type == client.AuditActorTypeKey) != (wantActor == keys.OwnerKeyName) {
			t.Errorf("%s event: actor %+v, want %s", e.Action, e.Actor, wantActor)
		}
	}
	if want := []string{"key.deleted", "key.rotated", "key.revoked", "key.previous_token_revoked", "key.rotated", "key.updated", "key.created"}; !slices.Equal(actions, want) {
		t.Errorf("the key's audit trail = %v, want %v", actions, want)
	}
	if strings.Contains(string(trail.Body), url) {
		t.Error("the audit trail holds the reported URL")
	}
	badSince, err := c.ListAuditEventsWithResponse(ctx, nil, asOwner, offContract("since is not a time"), func(_ context.Context, r *http.Request) error {
		r.URL.RawQuery = "since=yesterday"
		return nil
	})
	must(t, err, badSince.StatusCode(), 400, "listAuditEvents with a bad since")
	fieldError(t, badSince.ApplicationproblemJSON400, "since", client.FieldErrorCodeInvalid)

	// The trail exported whole: NDJSON (each line an AuditEvent of the
	// document) and CSV (its header row, a row per event).
	for _, export := range []struct{ accept, first string }{
		{"application/x-ndjson", "{"},
		{"text/csv", "id,at,action,"},
	} {
		// The plain client: oapi-codegen's parsing WithResponse decodes
		// every Content-Type containing "json" as the JSON page, so
		// application/x-ndjson fails there.
		r, err := c.ListAuditEvents(ctx, &client.ListAuditEventsParams{KeyId: &keyID}, asOwner, accept(export.accept))
		if err != nil {
			t.Fatalf("listAuditEvents as %s: %v", export.accept, err)
		}
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		must(t, err, r.StatusCode, 200, "listAuditEvents as "+export.accept)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, export.accept) {
			t.Errorf("listAuditEvents as %s: Content-Type %q", export.accept, ct)
		}
		lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
		if !strings.HasPrefix(lines[0], export.first) {
			t.Errorf("listAuditEvents as %s: first line %.40q, want it to start %q", export.accept, lines[0], export.first)
		}
		switch export.accept {
		case "application/x-ndjson":
			if len(lines) != len(actions) {
				t.Errorf("the NDJSON export has %d lines, want the key's %d events", len(lines), len(actions))
			}
			for i, l := range lines {
				v, err := schematest.Decode([]byte(l))
				if err == nil {
					err = check.schema.Validate("#/components/schemas/AuditEvent", v)
				}
				if err != nil {
					t.Errorf("NDJSON line %d is not an AuditEvent: %v", i+1, err)
				}
			}
		case "text/csv":
			if len(lines) < len(actions)+1 {
				t.Errorf("the CSV export has %d lines, want a header and the key's %d events", len(lines), len(actions))
			}
		}
	}

	// Every operation of the document went through the generated client:
	// a new operation needs its call here.
	if got, want := check.operations(), check.documented(); !slices.Equal(got, want) {
		var missing, extra []string
		for _, op := range want {
			if !slices.Contains(got, op) {
				missing = append(missing, op)
			}
		}
		for _, op := range got {
			if !slices.Contains(want, op) {
				extra = append(extra, op)
			}
		}
		t.Errorf("the lifecycle called %d of the document's %d operations: missing %v, undocumented %v", len(got), len(want), missing, extra)
	}
	if n := check.count(); n < 25 {
		t.Errorf("the contract checked %d answers, want every call's", n)
	}
}

// must fails the test unless the call succeeded with status want.
func must(t *testing.T, err error, got, want int, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != want {
		t.Fatalf("%s answered %d, want %d", what, got, want)
	}
}

// problem checks a decoded Problem's code and status.
func problem(t *testing.T, p *client.Problem, code client.ProblemCode, status int) {
	t.Helper()
	if p == nil {
		t.Errorf("the %d answer did not decode as a Problem", status)
		return
	}
	if p.Code != code || p.Status != status || p.Type != "https://docs.dotenv.org/errors/"+string(code) {
		t.Errorf("problem = code %s status %d type %s, want %s %d", p.Code, p.Status, p.Type, code, status)
	}
}

// fieldError checks that a 400 lists field with code among its errors.
func fieldError(t *testing.T, p *client.Problem, field string, code client.FieldErrorCode) {
	t.Helper()
	if p == nil || p.Errors == nil {
		t.Errorf("the 400 lists no errors, want %s %s", field, code)
		return
	}
	var got []string
	for _, fe := range *p.Errors {
		if fe.Field == field && fe.Code == code {
			return
		}
		got = append(got, fe.Field+":"+string(fe.Code))
	}
	t.Errorf("the 400 lists %v, want %s:%s among them", got, field, code)
}

// bootstrap runs `edge bootstrap` on data and returns the owner token.
func bootstrap(t *testing.T, bin, data string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "bootstrap", "--data", data, "--organization", "Client Org")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("edge bootstrap: %v\n%s", err, stderr.String())
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Token == "" {
		t.Fatalf("edge bootstrap did not print a JSON object with a token: %v", err)
	}
	return out.Token
}

// serve starts `edge serve` on a free loopback port and returns its base
// URL; it is interrupted when the test ends.
func serve(t *testing.T, bin, data string, args ...string) string {
	t.Helper()
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--webhooks-interval", "1s"}, args...)
	return proctest.StartServer(t, exec.Command(bin, args...), &proctest.Buffer{})
}

// githubSigner stands for GitHub's secret scanning: a P-256 key whose
// public half is in the key document the binary reads (--github-keys).
type githubSigner struct {
	*secretscantest.Signer
	keys string // the key document's path
}

func newGitHubSigner(t *testing.T, dir string) *githubSigner {
	t.Helper()
	s, err := secretscantest.NewSigner("bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c")
	if err != nil {
		t.Fatal(err)
	}
	g := &githubSigner{Signer: s, keys: filepath.Join(dir, "github-keys.json")}
	doc, err := secretscantest.Document(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(g.keys, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// sign returns the signature GitHub sends for a report's raw body.
func (g *githubSigner) sign(t *testing.T, body []byte) string {
	t.Helper()
	sig, err := g.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// named returns an answer's status and, when node is not nil, its name.
func named(r interface{ StatusCode() int }, node *client.Node, err error) (int, string, error) {
	if err != nil {
		return 0, "", err
	}
	if node == nil {
		return r.StatusCode(), "", nil
	}
	return r.StatusCode(), node.Name, nil
}

// accept asks for a media type.
func accept(mediaType string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Accept", mediaType)
		return nil
	}
}

func ptr[T any](v T) *T { return &v }

// code returns an answer's status, or the call's error.
func code(r interface{ StatusCode() int }, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return r.StatusCode(), nil
}
