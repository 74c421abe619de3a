package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserRevoked: a key whose token is self-reported as leaked (POST
// /v1/leaks through the test's HTTP client) shows Revoked in the list under
// the "Revoked" filter; its page says what happened (the report's url as
// text, not a link) and offers only Rotate (without grace) and Delete;
// rotating brings it back to active with a new token while the leaked one
// stays dead. Held to the quality bar.
func TestBrowserRevoked(t *testing.T) {
	axe := axeSource(t)
	b, c, owner, id, tok, prod, _, keyPage := activitySetup(t)
	const leakURL = "https://paste.example/abc?x=<b>1</b>"
	c.must(202, "POST", "/v1/leaks", "", `{"token":"`+tok+`","url":"`+leakURL+`","source":"paste"}`)
	if v := c.verify(tok, "secrets:read", prod); v.s("code") != "revoked" {
		t.Fatalf("after the leak report the token verifies as %q: %s", v.s("code"), v.raw)
	}

	// The list, filtered to revoked keys from the address: only this key, badge Revoked.
	base := strings.TrimSuffix(keyPage, "/api-keys/"+id) + "/api-keys"
	b.do("open the list filtered to revoked keys",
		chromedp.Navigate(base+"?filter=revoked"),
		chromedp.WaitVisible(tid("key-table")),
	)
	if !value(b, "read the revoked filter", chromedp.Evaluate[bool](`document.querySelector('[data-testid="filter-revoked"]').checked`)) {
		t.Error("the revoked filter is not ticked by ?filter=revoked")
	}
	rows := value(b, "read the rows", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="key-row"]')].map(r => r.dataset.keyName + ": " + r.querySelector('[data-testid="status-badge"]').textContent)`))
	if len(rows) != 1 || rows[0] != "CI deploy: Revoked" {
		t.Errorf("the revoked filter lists %q, want only CI deploy: Revoked", rows)
	}
	actions := value(b, "read the row's actions", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="key-row"] .row-actions [data-testid]')].map(e => e.dataset.testid)`))
	if strings.Join(actions, ",") != "row-show,row-rotate,row-delete" {
		t.Errorf("a revoked key's row offers %v, want show, rotate and delete", actions)
	}
	b.quality("list-revoked", "API keys · DotEnv", axe, false)
	// Keyboard: tick the filter off and on again with Space (the URL follows).
	b.do("untick revoked with Space", chromedp.Focus(tid("filter-revoked")), chromedp.KeyEvent(" "))
	b.do("tick revoked with Space", chromedp.KeyEvent(" "),
		chromedp.Poll[chromedp.Void](`location.search.includes("filter=revoked")`))

	// The key page: the banner, the report's url as text, Rotate and Delete only.
	b.do("open the key page", chromedp.Navigate(keyPage), chromedp.WaitVisible(tid("key-revoked-banner")))
	banner := value(b, "read the banner", chromedp.Text(tid("key-revoked-banner")))
	for _, want := range []string{"revoked on", "reported as leaked by a self-report", "Rotate this key to get a new token; the leaked token never works again", "paste"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the revoked banner %q does not say %q", banner, want)
		}
	}
	if got := value(b, "read the url", chromedp.Text(tid("revocation-url"))); got != leakURL {
		t.Errorf("the banner shows the url as %q, want %q as text", got, leakURL)
	}
	if n := value(b, "count links in the banner", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="key-revoked-banner"] a, [data-testid="key-revoked-banner"] b').length`)); n != 0 {
		t.Errorf("the banner holds %d links or markup from the report, want text only", n)
	}
	buttons := value(b, "read the actions", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.actions [data-testid]')].filter(e => !e.closest('[data-testid="previous-token"]')).map(e => e.dataset.testid)`))
	if strings.Join(buttons, ",") != "rotate-key,delete-key" {
		t.Errorf("a revoked key's page offers %v, want rotate-key and delete-key only", buttons)
	}
	if s := value(b, "read the status", chromedp.Text(tid("key-status"))); s != "Revoked" {
		t.Errorf("the key page says status %q", s)
	}
	b.quality("key-revoked", "CI deploy · API key · DotEnv", axe, false)

	// Rotate, keyboard only: no grace is offered for a leaked token.
	b.focusReturns("rotate-key", "rotate-dialog", "CI deploy · API key · DotEnv", axe)
	b.do("open the rotate dialog", chromedp.Click(tid("rotate-key")), chromedp.WaitVisible(tid("rotate-no-grace")))
	if n := value(b, "count grace choices", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="grace-choices"]').length`)); n != 0 {
		t.Error("the rotate dialog of a revoked key offers a grace period")
	}
	b.do("rotate", chromedp.Click(tid("confirm-rotate")), chromedp.WaitVisible(tid("token-dialog")))
	tok2 := value(b, "read the new token", chromedp.Value(tid("token-value")))
	b.do("close the token dialog",
		chromedp.Click(tid("close-token-dialog")),
		chromedp.WaitVisible(tid("close-confirm")),
		chromedp.Click(tid("confirm-close-token")),
		chromedp.WaitNotPresent(tid("token-dialog")),
		chromedp.WaitNotPresent(tid("key-revoked-banner")),
	)
	if s := value(b, "read the status", chromedp.Text(tid("key-status"))); s != "Active" {
		t.Errorf("after the rotation the key page says status %q, want Active", s)
	}
	key := c.must(200, "GET", "/v1/api-keys/"+id, owner, "")
	if key.s("status") != "active" || key.body["revocation"] != nil {
		t.Errorf("after the rotation the key is %q with revocation %v", key.s("status"), key.body["revocation"])
	}
	if v := c.verify(tok2, "secrets:read", prod); v.body["allowed"] != true {
		t.Errorf("the new token does not work: %s", v.raw)
	}
	if v := c.verify(tok, "secrets:read", prod); v.body["allowed"] == true {
		t.Errorf("the leaked token works again after the rotation: %s", v.raw)
	}
	b.do("the list under the revoked filter is empty now",
		chromedp.Navigate(base+"?"+url.Values{"filter": {"revoked"}}.Encode()),
		chromedp.WaitVisible(tid("no-match")),
	)
	b.noSecret("after the rotation of a revoked key", tok2, owner)
	b.checkConsole()
}
