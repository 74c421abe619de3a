package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCards holds the key list to a phone's width (390 px) in
// headless Chromium against the real binary: each key is a stacked card with
// its name, what it can do, status, expiry, last use and every row action on
// screen, and the page never scrolls sideways; and the token dialog's
// snippet copy buttons each have their own accessible name.
func TestBrowserCards(t *testing.T) {
	chrome := findChromium(t)
	axe := axeSource(t)
	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner := bin.bootstrap("Cards Org")
	base, _ := bin.serve()
	c := client{t: t, base: base}
	_, _, _, _, prod, _ := c.sampleTree(owner)
	c.must(201, "POST", "/v1/api-keys", owner, `{"name":"CI deploy with a rather long name for a phone","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"`+prod+`"}},{"permission":"projects:read"}],"expiration":"30d"}`)
	c.must(201, "POST", "/v1/api-keys", owner, `{"name":"Billing reader","permissions":[{"permission":"billing:read"}],"expiration":"never"}`)

	b := startBrowser(t, chrome, base)
	b.do("sign in at 390 px",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/dashboard/organizations/api-keys"),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("key-table")),
	)
	b.rows("the list", nil)

	// Every card's parts and actions are inside the window; nothing scrolls sideways.
	type card struct {
		Name    string   `json:"name"`
		Parts   []string `json:"parts"`
		Actions []string `json:"actions"`
		Outside []string `json:"outside"`
	}
	type layout struct {
		ScrollWidth int    `json:"scrollWidth"`
		Cards       []card `json:"cards"`
	}
	l := value(b, "measure the cards", chromedp.Evaluate[layout](`(() => {
		const iw = window.innerWidth;
		const out = (el) => { const r = el.getBoundingClientRect(); return r.width === 0 || r.left < -0.5 || r.right > iw + 0.5; };
		return {
			scrollWidth: document.scrollingElement.scrollWidth,
			cards: [...document.querySelectorAll('[data-testid="key-row"]')].map(row => {
				const cells = [...row.querySelectorAll('th, td')];
				const buttons = [...row.querySelectorAll('.row-actions .button')];
				return {
					name: row.dataset.keyName,
					parts: cells.map(c => (c.dataset.label ?? "Name")),
					actions: buttons.map(a => a.dataset.testid),
					outside: [...cells, ...buttons].filter(out).map(e => e.dataset.testid || e.dataset.label || e.tagName),
				};
			}),
		};
	})()`))
	if l.ScrollWidth > 390 {
		t.Errorf("at 390 px the list is %d px wide: it scrolls sideways", l.ScrollWidth)
	}
	if len(l.Cards) != 3 {
		t.Fatalf("the list shows %d keys, want 3", len(l.Cards))
	}
	for _, cd := range l.Cards {
		for _, part := range []string{"Name", "Can do", "Status", "Expires", "Last used", "Actions"} {
			if !slices.Contains(cd.Parts, part) {
				t.Errorf("the card of %q has no %s (it has %q)", cd.Name, part, cd.Parts)
			}
		}
		for _, a := range []string{"row-show", "row-edit", "row-rotate", "row-explore", "row-delete"} {
			if !slices.Contains(cd.Actions, a) {
				t.Errorf("the card of %q has no %s action (it has %q)", cd.Name, a, cd.Actions)
			}
		}
		if len(cd.Outside) > 0 {
			t.Errorf("at 390 px parts of the card of %q are off screen: %q", cd.Name, cd.Outside)
		}
	}
	// The cards look like cards: one above the other, not side by side.
	tops := value(b, "read the cards' positions", chromedp.Evaluate[[]float64](
		`[...document.querySelectorAll('[data-testid="key-row"]')].map(r => r.getBoundingClientRect().top)`))
	for i := 1; i < len(tops); i++ {
		if tops[i] <= tops[i-1] {
			t.Errorf("card %d is not below card %d (tops %v)", i, i-1, tops)
		}
	}
	b.checkAxe("list at 390 px", axe)
	b.shot("list-cards-390")

	// The rotate row action works from a card; the token dialog's copy
	// buttons each name what they copy.
	b.do("rotate Billing reader from its card",
		chromedp.Click(b.rowAction("Billing reader", "row-rotate")),
		chromedp.WaitVisible(tid("rotate-dialog")),
		chromedp.Click(tid("confirm-rotate")),
		chromedp.WaitVisible(tid("token-dialog")),
	)
	names := value(b, "read the copy buttons' names", chromedp.Evaluate[map[string]string](`(() => {
		const o = {};
		for (const btn of document.querySelectorAll('[data-testid^="copy-snippet-"]')) {
			if (btn.tagName !== "BUTTON") continue;
			o[btn.dataset.testid] = btn.getAttribute("aria-label") ?? btn.textContent.trim();
		}
		return o;
	})()`))
	want := map[string]string{
		"copy-snippet-github": "Copy GitHub Actions command",
		"copy-snippet-gitlab": "Copy GitLab CI command",
		"copy-snippet-dotenv": "Copy .env line",
	}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("the snippet copy buttons are named %v, want %v", names, want)
	}
	b.checkAxe("token dialog at 390 px", axe)
	b.shotDialog("token-dialog-cards-390")
	b.checkConsole()
}
