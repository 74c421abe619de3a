package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dotenv/apikeys/shared/chromium"
	"github.com/dotenv/apikeys/shared/proctest"
)

// TestBrowserDashboard walks the dashboard of issue 6 in headless Chromium
// against the real single binary: sign in with the bootstrap owner token,
// create a key scoped to one environment, read its token once, make sure a
// reload shows it nowhere, edit, rotate, explore, delete, and use the create
// form with the keyboard only. Screenshots of every page visited land in
// testoutput/screenshots at the repository root.
func TestBrowserDashboard(t *testing.T) {
	started := time.Now()
	chrome := findChromium(t)

	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner := bin.bootstrap("Browser Org")
	base, logs := bin.serve()
	c := client{t: t, base: base}

	// The organization's directory, so the scope picker has something.
	_, _, _, _, prod, staging := c.sampleTree(owner)

	b := startBrowser(t, chrome, base)
	t.Logf("screenshots of every page visited: %s", b.shots)

	// 1. Sign in by pasting the bootstrap owner token.
	b.do("open the dashboard",
		chromedp.Navigate(base+"/dashboard/organizations/api-keys"),
		chromedp.WaitVisible(tid("signin-token")),
	)
	b.shot("sign-in")
	b.do("sign in",
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("org-name")),
		chromedp.WaitVisible(tid("key-table")),
	)
	if org := value(b, "read the organization", chromedp.Text(tid("org-name"))); org != "Browser Org" {
		t.Errorf("header shows organization %q, want Browser Org", org)
	}
	b.shot("list")

	// 2. Create a key through the UI: secrets:read on production, 30 days.
	b.do("open the create form",
		chromedp.Click(tid("create-key")),
		chromedp.WaitVisible(tid("key-form")),
		chromedp.WaitVisible(tid("area-secrets-custom")),
	)
	b.shot("create")
	b.do("fill in the create form",
		chromedp.SendKeys(tid("key-name"), "CI deploy"),
		chromedp.Click(tid("area-secrets-custom")),
		chromedp.Click(tid("perm-secrets:read")),
		chromedp.Click(chromedp.CSS(`[data-testid="scope-override-secrets:read"] summary`)),
		chromedp.WaitVisible(tid("scope-level-secrets:read-0")),
	)
	b.chooseOption("choose the environment level", "scope-level-secrets:read-0", "environment", "")
	b.do("wait for the environment picker", chromedp.WaitVisible(tid("scope-node-secrets:read-0")))
	b.chooseOption("choose production", "scope-node-secrets:read-0", "", "billing / web / production")
	b.do("choose 30 days", chromedp.Click(tid("expiry-30d")))
	b.checkLabels("create form with a scope picker")
	summary := value(b, "read the summary", chromedp.Text(tid("summary")))
	if !strings.Contains(summary, "production") {
		t.Errorf("the summary does not name the environment: %q", summary)
	}
	b.shot("create-filled")
	b.do("create the key",
		chromedp.Click(tid("submit-key")),
		chromedp.WaitVisible(tid("token-dialog")),
		chromedp.WaitVisible(tid("token-value")),
	)

	// 3. Read the token from the dialog; it works on production only.
	tok := value(b, "read the token", chromedp.Value(tid("token-value")))
	if !strings.HasPrefix(tok, "dotenv_") {
		b.fail("read the token", fmt.Errorf("the token dialog shows %q, not a DotEnv token", tok))
	}
	b.shotDialog("token-dialog")
	if v := c.verify(tok, "secrets:read", prod); v.body["allowed"] != true {
		t.Fatalf("the token from the dialog is not allowed on production: %s", v.raw)
	}
	if v := c.verify(tok, "secrets:read", staging); v.body["allowed"] != false {
		t.Fatalf("the token from the dialog is allowed on staging: %s", v.raw)
	}

	// 4. Close the dialog, then reload: the token is nowhere.
	b.do("close the token dialog",
		chromedp.Click(tid("close-token-dialog")),
		// Not copied: the dialog asks once before closing.
		chromedp.WaitVisible(tid("close-confirm")),
		chromedp.Click(tid("confirm-close-token")),
		chromedp.WaitNotPresent(tid("token-dialog")),
		chromedp.WaitVisible(tid("key-name-heading")),
	)
	loc := value(b, "read the key page's address", chromedp.Location())
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(loc, base+"/dashboard/organizations/api-keys/") || id == "" {
		b.fail("read the key page's address", fmt.Errorf("after closing the dialog the page is %s, want /dashboard/organizations/api-keys/{id}", loc))
	}
	b.noSecret("after closing the dialog", tok, owner)
	created := c.must(200, "GET", "/v1/api-keys/"+id, owner, "")
	if !strings.Contains(created.raw, `"scope":{"level":"environment","id":"`+prod+`"`) || created.s("name") != "CI deploy" {
		t.Errorf("the key created in the UI is %s, want secrets:read on production", created.raw)
	}
	if exp, err := time.Parse(time.RFC3339, created.s("expires_at")); err != nil || time.Until(exp) < 29*24*time.Hour || time.Until(exp) > 31*24*time.Hour {
		t.Errorf("the key created in the UI expires at %q, want in 30 days", created.s("expires_at"))
	}
	b.do("reload the key page",
		chromedp.Reload(),
		chromedp.WaitVisible(tid("key-name-heading")),
		chromedp.WaitVisible(tid("grant-scope")),
	)
	b.noSecret("after a reload", tok, owner)

	// 5. The key page, then edit its name (saved with If-Match).
	if got := value(b, "read the key id", chromedp.Text(tid("key-id"))); got != id {
		t.Errorf("key page shows id %q, want %q", got, id)
	}
	if scope := value(b, "read the scope", chromedp.Text(tid("grant-scope"))); !strings.Contains(scope, "billing / web / production") {
		t.Errorf("the key page shows the scope as %q, want the path billing / web / production", scope)
	}
	b.shot("key-page")
	b.do("open the edit page",
		chromedp.Click(tid("edit-key")),
		chromedp.WaitVisible(tid("key-form")),
		chromedp.WaitVisible(tid("expiry-keep")),
	)
	if loc := value(b, "read the edit page's address", chromedp.Location()); loc != base+"/dashboard/organizations/api-keys/"+id+"/edit" {
		t.Errorf("the edit page is at %s, want /dashboard/organizations/api-keys/%s/edit", loc, id)
	}
	if name := value(b, "read the name field", chromedp.Value(tid("key-name"))); name != "CI deploy" {
		t.Errorf("the edit form shows the name %q, want CI deploy", name)
	}
	b.shot("edit")
	b.do("rename the key",
		chromedp.Focus(tid("key-name")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="key-name"]').select()`),
		chromedp.KeyEvent("CI deploy (web)"),
		chromedp.Click(tid("submit-key")),
		chromedp.WaitVisible(tid("flash")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="key-name-heading"]')?.textContent.trim() === "CI deploy (web)"`),
	)
	if patch, ok := b.request("PATCH", base+"/v1/api-keys/"+id); !ok || patch.Headers["if-match"] != `"1"` {
		t.Errorf("the edit page did not send PATCH /v1/api-keys/{id} with If-Match: \"1\" (sent: %v, headers %v)", ok, patch.Headers)
	}
	if r := c.must(200, "GET", "/v1/api-keys/"+id, owner, ""); r.s("name") != "CI deploy (web)" || r.header.Get("ETag") != `"2"` {
		t.Fatalf("after the edit the API shows name %q, ETag %s", r.s("name"), r.header.Get("ETag"))
	}

	// 6. Rotate from the key page: the old token dies, the new one works.
	b.do("open the rotate dialog",
		chromedp.Click(tid("rotate-key")),
		chromedp.WaitVisible(tid("rotate-dialog")),
	)
	b.shotDialog("rotate-dialog")
	b.do("rotate",
		chromedp.Click(tid("confirm-rotate")),
		chromedp.WaitVisible(tid("token-dialog")),
	)
	tok2 := value(b, "read the rotated token", chromedp.Value(tid("token-value")))
	b.shotDialog("token-dialog-rotated")
	if tok2 == tok || !strings.HasPrefix(tok2, "dotenv_") {
		b.fail("read the rotated token", fmt.Errorf("the rotated token %q is not a new DotEnv token", tok2))
	}
	if v := c.verify(tok, "", ""); v.s("code") != "not_found" {
		t.Fatalf("after rotating in the UI the old token still verifies: %s", v.raw)
	}
	if v := c.verify(tok2, "secrets:read", prod); v.body["allowed"] != true {
		t.Fatalf("the rotated token is not allowed on production: %s", v.raw)
	}

	// 7. The explorer, with the token carried from the dialog.
	b.do("open the explorer from the token dialog",
		chromedp.Click(tid("open-explorer")),
		chromedp.WaitVisible(tid("explorer-form")),
		chromedp.WaitVisible(tid("explorer-route")),
	)
	if loc := value(b, "read the explorer's address", chromedp.Location()); loc != base+"/dashboard/organizations/api-keys/"+id+"/explore" {
		t.Errorf("the explorer is at %s", loc)
	}
	if carried := value(b, "read the carried token", chromedp.Value(tid("explorer-token"))); carried != tok2 {
		// Not carried: paste it, as a user would.
		t.Errorf("the explorer did not receive the token from the dialog (field holds %d characters)", len(carried))
		b.do("paste the token", chromedp.SendKeys(tid("explorer-token"), tok2))
	}
	b.shot("explorer")
	b.explore("listPermissions", "200") // any valid token may list permissions
	b.shot("explorer-allowed")
	if snip := value(b, "read the snippet", chromedp.Text(tid("explorer-snippet"))); strings.Contains(snip, secretPart(tok2)) {
		t.Error("the explorer's snippet holds the real token")
	}
	b.explore("listKeys", "403") // needs api_tokens:read, which the key lacks
	b.shot("explorer-forbidden")

	// 8. Delete from the key page, typing its name; the token dies.
	// Through its old address, which redirects to the one URL scheme.
	b.do("open the key page",
		chromedp.Navigate(base+"/api-keys/"+id),
		chromedp.WaitVisible(tid("delete-key")),
	)
	if loc := value(b, "read the redirected address", chromedp.Location()); loc != base+"/dashboard/organizations/api-keys/"+id {
		t.Errorf("the old key address landed on %s, want /dashboard/organizations/api-keys/%s", loc, id)
	}
	b.noSecret("after leaving the explorer", tok2, owner)
	b.do("open the delete dialog",
		chromedp.Click(tid("delete-key")),
		chromedp.WaitVisible(tid("delete-dialog")),
		chromedp.WaitVisible(tid("delete-confirm-name")),
	)
	if value(b, "read the delete button", chromedp.Evaluate[bool](`document.querySelector('[data-testid="confirm-delete"]').disabled`)) != true {
		t.Error("the delete button is enabled before the key's name is typed")
	}
	b.do("type the key's name",
		chromedp.SendKeys(tid("delete-confirm-name"), "CI deploy (web)"),
		chromedp.WaitEnabled(tid("confirm-delete")),
	)
	b.shotDialog("delete-dialog")
	b.do("delete the key",
		chromedp.Click(tid("confirm-delete")),
		chromedp.WaitVisible(tid("key-table")),
		chromedp.WaitVisible(tid("flash")),
	)
	b.shot("list-after-delete")
	if v := c.verify(tok2, "", ""); v.s("code") != "not_found" {
		t.Fatalf("after deleting in the UI the token still verifies: %s", v.raw)
	}
	if n := value(b, "count the rows", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="key-row"][data-key-id="`+id+`"]').length`)); n != 0 {
		t.Errorf("the deleted key is still listed")
	}

	// 9. Keyboard only: every control of the create form has a label, and a
	// key can be created with Tab, Space, arrows and Enter.
	b.keyboardCreate(c, owner)

	// Sign out: the session's token leaves sessionStorage.
	b.do("sign out",
		chromedp.Click(tid("sign-out")),
		chromedp.WaitVisible(tid("signin-token")),
	)
	if n := value(b, "read sessionStorage", chromedp.Evaluate[int](`sessionStorage.length + localStorage.length`)); n != 0 {
		t.Errorf("after signing out the storages hold %d items", n)
	}
	b.do("reload after signing out", chromedp.Reload(), chromedp.WaitVisible(tid("signin-token")))

	// The browser saw no uncaught exception and no CSP violation, and the
	// server logged no token.
	b.checkConsole()
	b.mu.Lock()
	for _, r := range b.requests {
		for _, secret := range []string{owner, tok, tok2} {
			if strings.Contains(r.URL, secretPart(secret)) {
				t.Errorf("the page sent a token in a URL: %s %s", r.Method, r.URL)
			}
		}
	}
	t.Logf("the page sent %d requests, none with a token in its URL", len(b.requests))
	b.mu.Unlock()
	for _, secret := range []string{owner, tok, tok2} {
		if strings.Contains(logs.String(), secretPart(secret)) {
			t.Error("a token appeared in the server's logs")
		}
	}
	t.Logf("%d screenshots in %s; browser test took %s", b.n, b.shots, time.Since(started).Round(time.Millisecond))
}

