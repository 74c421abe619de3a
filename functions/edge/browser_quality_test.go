package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dotenv/apikeys/shared/proctest"
)

// The quality bar of issue 13 (docs: web/README.md), as helpers any browser
// test can call on the page it shows: checkAxe (axe-core, injected into the
// real headless Chromium), checkTitle (each page's own document.title),
// shotAtWidths (screenshots at a phone's and a desktop's width, with no
// horizontal overflow on the phone) and quality, which runs all three.

// screenshotWidths are the window widths every page is pictured at: a phone
// (390 px) and a desktop (1400 px).
var screenshotWidths = []int64{390, 1400}

// shotHeight is the window height used with every width.
const shotHeight = 900

// axeSource answers axe-core's axe.min.js from web/node_modules (npm
// `axe-core`, a devDependency of web/package.json); its absence fails the
// test with what to run.
func axeSource(t *testing.T) string {
	t.Helper()
	root := filepath.Dir(screenshotRoot(t))
	path := filepath.Join(root, "web", "node_modules", "axe-core", "axe.min.js")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `cd web && npm ci` (make test-go does it through make web-deps)", err)
	}
	return string(src)
}

// screenshotRoot answers testoutput at the repository root (the parent of
// the screenshots directory), without touching its files.
func screenshotRoot(t *testing.T) string {
	t.Helper()
	root, err := proctest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testoutput")
}

// axeViolation is one failed axe-core rule on the page.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
	Summary string   `json:"summary"`
}

// checkAxe runs axe-core on the whole document (a dialog included) and
// fails the test on every violation of serious or critical impact, naming
// its rule, impact and the elements; lesser ones are logged.
func (b *browserTab) checkAxe(page, axe string) {
	b.t.Helper()
	loaded := value(b, "load axe-core on "+page, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if !loaded {
		b.do("inject axe-core on "+page, chromedp.Evaluate[chromedp.Void](axe+"\n;void 0"))
	}
	js := `(async () => {
		const r = await axe.run(document, {resultTypes: ["violations"]});
		return r.violations.map(v => ({
			id: v.id, impact: v.impact ?? "", help: v.help,
			targets: v.nodes.map(n => n.target.join(" ")),
			summary: v.nodes[0]?.failureSummary ?? "",
		}));
	})()`
	found := value(b, "run axe-core on "+page, chromedp.Evaluate[[]axeViolation](js, chromedp.EvalAwaitPromise))
	bad := 0
	for _, v := range found {
		line := fmt.Sprintf("%s: axe rule %s (%s): %s; on %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			bad++
			b.t.Errorf("%s\n\t%s", line, strings.ReplaceAll(v.Summary, "\n", "\n\t"))
		} else {
			b.t.Log(line)
		}
	}
	b.t.Logf("%s: axe-core found %d violations, %d serious or critical", page, len(found), bad)
}

// colorScheme makes the page use its light or dark colors
// (prefers-color-scheme), as a system setting would.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// checkAxeSchemes runs checkAxe in the light colors, then in the dark ones
// (styles.css has both), and leaves the page light.
func (b *browserTab) checkAxeSchemes(page, axe string) {
	b.t.Helper()
	b.do("light colors on "+page, colorScheme("light"))
	b.checkAxe(page, axe)
	b.do("dark colors on "+page, colorScheme("dark"))
	if !value(b, "read the color scheme of "+page, chromedp.Evaluate[bool](`matchMedia("(prefers-color-scheme: dark)").matches`)) {
		b.fail("dark colors on "+page, errors.New("the page does not see prefers-color-scheme: dark"))
	}
	b.checkAxe(page+" (dark)", axe)
	b.do("light colors again on "+page, colorScheme("light"))
}

// checkTitle waits a little for document.title to become want.
func (b *browserTab) checkTitle(page, want string) {
	b.t.Helper()
	js := fmt.Sprintf(`(async () => {
		for (let i = 0; i < 50 && document.title !== %q; i++) await new Promise(r => setTimeout(r, 50));
		return document.title;
	})()`, want)
	if got := value(b, "read the title of "+page, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise)); got != want {
		b.t.Errorf("%s: document.title is %q, want %q", page, got, want)
	}
}

