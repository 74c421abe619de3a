package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserDirectory sets an organization up through the dashboard's
// directory page in headless Chromium against the real single binary: the
// key form's empty scope picker leads there; team → project → target →
// environments are created (the team with the keyboard only), one is
// renamed, a duplicate sibling name and deleting a node with children are
// refused with the server's message next to the field, a leaf is deleted,
// and the new environment is then offered by the key form's scope picker.
// Each state of the page passes the quality bar (title, axe-core, 390 and
// 1400 px screenshots in testoutput/screenshots).
func TestBrowserDirectory(t *testing.T) {
	started := time.Now()
	chrome := findChromium(t)

	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner := bin.bootstrap("Directory Org")
	base, logs := bin.serve()
	c := client{t: t, base: base}

	b := startBrowser(t, chrome, base)
	axe := axeSource(t)
	b.do("sign in",
		chromedp.Navigate(base+"/dashboard/organizations/api-keys"),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("key-table")),
	)

	// 1. A new organization: the key's "where" and a permission's own scope
	// picker are empty and say where to go.
	b.do("open the create form",
		chromedp.Click(tid("create-key")),
		chromedp.WaitVisible(tid("where-nodes")),
		chromedp.Click(tid("where-nodes")),
		chromedp.WaitVisible(tid("where-empty")),
	)
	if got := value(b, "read the where's empty state", chromedp.Text(tid("where-empty"))); !strings.Contains(got, "create them in the directory") {
		t.Errorf("the empty where says %q", got)
	}
	if href := value(b, "read the where's link", chromedp.Evaluate[string](`document.querySelector('[data-testid="where-empty"] a')?.getAttribute("href") ?? ""`)); href != "/dashboard/organizations/api-keys/directory" {
		t.Errorf("the empty where links to %q", href)
	}
	b.do("ask for a permission's own scope",
		chromedp.Click(tid("area-secrets-custom")),
		chromedp.WaitVisible(tid("perm-secrets:read")),
		chromedp.Click(tid("perm-secrets:read")),
		chromedp.WaitVisible(tid("scope-level-secrets:read-0")),
	)
	b.chooseOption("choose the environment level", "scope-level-secrets:read-0", "environment", "")
	// The per-permission picker sits in a closed <details>: read its text.
	b.do("wait for the empty state", chromedp.WaitReady(tid("scope-empty-secrets:read-0")))
	if got := value(b, "read the empty state", chromedp.Evaluate[string](`document.querySelector('[data-testid="scope-empty-secrets:read-0"]').textContent`)); got != "No environments yet: create them in the directory." {
		t.Errorf("the empty scope picker says %q", got)
	}
	if got := value(b, "read the picker's prompt", chromedp.Evaluate[string](`document.querySelector('[data-testid="scope-node-secrets:read-0"]').options[0].textContent`)); got != "Choose an environment…" {
		t.Errorf("the environment picker's prompt is %q, want \"Choose an environment…\"", got)
	}
	if got := value(b, "read the API tokens heading", chromedp.Evaluate[string](`[...document.querySelectorAll('legend, h3, .group-toggle')].map(e => e.textContent.trim()).filter(s => /api tokens/i.test(s)).join(" | ")`)); got == "" || strings.Contains(got, "API Tokens") || strings.Contains(got, "api tokens") {
		t.Errorf("the form names the API tokens group as %q, want \"API tokens\" everywhere", got)
	}
	b.shot("directory-empty-picker")
	b.do("follow the empty state's link",
		chromedp.Click(chromedp.CSS(`[data-testid="where-empty"] a`)),
		chromedp.WaitVisible(tid("dir-empty")),
	)
	if loc := value(b, "read the address", chromedp.Location()); loc != base+"/dashboard/organizations/api-keys/directory" {
		t.Errorf("the empty state's link leads to %s", loc)
	}
	if title := value(b, "read the title", chromedp.Title()); title != "Directory · DotEnv" {
		t.Errorf("the directory page's title is %q", title)
	}
	if cur := value(b, "read the nav", chromedp.Evaluate[string](`document.querySelector('[aria-current="page"]')?.dataset.testid ?? ""`)); cur != "nav-directory" {
		t.Errorf("the navigation marks %q as the current page, want nav-directory", cur)
	}
	b.quality("directory-empty", "Directory · DotEnv", axe, false)

	// 2. The first team with the keyboard only: Tab to "Add team", Enter,
	// type, Enter.
	b.checkLabels("empty directory")
	b.do("focus the page's top", chromedp.Focus(chromedp.CSS("main h1")))
	b.tabTo("dir-add-team", 10, true)
	b.do("open the team form with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(tid("dir-name-input")))
	if f := b.active(); f.TestID != "dir-name-input" || f.Name != "Name of the new team" {
		t.Errorf("after Enter the focus is on %+v, want the new team's name", f)
	}
	b.do("name the team and press Enter",
		chromedp.KeyEvent("platform"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(dirNode("platform"))),
	)

	// 3. Project, target and two environments under it.
	b.dirAdd("platform", "billing")
	b.dirAdd("platform / billing", "web")
	b.dirAdd("platform / billing / web", "production")
	b.dirAdd("platform / billing / web", "staging")
	b.checkLabels("directory with a tree")
	b.quality("directory-tree", "Directory · DotEnv", axe, false)
	dir := c.must(200, "GET", "/v1/projects", owner, "")
	if !strings.Contains(dir.raw, `"name":"billing"`) {
		t.Fatalf("the project created in the UI is not listed by the API: %s", dir.raw)
	}

	// 4. Rename staging to preview.
	b.dirAct("platform / billing / web / staging", "dir-rename")
	b.dirType("preview")
	b.do("save the new name", chromedp.Click(tid("dir-save")),
		chromedp.WaitVisible(chromedp.CSS(dirNode("platform / billing / web / preview"))))
	if n := b.dirCount(dirNode("platform / billing / web / staging")); n != 0 {
		t.Errorf("after renaming, staging is still shown")
	}
	if s := value(b, "read the status", chromedp.Evaluate[string](`document.querySelector('[data-testid="dir-status"]').textContent`)); !strings.Contains(s, "Renamed environment staging to preview") {
		t.Errorf("the status after renaming is %q", s)
	}

	// 5. A duplicate sibling name: the server's message, next to the field.
	prj := dirID(t, dir, "billing")
	tgts := c.must(200, "GET", "/v1/projects/"+prj+"/targets", owner, "")
	tgt := dirID(t, tgts, "web")
	envs := "/v1/projects/" + prj + "/targets/" + tgt + "/environments"
	want := dirProblem(t, c.call("POST", envs, owner, `{"name":"production"}`), 409)
	b.dirAct("platform / billing / web", "dir-add")
	b.dirType("production")
	b.do("submit the duplicate", chromedp.Click(tid("dir-save")), chromedp.WaitVisible(tid("dir-error")))
	if got := value(b, "read the duplicate's message", chromedp.Text(tid("dir-error"))); got != want {
		t.Errorf("the duplicate name shows %q, want the server's %q", got, want)
	}
	b.dirDescribed("the duplicate name", "dir-name-input", "dir-error")
	b.quality("directory-duplicate", "Directory · DotEnv", axe, false)
	b.do("cancel with Escape", chromedp.Focus(tid("dir-name-input")), chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(tid("dir-form")))
	if f := b.active(); f.TestID != "dir-add" || f.Name != "Add environment to target web" {
		t.Errorf("after Escape the focus is on %+v, want back on the button that opened the form", f)
	}

	// 6. Deleting a node with children is refused with the server's message.
	teams := c.must(200, "GET", "/v1/teams", owner, "")
	team := dirID(t, teams, "platform")
	wantDel := dirProblem(t, c.call("DELETE", "/v1/teams/"+team, owner, ""), 409)
	b.dirAct("platform", "dir-delete")
	b.do("confirm the delete", chromedp.WaitVisible(tid("dir-confirm")), chromedp.Click(tid("dir-confirm-delete")),
		chromedp.WaitVisible(tid("dir-error")))
	if got := value(b, "read the refusal", chromedp.Text(tid("dir-error"))); got != wantDel {
		t.Errorf("deleting a team with projects shows %q, want the server's %q", got, wantDel)
	}
	b.dirDescribed("the refused delete", "dir-confirm-delete", "dir-error")
	b.quality("directory-delete-refused", "Directory · DotEnv", axe, false)
	if n := b.dirCount(dirNode("platform")); n != 1 {
		t.Errorf("after a refused delete the team is shown %d times", n)
	}
	b.do("cancel the delete", chromedp.Click(chromedp.CSS(`[data-testid="dir-confirm"] [data-testid="dir-cancel"]`)),
		chromedp.WaitNotPresent(tid("dir-confirm")))

	// 7. Deleting a leaf.
	b.dirAct("platform / billing / web / preview", "dir-delete")
	b.do("confirm the leaf's delete", chromedp.WaitVisible(tid("dir-confirm")), chromedp.Click(tid("dir-confirm-delete")),
		chromedp.WaitNotPresent(chromedp.CSS(dirNode("platform / billing / web / preview"))))
	left := c.must(200, "GET", envs, owner, "")
	if strings.Contains(left.raw, `"preview"`) || !strings.Contains(left.raw, `"production"`) {
		t.Errorf("after deleting preview in the UI the API lists %s", left.raw)
	}

	// 8. The key form's "where" tree and scope picker now offer the environment.
	b.do("open the create form again",
		chromedp.Click(tid("nav-keys")),
		chromedp.WaitVisible(tid("create-key")),
		chromedp.Click(tid("create-key")),
		chromedp.WaitVisible(tid("where-nodes")),
		chromedp.Click(tid("where-nodes")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid^="where-node-"][data-path="billing / web / production"]`)),
		chromedp.Click(tid("area-secrets-custom")),
		chromedp.WaitVisible(tid("perm-secrets:read")),
		chromedp.Click(tid("perm-secrets:read")),
		chromedp.WaitVisible(tid("scope-level-secrets:read-0")),
	)
	b.chooseOption("choose the environment level", "scope-level-secrets:read-0", "environment", "")
	b.chooseOption("choose production", "scope-node-secrets:read-0", "", "billing / web / production")
	if n := b.dirCount(`[data-testid="scope-empty-secrets:read-0"]`); n != 0 {
		t.Errorf("the scope picker still says it is empty")
	}
	b.shot("directory-picker-filled")

	b.checkConsole()
	if strings.Contains(logs.String(), secretPart(owner)) {
		t.Error("a token appeared in the server's logs")
	}
	t.Logf("%d screenshots in %s; browser test took %s", b.n, b.shots, time.Since(started).Round(time.Millisecond))
}

// dirNode selects the directory page's node with this full path.
func dirNode(path string) string {
	return `[data-testid="dir-node"][data-path="` + path + `"]`
}

// dirAct clicks one action button (dir-add, dir-rename, dir-delete) of a node.
func (b *browserTab) dirAct(path, action string) {
	b.t.Helper()
	b.do(action+" "+path, chromedp.Click(chromedp.CSS(dirNode(path)+` > .dir-row [data-testid="`+action+`"]`)))
}

// dirType replaces the open name field's text, as typing does.
func (b *browserTab) dirType(name string) {
	b.t.Helper()
	b.do("wait for the name field", chromedp.WaitVisible(tid("dir-name-input")))
	value(b, "clear the name field", chromedp.Evaluate[bool](`(() => {
		const el = document.querySelector('[data-testid="dir-name-input"]');
		el.value = "";
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`))
	b.do("type "+name, chromedp.SendKeys(tid("dir-name-input"), name))
}

// dirAdd adds a child named name under the node at path and waits for it.
func (b *browserTab) dirAdd(path, name string) {
	b.t.Helper()
	b.dirAct(path, "dir-add")
	b.dirType(name)
	b.do("add "+name, chromedp.Click(tid("dir-save")), chromedp.WaitVisible(chromedp.CSS(dirNode(path+" / "+name))))
}

// dirCount answers how many elements match a CSS selector.
func (b *browserTab) dirCount(css string) int {
	b.t.Helper()
	return value(b, "count "+css, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, css)))
}

// dirDescribed checks that the control's aria-describedby names the message.
func (b *browserTab) dirDescribed(when, control, message string) {
	b.t.Helper()
	ok := value(b, "check the description of "+control, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const c = document.querySelector('[data-testid="%s"]'), m = document.querySelector('[data-testid="%s"]');
		return !!c && !!m && !!m.id && (c.getAttribute("aria-describedby") ?? "").split(/\s+/).includes(m.id);
	})()`, control, message)))
	if !ok {
		b.t.Errorf("%s: %s is not described by its message %s", when, control, message)
	}
}

// dirProblem is what the dashboard shows for a refused request: the
// message of the name field's error when there is one, else the detail.
func dirProblem(t *testing.T, r reply, status int) string {
	t.Helper()
	if r.status != status {
		t.Fatalf("want HTTP %d, got %d: %s", status, r.status, r.raw)
	}
	if errs, ok := r.body["errors"].([]any); ok {
		for _, e := range errs {
			if m, ok := e.(map[string]any); ok && m["field"] == "name" {
				if s, ok := m["message"].(string); ok {
					return s
				}
			}
		}
	}
	return r.s("detail")
}

// dirID answers the id of the item named name in a listing.
func dirID(t *testing.T, r reply, name string) string {
	t.Helper()
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && m["name"] == name {
			if id, ok := m["id"].(string); ok {
				return id
			}
		}
	}
	t.Fatalf("no %q in %s", name, r.raw)
	return ""
}