// keyboardCreate checks the labels of the create form and creates a key with
// key events only.
func (b *browserTab) keyboardCreate(c client, owner string) {
	t := b.t
	b.do("open the create form",
		chromedp.Navigate(b.base+"/dashboard/organizations/api-keys/create"),
		chromedp.WaitVisible(tid("key-form")),
		chromedp.WaitVisible(tid("area-projects-none")),
	)
	b.checkLabels("empty create form")
	b.do("show the custom date", chromedp.Click(tid("expiry-custom")), chromedp.WaitVisible(tid("expiry-custom-date")))
	b.checkLabels("create form with a custom date")
	b.do("start again",
		chromedp.Reload(),
		chromedp.WaitVisible(tid("key-form")),
		chromedp.WaitVisible(tid("area-projects-none")),
	)

	// Tab through the whole form: every control reached has a name.
	visited := b.tabTo("submit-key", 400, true)
	for _, want := range []string{"key-name", "preset-read-only", "allow-all", "permission-search", "area-secrets-none", "expiry-30d", "submit-key"} {
		found := false
		for _, f := range visited {
			found = found || f.TestID == want
		}
		if !found {
			t.Errorf("Tab never reaches %s on the create form", want)
		}
	}
	t.Logf("Tab reached %d controls of the create form, each with an accessible name", len(visited))

	// A small create with the keyboard only.
	b.do("start again",
		chromedp.Reload(),
		chromedp.WaitVisible(tid("key-form")),
		chromedp.WaitVisible(tid("area-projects-none")),
	)
	b.tabTo("key-name", 40, false)
	b.do("type the name", chromedp.KeyEvent("Keyboard key"))
	b.tabTo("permission-search", 200, false)
	b.do("search for the permission", chromedp.KeyEvent("Read projects"), chromedp.WaitVisible(tid("perm-projects:read")))
	b.tabTo("perm-projects:read", 200, false)
	b.do("check projects:read with Space", chromedp.KeyEvent(" "))
	if !value(b, "read the checkbox", chromedp.Evaluate[bool](`document.querySelector('[data-testid="perm-projects:read"]').checked`)) {
		b.fail("check projects:read with Space", errors.New("Space did not check the permission"))
	}
	b.tabTo("expiry-30d", 200, false)
	b.do("choose 60 days with the arrow key", chromedp.KeyEvent(kb.ArrowDown))
	if !value(b, "read the radio", chromedp.Evaluate[bool](`document.querySelector('[data-testid="expiry-60d"]').checked`)) {
		b.fail("choose 60 days with the arrow key", errors.New("ArrowDown did not choose 60 days"))
	}
	b.shot("create-keyboard")
	b.tabTo("submit-key", 100, false)
	b.do("submit with Enter",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(tid("token-dialog")),
	)
	if f := b.active(); f.TestID != "copy-token" {
		t.Errorf("the token dialog did not take the focus (focus on %+v)", f)
	}
	tok := value(b, "read the token", chromedp.Value(tid("token-value")))
	b.do("close the dialog with Escape",
		chromedp.KeyEvent(kb.Escape),
		// Not copied: the first Escape asks, the second closes.
		chromedp.WaitVisible(tid("close-confirm")),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(tid("token-dialog")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="key-name-heading"]')?.textContent.trim() === "Keyboard key"`),
	)
	loc := value(b, "read the key page's address", chromedp.Location())
	id := loc[strings.LastIndex(loc, "/")+1:]
	r := c.must(200, "GET", "/v1/api-keys/"+id, owner, "")
	perms, _ := r.body["permissions"].([]any)
	if r.s("name") != "Keyboard key" || len(perms) != 1 || perms[0].(map[string]any)["permission"] != "projects:read" {
		t.Errorf("the key made with the keyboard is %s", r.raw)
	}
	if exp, err := time.Parse(time.RFC3339, r.s("expires_at")); err != nil || time.Until(exp) < 59*24*time.Hour || time.Until(exp) > 61*24*time.Hour {
		t.Errorf("the key made with the keyboard expires at %q, want in 60 days", r.s("expires_at"))
	}
	if v := c.verify(tok, "", ""); v.s("code") != "ok" {
		t.Errorf("the token of the key made with the keyboard does not verify: %s", v.raw)
	}
	b.noSecret("after the keyboard create", tok, owner)
}