// overflow is what sticks out of the window sideways.
type overflow struct {
	ScrollWidth int      `json:"scrollWidth"`
	InnerWidth  int      `json:"innerWidth"`
	Wide        []string `json:"wide"`
}

// shotAtWidths saves a screenshot of the page (of the window only, with
// dialog: a modal dialog covers it) at each of screenshotWidths into
// testoutput/screenshots/<name>-<width>.png, and fails when the page is
// wider than a phone's window at 390 px. The window gets its size back.
func (b *browserTab) shotAtWidths(name string, dialog bool) {
	b.t.Helper()
	for _, w := range screenshotWidths {
		b.do(fmt.Sprintf("resize to %d px for %s", w, name),
			chromedp.EmulateViewport(w, shotHeight),
			chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise),
		)
		if w < 600 {
			o := value(b, "measure "+name, chromedp.Evaluate[overflow](`(() => {
				const el = document.scrollingElement, iw = window.innerWidth;
				// clipped: a scrolling or clipping ancestor holds it in; an
				// absolutely positioned element escapes the ones inside its
				// containing block's ancestor chain (as .sr-only text in a
				// table cell escapes an unpositioned .table-wrap).
				const clipped = (e) => {
					let pos = getComputedStyle(e).position;
					if (pos === "fixed") return false;
					for (let a = e.parentElement; a; a = a.parentElement) {
						const st = getComputedStyle(a);
						if (pos === "absolute" && st.position === "static") continue;
						pos = st.position === "static" || st.position === "relative" || st.position === "sticky" ? "static" : st.position;
						if (st.overflowX !== "visible") return true;
					}
					return false;
				};
				const wide = [...document.querySelectorAll("body *")]
					.filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > iw + 0.5; })
					.filter(e => !clipped(e))
					.slice(0, 8)
					.map(e => e.tagName.toLowerCase() + (e.dataset.testid ? '[data-testid="' + e.dataset.testid + '"]' : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " (right " + Math.round(e.getBoundingClientRect().right) + ")");
				const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
				for (let n = walk.nextNode(); n && wide.length < 8; n = walk.nextNode()) {
					const r = document.createRange(); r.selectNodeContents(n);
					const box = r.getBoundingClientRect();
					if (box.width === 0 || box.right <= iw + 0.5) continue;
					if (!clipped(n.parentElement) && getComputedStyle(n.parentElement).overflowX === "visible") wide.push("text " + JSON.stringify(n.textContent.trim().slice(0, 40)) + " in " + n.parentElement.tagName.toLowerCase() + (n.parentElement.className ? "." + String(n.parentElement.className).trim().split(/\s+/).join(".") : "") + " (right " + Math.round(box.right) + ")");
				}
				if (el.scrollWidth > iw && wide.length === 0) {
					// Nothing sticks out by its box: name the widest boxes
					// reaching the edge, margins included.
					for (const e of document.querySelectorAll("body *")) {
						const r = e.getBoundingClientRect(), st = getComputedStyle(e);
						const right = r.right + (parseFloat(st.marginRight) || 0);
						if (r.width > 0 && right > iw + 0.5 && !clipped(e) && wide.length < 8)
							wide.push(e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " (right " + Math.round(r.right) + " + margin " + st.marginRight + ")");
					}
				}
				return {scrollWidth: el.scrollWidth, innerWidth: iw, wide};
			})()`))
			if o.ScrollWidth > o.InnerWidth {
				b.t.Errorf("%s at %d px: the page is %d px wide, wider than the window (%d px); sticking out: %s",
					name, w, o.ScrollWidth, o.InnerWidth, strings.Join(o.Wide, ", "))
			}
		}
		var png []byte
		if dialog {
			png = value(b, "screenshot "+name, chromedp.CaptureScreenshot())
		} else {
			png = value(b, "screenshot "+name, chromedp.FullScreenshot(100))
		}
		if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do("restore the window size after "+name, chromedp.ResetViewport())
}

