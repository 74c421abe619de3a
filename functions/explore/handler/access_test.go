package handler_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// get calls a route with a token and decodes the answer.
func (f *fixture) get(path, tok string) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

// mapNodes returns the nodes the access map names, by level, as "id=path".
func mapNodes(res map[string]any) map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, c := range res["access"].([]any) {
		n := c.(map[string]any)["node"].(map[string]any)
		id, l := n["id"].(string), n["level"].(string)
		if !seen[id] {
			seen[id] = true
			out[l] = append(out[l], id+"="+n["path"].(string))
		}
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

// revealed returns the ids and paths the access map shows, and the JSON of
// access_hidden, as one text to search.
func revealed(res map[string]any) string {
	var b strings.Builder
	for _, c := range res["access"].([]any) {
		n := c.(map[string]any)["node"].(map[string]any)
		b.WriteString(n["id"].(string) + "=" + n["path"].(string) + "\n")
	}
	h, _ := json.Marshal(res["access_hidden"])
	b.Write(h)
	return b.String()
}

// TestExploreMapHidesWhatTheKeyCannotList: a key with only api_tokens:read
// exploring itself cannot list teams (GET /v1/teams answers 403), so its
// map names no node: each level is only counted.
func TestExploreMapHidesWhatTheKeyCannotList(t *testing.T) {
	f := setup(t)
	k := f.post("/v1/api-keys", f.owner, `{"name":"auditor","permissions":[{"permission":"api_tokens:read"}],"expiration":"30d"}`)
	id, tok := k["id"].(string), k["token"].(string)
	if st, _ := f.get("/v1/teams", tok); st != 403 {
		t.Fatalf("GET /v1/teams with api_tokens:read only: %d, want 403", st)
	}
	body := `{"token":"` + tok + `","method":"GET","path":"/v1/teams"}`
	st, res, raw := f.do("/v1/api-keys/"+id+"/explore", tok, body)
	if st != 200 {
		t.Fatalf("explore: %d %s", st, raw)
	}
	if got := mapNodes(res); len(got) != 1 || len(got["organization"]) != 1 {
		t.Errorf("the map names nodes the key may not list: %v", got)
	}
	shown := revealed(res)
	for _, secret := range []string{"platform", "billing", "web", "production", f.team, f.prj, f.tgt, f.prod} {
		if strings.Contains(shown, secret) {
			t.Errorf("the access map reveals %q", secret)
		}
	}
	hidden := hiddenOf(t, res)
	for _, l := range []string{"team", "project", "target", "environment"} {
		h := hidden[l]
		if h.Count != 1 || len(h.perms) == 0 {
			t.Errorf("access_hidden %s = %+v, want 1 node counted", l, h)
		}
		for p, n := range h.perms {
			if n != [2]int{0, 1} {
				t.Errorf("access_hidden %s: %s allowed/denied %v, want 0/1", l, p, n)
			}
		}
	}
	if hidden["environment"].perms["secrets:read"] != [2]int{0, 1} {
		t.Errorf("access_hidden environment lacks secrets:read: %+v", hidden["environment"])
	}
}

// TestExploreMapMatchesTheListRoutes: the map names exactly the nodes the
// explored key's own list calls answer, and names an ancestor the key may
// not list by its id only.
func TestExploreMapMatchesTheListRoutes(t *testing.T) {
	f := setup(t)
	envs := "/v1/projects/" + f.prj + "/targets/" + f.tgt + "/environments"
	f.post(envs, f.owner, `{"name":"staging"}`)
	f.post("/v1/projects/"+f.prj+"/targets", f.owner, `{"name":"api"}`)
	other := f.post("/v1/teams", f.owner, `{"name":"secret-team"}`)["id"].(string)
	k := f.post("/v1/api-keys", f.owner, `{"name":"scoped","permissions":[`+
		`{"permission":"targets:read","scope":{"level":"target","id":"`+f.tgt+`"}},`+
		`{"permission":"environments:read","scope":{"level":"environment","id":"`+f.prod+`"}},`+
		`{"permission":"teams:read","scope":{"level":"team","id":"`+f.team+`"}}],"expiration":"30d"}`)
	id, tok := k["id"].(string), k["token"].(string)
	st, res, raw := f.do("/v1/api-keys/"+id+"/explore", f.owner, `{"token":"`+tok+`","method":"GET","path":"/v1/teams"}`)
	if st != 200 {
		t.Fatalf("explore: %d %s", st, raw)
	}
	listed := func(path string) []string {
		st, page := f.get(path, tok)
		if st != 200 {
			t.Fatalf("GET %s with the key: %d", path, st)
		}
		var ids []string
		for _, it := range page["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		slices.Sort(ids)
		return ids
	}
	ids := func(entries []string) []string {
		var out []string
		for _, e := range entries {
			out = append(out, strings.SplitN(e, "=", 2)[0])
		}
		return out
	}
	got := mapNodes(res)
	for level, path := range map[string]string{
		"team":        "/v1/teams",
		"target":      "/v1/projects/" + f.prj + "/targets",
		"environment": envs,
	} {
		if want := listed(path); !slices.Equal(ids(got[level]), want) {
			t.Errorf("%s nodes in the map %v, want what GET %s answers the key: %v", level, got[level], path, want)
		}
	}
	if len(got["project"]) != 0 {
		t.Errorf("the key cannot list projects, the map names %v", got["project"])
	}
	// The project is not listed: the target's path shows its id, not its name.
	if want := []string{f.tgt + "=" + f.prj + " / web"}; !slices.Equal(got["target"], want) {
		t.Errorf("targets %v, want %v", got["target"], want)
	}
	shown := revealed(res)
	for _, secret := range []string{"billing", "staging", "api", "secret-team", other} {
		if strings.Contains(shown, secret) {
			t.Errorf("the access map reveals %q", secret)
		}
	}
	hidden := hiddenOf(t, res)
	for level, n := range map[string]int{"team": 1, "project": 1, "target": 1, "environment": 1} {
		if hidden[level].Count != n {
			t.Errorf("access_hidden %s counts %d, want %d", level, hidden[level].Count, n)
		}
	}
	if got := hidden["environment"].perms["environments:read"]; got != [2]int{0, 1} {
		t.Errorf("environments:read on the hidden environment: %v, want denied", got)
	}
}