// findChromium answers the path of the Chromium to drive (package
// chromium decides, as for `make system-tools`); its absence fails the
// test, which never skips.
func findChromium(t *testing.T) string {
	t.Helper()
	p, err := chromium.Find()
	if err != nil {
		t.Fatalf("%v: the browser tests need one (make test, or make tools, installs Debian's chromium; or set $CHROMIUM)", err)
	}
	return p
}

// browserTab is one headless Chromium tab on the dashboard.
type browserTab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int

	mu       sync.Mutex
	console  []chromedp.ConsoleMessage
	requests []sentRequest
}

// sentRequest is a request the page sent.
type sentRequest struct {
	Method, URL string
	Headers     map[string]string // names in lower case
}

func startBrowser(t *testing.T, chrome, base string) *browserTab {
	t.Helper()
	shots := screenshotDir(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Do starts the browser and binds it to ctx: no timeout here.
	startErr := make(chan error, 1)
	go func() { startErr <- chromedp.Do(ctx) }()
	select {
	case err := <-startErr:
		if err != nil {
			t.Fatalf("cannot start Chromium (%s): %v; make tools installs Debian's chromium", chrome, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Chromium (%s) did not start within 30s; make tools installs Debian's chromium", chrome)
	}
	b := &browserTab{t: t, ctx: ctx, base: base, shots: shots}
	messages := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			r := sentRequest{Method: ev.Request.Method, URL: ev.Request.URL, Headers: map[string]string{}}
			for k, v := range ev.Request.Headers {
				r.Headers[strings.ToLower(k)] = fmt.Sprint(v)
			}
			b.mu.Lock()
			b.requests = append(b.requests, r)
			b.mu.Unlock()
		}
	}()
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// screenshotDir is testoutput/screenshots at the repository root, without
// the previous run's files.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root, err := proctest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "testoutput", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Drop the previous run's pictures and failure dumps, once per run: the
	// browser tests of one run all write here.
	wipeScreenshots.Do(func() {
		for _, pattern := range []string{"*.png", "*.html"} {
			old, _ := filepath.Glob(filepath.Join(dir, pattern))
			for _, f := range old {
				_ = os.Remove(f)
			}
		}
	})
	return dir
}

// wipeScreenshots empties testoutput/screenshots once per test run.
var wipeScreenshots sync.Once

// tid selects the element with a data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

const stepTimeout = 60 * time.Second

// do runs the actions of one step, or fails the test with the page saved.
func (b *browserTab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// value runs one action that answers a value, or fails the test.
func value[T any](b *browserTab, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// fail saves the page's HTML and a screenshot, then stops the test.
func (b *browserTab) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	name := "FAILED-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(step))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	html, herr := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if herr == nil {
		_ = os.WriteFile(filepath.Join(b.shots, name+".html"), []byte(html), 0o644)
	}
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		_ = os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
	}
	b.mu.Lock()
	var console []string
	for _, m := range b.console {
		console = append(console, string(m.Type)+": "+m.Text)
	}
	b.mu.Unlock()
	if len(html) > 30000 {
		html = html[:30000] + "\n[... cut: the whole page is in the .html file]"
	}
	b.t.Fatalf("browser step %q failed at %s: %v\npage saved as %s.{html,png} in %s\nconsole:\n%s\nHTML:\n%s",
		step, loc, err, name, b.shots, strings.Join(console, "\n"), html)
}