// quality checks the page (or open dialog) shown: its title, axe-core in
// the light and dark colors, and screenshots at both widths.
func (b *browserTab) quality(name, title, axe string, dialog bool) {
	b.t.Helper()
	b.checkTitle(name, title)
	b.checkAxeSchemes(name, axe)
	b.shotAtWidths(name, dialog)
}

// focusReturns opens a dialog by pressing Enter on the focused button,
// checks it with quality, closes it with Escape, and checks that the focus
// is back on the button.
func (b *browserTab) focusReturns(button, dialogID, title, axe string) {
	b.t.Helper()
	b.do("focus "+button,
		chromedp.Focus(tid(button)),
	)
	if f := b.active(); f.TestID != button {
		b.fail("focus "+button, fmt.Errorf("the focus is on %+v", f))
	}
	b.do("open "+dialogID+" with Enter",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(tid(dialogID)),
	)
	if f := b.active(); f.TestID == button || f.Tag == "BODY" {
		b.t.Errorf("%s did not take the focus (focus on %+v)", dialogID, f)
	}
	b.quality(dialogID, title, axe, true)
	b.do("close "+dialogID+" with Escape",
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(tid(dialogID)),
	)
	if f := b.active(); f.TestID != button {
		b.t.Errorf("after Escape closed %s the focus is on %+v, want the %s button", dialogID, f, button)
	}
}

