package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserKey walks the key page, the token dialog and the explorer's
// "Can this key…?" checker in headless Chromium against the real binary: an
// expired key shows a banner and no edit or rotate, a grant on a deleted
// environment is flagged, rotating or deleting the signed-in key warns and
// the server's refusal is shown, the token dialog shows the token exactly once
// with CI snippets whose copy buttons alone carry it and asks once before
// closing uncopied, and the checker answers allowed and denied through
// POST /v1/verify. Screenshots at 390 and 1400 px land in
// testoutput/screenshots.
func TestBrowserKey(t *testing.T) {
	chrome := findChromium(t)
	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, ownerID, owner := bin.bootstrap("Key Page Org")
	base, _ := bin.serve()
	c := client{t: t, base: base}

	_, _, _, envs, prod, staging := c.sampleTree(owner)

	// A key that expires in a few seconds, and one scoped to staging, which is then deleted.
	soon := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	expiring := c.must(201, "POST", "/v1/api-keys", owner,
		`{"name":"short lived","permissions":[{"permission":"secrets:read","scope":null}],"expires_at":"`+soon+`"}`).s("id")
	orphan := c.must(201, "POST", "/v1/api-keys", owner,
		`{"name":"staging reader","expiration":"30d","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"`+staging+`"}},{"permission":"secrets:read","scope":{"level":"environment","id":"`+prod+`"}}]}`).s("id")
	c.must(204, "DELETE", envs+"/"+staging, owner, "")

	b := startBrowser(t, chrome, base)
	keyPage := base + "/dashboard/organizations/api-keys/"
	b.do("sign in",
		chromedp.Navigate(keyPage),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("key-table")),
	)

	// 1. The expired key: a banner that says what to do, no edit, no rotate.
	time.Sleep(time.Until(mustTime(t, soon)) + 500*time.Millisecond)
	b.do("open the expired key",
		chromedp.Navigate(keyPage+expiring),
		chromedp.WaitVisible(tid("key-name-heading")),
		chromedp.Reload(),
		chromedp.WaitVisible(tid("key-expired-banner")),
	)
	banner := value(b, "read the expired banner", chromedp.Text(tid("key-expired-banner")))
	if !strings.Contains(banner, "This key expired on") || !strings.Contains(banner, "can only be viewed or deleted") || !strings.Contains(banner, "Create a new key") {
		t.Errorf("the expired banner says %q", banner)
	}
	present := value(b, "look for the actions", chromedp.Evaluate[map[string]bool](`({
		edit: !!document.querySelector('[data-testid="edit-key"]'),
		rotate: !!document.querySelector('[data-testid="rotate-key"]'),
		remove: !!document.querySelector('[data-testid="delete-key"]'),
	})`))
	if present["edit"] || present["rotate"] || !present["remove"] {
		t.Errorf("an expired key offers %v; want delete only (no edit, no rotate)", present)
	}
	b.shotWidths("key-expired")

	// 2. A grant on a deleted environment is flagged; the live one is not.
	b.do("open the key with a deleted scope",
		chromedp.Navigate(keyPage+orphan),
		chromedp.WaitVisible(tid("key-deleted-scope-banner")),
	)
	flags := value(b, "count the flagged grants", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="grant-scope-deleted"]').length`))
	if flags != 1 {
		t.Errorf("%d grants are flagged as deleted, want 1 (staging deleted, production alive)", flags)
	}
	b.shotWidths("key-deleted-scope")

	// 3. The signed-in key: rotate and delete warn; the server refuses to delete the last owner key.
	b.do("open the signed-in key",
		chromedp.Navigate(keyPage+ownerID),
		chromedp.WaitVisible(tid("rotate-key")),
		chromedp.Click(tid("rotate-key")),
		chromedp.WaitVisible(tid("rotate-self-warning")),
	)
	b.shotDialog("rotate-self-warning")
	b.do("cancel the rotation",
		chromedp.Click(tid("cancel-rotate")),
		chromedp.WaitNotPresent(tid("rotate-dialog")),
		chromedp.Click(tid("delete-key")),
		chromedp.WaitVisible(tid("delete-self-warning")),
	)
	ownerName := value(b, "read the owner key's name", chromedp.Text(tid("key-name-heading")))
	b.do("try to delete the signed-in key",
		chromedp.SendKeys(tid("delete-confirm-name"), ownerName),
		chromedp.Click(tid("confirm-delete")),
		chromedp.WaitVisible(tid("delete-error")),
	)
	refusal := value(b, "read the refusal", chromedp.Text(tid("delete-error")))
	answer := c.call("DELETE", "/v1/api-keys/"+ownerID, owner, "")
	if answer.status != 409 || answer.s("detail") == "" || !strings.Contains(refusal, answer.s("detail")) {
		t.Errorf("deleting the last owner key shows %q; the server answers %d %s", refusal, answer.status, answer.raw)
	}
	b.shotDialog("delete-self-refused")
	b.do("cancel the deletion", chromedp.Click(tid("cancel-delete")), chromedp.WaitNotPresent(tid("delete-dialog")))

	// 4. The token dialog, after rotating the live key.
	b.do("rotate the live key",
		chromedp.Navigate(keyPage+orphan),
		chromedp.WaitVisible(tid("rotate-key")),
		chromedp.Click(tid("rotate-key")),
		chromedp.WaitVisible(tid("confirm-rotate")),
		chromedp.Click(tid("confirm-rotate")),
		chromedp.WaitVisible(tid("token-value")),
	)
	tok := value(b, "read the token", chromedp.Value(tid("token-value")))
	if !strings.HasPrefix(tok, "dotenv_") {
		b.fail("read the token", fmt.Errorf("the token dialog holds %d characters, not a DotEnv token", len(tok)))
	}
	secret := secretPart(tok)
	seen := value(b, "count the token on the page", chromedp.Evaluate[map[string]int](fmt.Sprintf(`(() => {
		const tok = %q, count = (s) => s.split(tok).length - 1;
		const el = document.querySelector('[data-testid="token-value"]');
		return {
			html: count(document.documentElement.outerHTML),
			text: count(document.body.innerText),
			fields: [...document.querySelectorAll("input, textarea")].reduce((n, e) => n + count(e.value), 0),
			wraps: el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 2 ? 1 : 0,
			mono: getComputedStyle(el).fontFamily.includes("monospace") ? 1 : 0,
		};
	})()`, secret)))
	if seen["html"]+seen["fields"] != 1 || seen["text"] > 1 {
		t.Errorf("the token appears %d times in the HTML, %d in the text and %d in fields; want exactly once", seen["html"], seen["text"], seen["fields"])
	}
	if seen["wraps"] != 1 || seen["mono"] != 1 {
		t.Errorf("the token is not shown whole in monospace (fits %d, monospace %d)", seen["wraps"], seen["mono"])
	}
	for id, want := range map[string]string{
		"snippet-github-text": "gh secret set DOTENV_API_KEY",
		"snippet-gitlab-text": "glab variable set DOTENV_API_KEY --masked",
		"snippet-dotenv-text": "DOTENV_API_KEY=",
	} {
		if got := value(b, "read "+id, chromedp.Text(tid(id))); !strings.Contains(got, want) || strings.Contains(got, secret) {
			t.Errorf("%s shows %q, want %q and no token", id, got, want)
		}
	}
	b.shotWidths("token-dialog-snippets")

	// Closing before copying asks once; going back keeps the dialog.
	b.do("close before copying",
		chromedp.Click(tid("close-token-dialog")),
		chromedp.WaitVisible(tid("close-confirm")),
	)
	ask := value(b, "read the question", chromedp.Text(tid("close-confirm")))
	if !strings.Contains(ask, "You have not copied the token: it will not be shown again. Close anyway?") {
		t.Errorf("closing before copying asks %q", ask)
	}
	b.shotDialog("token-dialog-close-confirm")
	b.do("go back to the token",
		chromedp.Click(tid("cancel-close-token")),
		chromedp.WaitNotPresent(tid("close-confirm")),
		chromedp.WaitVisible(tid("token-value")),
	)
	// A clipboard double records what the copy button writes.
	b.do("copy the GitHub snippet",
		script(`Object.defineProperty(navigator, "clipboard", {configurable: true, value: {writeText: async (t) => { window.__copied = t; }}})`),
		chromedp.Click(tid("copy-snippet-github")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="copy-snippet-github-status"]')?.textContent === "Copied"`),
	)
	copied := value(b, "read the clipboard", chromedp.Evaluate[string](`window.__copied || ""`))
	if copied != "gh secret set DOTENV_API_KEY --body '"+tok+"'" {
		t.Errorf("the GitHub snippet's copy button put %d characters on the clipboard, not the command with the token", len(copied))
	}
	b.do("close after copying (no question)",
		chromedp.Click(tid("close-token-dialog")),
		chromedp.WaitNotPresent(tid("token-dialog")),
		chromedp.WaitVisible(tid("key-name-heading")),
	)

	// 5. The explorer's checker, with the token pasted (never displayed).
	b.do("open the explorer",
		chromedp.Navigate(keyPage+orphan+"/explore"),
		chromedp.WaitVisible(tid("can-check")),
		chromedp.SendKeys(tid("explorer-token"), tok),
	)
	b.chooseOption("choose secrets:read", "can-permission", "secrets:read", "")
	b.chooseOption("choose production", "can-node", prod, "")
	b.do("check production",
		chromedp.Click(tid("can-check-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="can-check-result"][data-allowed="true"]`)),
		chromedp.ScrollIntoView(tid("can-check-result")),
	)
	b.shotWidths("explorer-check-allowed")
	b.chooseOption("choose the whole organization", "can-node", "organization", "")
	b.do("check the whole organization",
		chromedp.Click(tid("can-check-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="can-check-result"][data-allowed="false"]`)),
	)
	denied := value(b, "read the denial", chromedp.Text(tid("can-check-result")))
	if !strings.Contains(denied, "Denied") || !strings.Contains(denied, "secrets:read") {
		t.Errorf("the checker says %q for the whole organization, want denied with the missing permission", denied)
	}
	org := value(b, "read the organization option", chromedp.Evaluate[string](`document.querySelector('[data-testid="can-node"] option[value="organization"]').textContent`))
	if org != "Whole organization (Key Page Org)" {
		t.Errorf("the checker names the organization %q", org)
	}
	b.do("check without a permission",
		script(`const el = document.querySelector('[data-testid="can-permission"]'); el.value = ""; el.dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.Click(tid("can-check-submit")),
		chromedp.WaitVisible(tid("can-permission-error")),
		chromedp.WaitNotPresent(tid("can-check-result")),
		chromedp.ScrollIntoView(tid("can-check")),
	)
	b.shotWidths("explorer-check-invalid")
	html := value(b, "read the explorer's HTML", chromedp.Evaluate[string](`document.documentElement.outerHTML + document.body.innerText`))
	if strings.Contains(html, secret) {
		t.Error("the explorer displays the token")
	}
	b.checkConsole()
}

// script runs statements in the page, as a step.
func script(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("(() => { "+js+"; return true; })()")(ctx, t)
		return err
	})
}

// mustTime parses an RFC 3339 instant of the test.
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// shotWidths saves what the window shows at phone (390 px) and desktop
// (1400 px) widths, then goes back to the browser's own size.
func (b *browserTab) shotWidths(name string) {
	b.t.Helper()
	for _, w := range []int64{390, 1400} {
		b.do(fmt.Sprintf("resize to %d px", w), chromedp.EmulateViewport(w, 900), chromedp.Sleep(150*time.Millisecond))
		b.shotDialog(fmt.Sprintf("%s-%d", name, w))
	}
	b.do("reset the size", chromedp.EmulateReset())
}