// request answers the last request the page sent with this method and URL,
// waiting a little for its event.
func (b *browserTab) request(method, url string) (sentRequest, bool) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b.mu.Lock()
		for i := len(b.requests) - 1; i >= 0; i-- {
			if r := b.requests[i]; r.Method == method && r.URL == url {
				b.mu.Unlock()
				return r, true
			}
		}
		b.mu.Unlock()
	}
	return sentRequest{}, false
}

// shotDialog saves what the window shows (a modal dialog over the page).
func (b *browserTab) shotDialog(name string) {
	b.t.Helper()
	png := value(b, "screenshot "+name, chromedp.CaptureScreenshot())
	b.n++
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// shot saves a full-page screenshot named after the page.
func (b *browserTab) shot(name string) {
	b.t.Helper()
	png := value(b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.n++
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// chooseOption picks an option of a <select> by value or by its text and
// sends the change event, as a user's choice does.
func (b *browserTab) chooseOption(step, testID, optValue, text string) {
	b.t.Helper()
	js := fmt.Sprintf(`(async () => {
		const sel = %q, value = %q, text = %q;
		for (let i = 0; i < 100; i++) {
			const el = document.querySelector(sel);
			const opt = el && [...el.options].find(o => value ? o.value === value : o.textContent.trim() === text);
			if (opt && !el.disabled) {
				el.value = opt.value;
				el.dispatchEvent(new Event("input", {bubbles: true}));
				el.dispatchEvent(new Event("change", {bubbles: true}));
				return opt.value;
			}
			await new Promise(r => setTimeout(r, 100));
		}
		return "";
	})()`, `[data-testid="`+testID+`"]`, optValue, text)
	if got := value(b, step, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise)); got == "" {
		b.fail(step, fmt.Errorf("no option %q%q in %s", optValue, text, testID))
	}
}

// explore sends one call of the route (an operation of the catalog) and
// waits for the shown status.
func (b *browserTab) explore(operation, status string) {
	b.t.Helper()
	b.chooseOption("choose the route "+operation, "explorer-route", operation, "")
	b.do("send "+operation,
		chromedp.Click(tid("explorer-send")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="explorer-status"][data-status="`+status+`"]`)),
	)
	shown := value(b, "read the status", chromedp.Text(tid("explorer-status")))
	if !strings.HasPrefix(shown, status) {
		b.t.Errorf("the explorer shows %q for %s, want %s", shown, operation, status)
	}
	b.t.Logf("explorer: %s answered %q", operation, shown)
}

// noSecret checks that a token is nowhere in the page: not in the DOM, the
// storages, the address, history state or any history entry. The owner
// token is expected in sessionStorage only (the signed-in session).
func (b *browserTab) noSecret(when, tok, owner string) {
	b.t.Helper()
	type pageState struct {
		HTML            string `json:"html"`
		Local           string `json:"local"`
		Session         string `json:"session"`
		Href            string `json:"href"`
		State           string `json:"state"`
		Title           string `json:"title"`
		Cookie          string `json:"cookie"`
		InputsWithTok   int    `json:"inputsWithTok"`
		SessionHasOwner bool   `json:"sessionHasOwner"`
	}
	js := fmt.Sprintf(`(() => {
		const dump = (s) => { const o = {}; for (let i = 0; i < s.length; i++) { const k = s.key(i); o[k] = s.getItem(k); } return JSON.stringify(o); };
		const tok = %q, owner = %q;
		return {
			html: document.documentElement.outerHTML,
			local: dump(localStorage),
			session: dump(sessionStorage),
			href: location.href,
			state: JSON.stringify(history.state),
			title: document.title,
			cookie: document.cookie,
			inputsWithTok: [...document.querySelectorAll("input, textarea")].filter(e => e.value.includes(tok)).length,
			sessionHasOwner: Object.values(JSON.parse(dump(sessionStorage))).includes(owner),
		};
	})()`, secretPart(tok), owner)
	st := value(b, "read the page's state "+when, chromedp.Evaluate[pageState](js))
	secret := secretPart(tok)
	for what, v := range map[string]string{
		"the DOM (outerHTML)": st.HTML, "localStorage": st.Local, "sessionStorage": st.Session,
		"location.href": st.Href, "history.state": st.State, "document.title": st.Title, "document.cookie": st.Cookie,
	} {
		if strings.Contains(v, secret) {
			b.fail("token "+when, fmt.Errorf("the key's token is in %s", what))
		}
	}
	if st.InputsWithTok != 0 {
		b.fail("token "+when, fmt.Errorf("the key's token is in the value of %d fields", st.InputsWithTok))
	}
	if strings.Contains(st.Local, secretPart(owner)) || !st.SessionHasOwner {
		b.fail("token "+when, fmt.Errorf("the signed-in token must be in sessionStorage only (localStorage %s)", st.Local))
	}
	hist := value(b, "read the history "+when, chromedp.NavigationEntries())
	for _, e := range hist.Entries {
		if strings.Contains(e.URL, secret) || strings.Contains(e.Title, secret) || strings.Contains(e.URL, secretPart(owner)) {
			b.fail("token "+when, fmt.Errorf("a history entry holds a token: %s", e.URL))
		}
	}
}

// focused describes the element that has the focus.
type focused struct {
	Tag    string `json:"tag"`
	Type   string `json:"type"`
	TestID string `json:"testid"`
	ID     string `json:"id"`
	Name   string `json:"name"` // accessible name: aria-labelledby, aria-label, <label>, text
}

const accessibleName = `
	const accName = (el) => {
		const ids = el.getAttribute("aria-labelledby");
		if (ids) {
			const t = ids.split(/\s+/).map(i => document.getElementById(i)?.textContent.trim() ?? "").join(" ").trim();
			if (t) return t;
		}
		const al = el.getAttribute("aria-label")?.trim();
		if (al) return al;
		if (el.labels && el.labels.length) {
			const t = [...el.labels].map(l => l.textContent.trim()).join(" ").trim();
			if (t) return t;
		}
		if (["BUTTON", "A", "SUMMARY"].includes(el.tagName)) return el.textContent.trim() || el.title || "";
		return "";
	};`

func (b *browserTab) active() focused {
	return value(b, "read the focus", chromedp.Evaluate[focused](`(() => {`+accessibleName+`
		const el = document.activeElement;
		if (!el || el === document.body) return {tag: "BODY", type: "", testid: "", id: "", name: ""};
		return {tag: el.tagName, type: el.type ?? "", testid: el.dataset.testid ?? "", id: el.id, name: accName(el)};
	})()`))
}

// tabTo presses Tab until the control with the data-testid has the focus;
// with check, every control passed must have an accessible name. It answers
// the controls passed.
func (b *browserTab) tabTo(testID string, presses int, check bool) []focused {
	b.t.Helper()
	var seen []focused
	for range presses {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		f := b.active()
		seen = append(seen, f)
		if check && f.Tag != "BODY" && f.Name == "" {
			b.t.Errorf("Tab reaches a %s (type %q, data-testid %q, id %q) with no accessible name", f.Tag, f.Type, f.TestID, f.ID)
		}
		if f.TestID == testID {
			return seen
		}
	}
	b.fail("Tab to "+testID, fmt.Errorf("%d presses of Tab never reached %s; passed %+v", presses, testID, seen))
	return nil
}

// checkLabels checks that every visible form control of the page has an
// associated <label>, aria-label or aria-labelledby, and every button a name.
func (b *browserTab) checkLabels(when string) {
	b.t.Helper()
	type unlabeled struct {
		Tag    string `json:"tag"`
		TestID string `json:"testid"`
		ID     string `json:"id"`
	}
	type result struct {
		Checked   int         `json:"checked"`
		Unlabeled []unlabeled `json:"unlabeled"`
	}
	r := value(b, "check the labels of the "+when, chromedp.Evaluate[result](`(() => {`+accessibleName+`
		const els = [...document.querySelectorAll("main input, main select, main textarea, main button, dialog input, dialog select, dialog textarea, dialog button")]
			.filter(el => el.type !== "hidden" && el.getClientRects().length > 0);
		return {
			checked: els.length,
			unlabeled: els.filter(el => !accName(el)).map(el => ({tag: el.tagName, testid: el.dataset.testid ?? "", id: el.id})),
		};
	})()`))
	if r.Checked == 0 {
		b.fail("check the labels of the "+when, errors.New("no form control found"))
	}
	for _, u := range r.Unlabeled {
		b.t.Errorf("%s: a %s (data-testid %q, id %q) has no label, aria-label or aria-labelledby", when, u.Tag, u.TestID, u.ID)
	}
	b.t.Logf("%s: %d controls, %d without an accessible name", when, r.Checked, len(r.Unlabeled))
}

// checkConsole fails on uncaught exceptions and Content-Security-Policy
// violations; other console messages are logged.
func (b *browserTab) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		switch {
		case m.IsException():
			b.t.Errorf("uncaught exception in the page: %s (%s:%d)", m.Text, m.URL, m.Line+1)
		case strings.Contains(m.Text, "Content Security Policy"):
			b.t.Errorf("CSP violation: %s", m.Text)
		default:
			b.t.Logf("console %s: %s", m.Type, m.Text)
		}
	}
}

// secretPart is the end of a token: "dotenv_" and the key id it starts with
// are shown on the pages on purpose, and the hint shows its last 4
// characters, so a leak is looked for by the last 24 characters.
func secretPart(tok string) string {
	if len(tok) < 40 {
		panic("a token shorter than 40 characters: " + tok)
	}
	return tok[len(tok)-24:]
}