// TestBrowserQuality holds every page and dialog of the dashboard to the
// quality bar of issue 13: no axe-core violation of serious or critical
// impact, its own document.title, no horizontal overflow at 390 px,
// screenshots at 390 and 1400 px in testoutput/screenshots, and the rotate
// and delete dialogs used with the keyboard only (Enter opens, Escape
// closes, the focus returns).
func TestBrowserQuality(t *testing.T) {
	chrome := findChromium(t)
	axe := axeSource(t)

	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner := bin.bootstrap("Quality Org")
	base, _ := bin.serve()
	c := client{t: t, base: base}
	team := c.must(201, "POST", "/v1/teams", owner, `{"name":"platform"}`).s("id")
	prj := c.must(201, "POST", "/v1/projects", owner, `{"name":"billing","team_id":"`+team+`"}`).s("id")
	tgt := c.must(201, "POST", "/v1/projects/"+prj+"/targets", owner, `{"name":"web"}`).s("id")
	c.must(201, "POST", "/v1/projects/"+prj+"/targets/"+tgt+"/environments", owner, `{"name":"production"}`)

	b := startBrowser(t, chrome, base)
	t.Logf("screenshots: %s/<page>-{390,1400}.png", b.shots)

	b.do("open the dashboard",
		chromedp.Navigate(base+"/dashboard/organizations/api-keys"),
		chromedp.WaitVisible(tid("signin-token")),
	)
	b.quality("sign-in", "Sign in · DotEnv", axe, false)
	b.do("sign in",
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("key-table")),
	)
	b.quality("list", "API keys · DotEnv", axe, false)

	b.do("open the create form",
		chromedp.Click(tid("create-key")),
		chromedp.WaitVisible(tid("key-form")),
		chromedp.WaitVisible(tid("area-secrets-custom")),
	)
	b.quality("create", "Create API key · DotEnv", axe, false)
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
	b.quality("create-filled", "Create API key · DotEnv", axe, false)

	// Submitting an empty name shows the field errors: they too pass.
	b.do("clear the name and submit",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="key-name"]').select()`),
		chromedp.KeyEvent(kb.Delete),
		chromedp.Click(tid("submit-key")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[aria-invalid="true"]') !== null`),
	)
	b.quality("create-errors", "Create API key · DotEnv", axe, false)
	b.do("name the key and create it",
		chromedp.SendKeys(tid("key-name"), "CI deploy"),
		chromedp.Click(tid("submit-key")),
		chromedp.WaitVisible(tid("token-dialog")),
		chromedp.WaitVisible(tid("token-value")),
	)
	tok := value(b, "read the token", chromedp.Value(tid("token-value")))
	b.quality("token-dialog", "Create API key · DotEnv", axe, true)
	b.do("close the token dialog",
		chromedp.Click(tid("close-token-dialog")),
		chromedp.WaitVisible(tid("close-confirm")),
	)
	b.quality("token-dialog-close-confirm", "Create API key · DotEnv", axe, true)
	b.do("confirm closing the token dialog",
		chromedp.Click(tid("confirm-close-token")),
		chromedp.WaitNotPresent(tid("token-dialog")),
		chromedp.WaitVisible(tid("key-name-heading")),
		chromedp.WaitVisible(tid("grant-scope")),
	)
	loc := value(b, "read the key page's address", chromedp.Location())
	id := loc[strings.LastIndex(loc, "/")+1:]
	b.quality("key", "CI deploy · API key · DotEnv", axe, false)

	// Keyboard only: Enter opens the rotate and delete dialogs, Escape
	// closes them and the focus comes back to their button.
	b.focusReturns("rotate-key", "rotate-dialog", "CI deploy · API key · DotEnv", axe)
	b.focusReturns("delete-key", "delete-dialog", "CI deploy · API key · DotEnv", axe)
	b.do("type the key's name in the delete dialog",
		chromedp.Click(tid("delete-key")),
		chromedp.WaitVisible(tid("delete-confirm-name")),
		chromedp.SendKeys(tid("delete-confirm-name"), "CI deploy"),
		chromedp.WaitEnabled(tid("confirm-delete")),
	)
	b.quality("delete-dialog-confirmed", "CI deploy · API key · DotEnv", axe, true)
	b.do("cancel the delete", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(tid("delete-dialog")))

	b.do("open the edit page",
		chromedp.Click(tid("edit-key")),
		chromedp.WaitVisible(tid("key-form")),
		chromedp.WaitVisible(tid("expiry-keep")),
	)
	b.quality("edit", "Edit CI deploy · API key · DotEnv", axe, false)

	b.do("open the explorer",
		chromedp.Navigate(base+"/dashboard/organizations/api-keys/"+id+"/explore"),
		chromedp.WaitVisible(tid("explorer-form")),
		chromedp.WaitVisible(tid("explorer-route")),
	)
	b.quality("explorer", "Explorer · CI deploy · API key · DotEnv", axe, false)
	b.do("paste the token", chromedp.SendKeys(tid("explorer-token"), tok))
	b.explore("listPermissions", "200")
	b.quality("explorer-response", "Explorer · CI deploy · API key · DotEnv", axe, false)
	b.explore("listKeys", "403")
	b.quality("explorer-forbidden", "Explorer · CI deploy · API key · DotEnv", axe, false)

	b.do("open an address that does not exist",
		chromedp.Navigate(base+"/dashboard/organizations/api-keys/"+id+"/nothing/here"),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
	b.quality("not-found", "Page not found · DotEnv", axe, false)

	b.checkConsole()
	shots, _ := filepath.Glob(filepath.Join(b.shots, "*-390.png"))
	if len(shots) == 0 {
		t.Error("no screenshot at 390 px was saved")
	}
	names := make([]string, 0, len(shots))
	for _, s := range shots {
		names = append(names, strings.TrimSuffix(filepath.Base(s), "-390.png"))
	}
	out, _ := json.Marshal(names)
	t.Logf("pages pictured at 390 and 1400 px: %s", out)
}
