package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserForm drives the create form's one-screen model against the real
// binary: a key scoped through the "where" tree and an area choice, the
// summary, the server's field error placed next to its area, and a narrower
// signed-in key whose form disables what it cannot give, with the reason.
func TestBrowserForm(t *testing.T) {
	started := time.Now()
	chrome := findChromium(t)

	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner := bin.bootstrap("Form Org")
	base, logs := bin.serve()
	c := client{t: t, base: base}

	_, prj, _, envs, prod, staging := c.sampleTree(owner)

	b := startBrowser(t, chrome, base)
	b.do("set a desktop width", chromedp.EmulateViewport(1400, 900))
	b.do("sign in as the owner",
		chromedp.Navigate(base+"/dashboard/organizations/api-keys"),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("key-table")),
	)

	// 1. Secrets "Read" on staging; staging is deleted before the submit, so
	// the server refuses permissions[i].scope.id and the form shows it next
	// to the Secrets area.
	b.do("open the create form",
		chromedp.Navigate(base+"/dashboard/organizations/api-keys/create"),
		chromedp.WaitVisible(tid("area-secrets-read")),
		chromedp.SendKeys(tid("key-name"), "Scoped CI"),
		chromedp.Click(tid("where-nodes")),
		chromedp.WaitVisible(tid("where-node-"+staging)),
		chromedp.Click(tid("where-node-"+staging)),
		chromedp.Click(tid("area-secrets-read")),
		chromedp.Click(tid("expiry-30d")),
	)
	summary := value(b, "read the summary", chromedp.Text(tid("summary")))
	if !strings.Contains(summary, "Read secrets: only in environment billing / web / staging") {
		t.Errorf("the summary does not say the key reads secrets on staging: %q", summary)
	}
	b.checkLabels("create form with the where tree")
	b.shot("form-where")
	c.must(204, "DELETE", envs+"/"+staging, owner, "")
	b.do("submit with a deleted environment",
		chromedp.Click(tid("submit-key")),
		chromedp.WaitVisible(`[data-testid="area-secrets"] [data-testid="area-error-secrets"]`),
		chromedp.WaitVisible(tid("form-error")),
	)
	if msg := value(b, "read the area's error", chromedp.Text(tid("area-error-secrets"))); !strings.Contains(msg, staging) {
		t.Errorf("the error next to Secrets is %q, want the server's message naming the environment", msg)
	}
	b.shot("form-server-error")

	// 2. The same key on production: three read permissions scoped there.
	b.do("choose production instead",
		chromedp.Click(tid("where-node-"+staging)),
		chromedp.Click(tid("where-node-"+prod)),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="area-secrets-read"]').checked`),
	)
	summary = value(b, "read the summary", chromedp.Text(tid("summary")))
	if !strings.Contains(summary, "production") || strings.Contains(summary, "staging") {
		t.Errorf("the summary after moving to production is %q", summary)
	}
	// Allowed networks: the server's error for allowed_cidrs[1] shows next
	// to the field with its line; then a valid loopback network.
	b.do("type networks, one with host bits set",
		chromedp.SendKeys(tid("key-networks"), "127.0.0.0/8\n10.0.0.1/8"),
		chromedp.Click(tid("submit-key")),
		chromedp.WaitVisible(tid("key-networks-error")),
	)
	if msg := value(b, "read the networks error", chromedp.Text(tid("key-networks-error"))); !strings.Contains(msg, "Line 2 (“10.0.0.1/8”)") || !strings.Contains(msg, "10.0.0.0/8") {
		t.Errorf("the error next to Allowed networks is %q, want line 2 and the server's message naming 10.0.0.0/8", msg)
	}
	b.shot("form-networks-error")
	b.do("keep the loopback network only",
		chromedp.SetValue(tid("key-networks"), "127.0.0.0/8"),
		script(`document.querySelector('[data-testid="key-networks"]').dispatchEvent(new Event("input", {bubbles: true}))`),
	)
	if summary = value(b, "read the summary", chromedp.Text(tid("summary"))); !strings.Contains(summary, "Usable only from the network 127.0.0.0/8.") {
		t.Errorf("the summary does not name the network: %q", summary)
	}
	b.do("create the key",
		chromedp.Click(tid("submit-key")),
		chromedp.WaitVisible(tid("token-dialog")),
	)
	scopedTok := value(b, "read the new token", chromedp.Value(tid("token-value")))
	b.do("close the token dialog",
		chromedp.Click(tid("close-token-dialog")),
		// Not copied: the dialog asks once before closing.
		chromedp.WaitVisible(tid("close-confirm")),
		chromedp.Click(tid("confirm-close-token")),
		chromedp.WaitVisible(tid("key-name-heading")),
	)
	loc := value(b, "read the key page's address", chromedp.Location())
	created := c.must(200, "GET", "/v1/api-keys/"+loc[strings.LastIndex(loc, "/")+1:], owner, "")
	for _, p := range []string{"secrets:read", "secrets:history", "encryption_keys:read"} {
		if !strings.Contains(created.raw, `"permission":"`+p+`","scope":{"level":"environment","id":"`+prod+`"`) {
			t.Errorf("the key made with Read on production lacks %s there: %s", p, created.raw)
		}
	}
	if n := strings.Count(created.raw, `"permission":`); n != 3 {
		t.Errorf("the key made with Read on production has %d grants, want 3: %s", n, created.raw)
	}
	if !strings.Contains(created.raw, `"allowed_cidrs":["127.0.0.0/8"]`) {
		t.Errorf("the key was not made with the network 127.0.0.0/8: %s", created.raw)
	}
	if got := value(b, "read the key page's networks", chromedp.Text(tid("key-networks"))); got != "127.0.0.0/8" {
		t.Errorf("the key page lists the networks as %q", got)
	}
	// The explorer answers whether the key may be used from the browser's address.
	b.do("explore the key",
		chromedp.Click(tid("explore-key")),
		chromedp.WaitVisible(tid("explorer-token")),
		chromedp.SendKeys(tid("explorer-token"), scopedTok),
	)
	b.explore("listPermissions", "200")
	if n := value(b, "read the network line", chromedp.Evaluate[string](`(() => { const e = document.querySelector('[data-testid="explorer-network"]'); return e.dataset.allowed + " " + e.textContent })()`)); !strings.HasPrefix(n, "true Network: Called from 127.0.0.1: inside the key's allowed networks (127.0.0.0/8).") {
		t.Errorf("the explorer's network line is %q", n)
	}
	b.shot("explorer-network")

	// The form at phone width: the summary is a bar that opens.
	b.do("open the form on a phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/dashboard/organizations/api-keys/create"),
		chromedp.WaitVisible(tid("area-secrets-read")),
		chromedp.Click(tid("area-billing-read")),
		chromedp.WaitVisible(tid("summary-toggle")),
		chromedp.Click(tid("summary-toggle")),
		chromedp.WaitVisible(`#summary-lines li`),
	)
	b.shotDialog("form-phone")
	b.do("back to a desktop width", chromedp.EmulateViewport(1400, 900))

	// 3. A narrower signed-in key: secrets:read on one project, 30 days.
	narrow := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"Narrow","expiration":"30d","permissions":[`+
		`{"permission":"secrets:read","scope":{"level":"project","id":"`+prj+`"}},`+
		`{"permission":"api_tokens:create"},{"permission":"api_tokens:read"}]}`).s("token")
	b.do("sign in with the narrower key",
		chromedp.Click(tid("sign-out")),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), narrow),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("org-name")),
		chromedp.Navigate(base+"/dashboard/organizations/api-keys/create"),
		chromedp.WaitVisible(tid("area-billing-read")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="expiry-until"]')?.checked === true`),
	)
	disabled := value(b, "read the disabled controls", chromedp.Evaluate[map[string]bool](`({
		allowAll: document.querySelector('[data-testid="allow-all"]').disabled,
		billingRead: document.querySelector('[data-testid="area-billing-read"]').disabled,
		secretsWrite: document.querySelector('[data-testid="area-secrets-write"]').disabled,
		d30: document.querySelector('[data-testid="expiry-30d"]').disabled,
		never: document.querySelector('[data-testid="expiry-never"]').disabled,
	})`))
	for what, d := range disabled {
		if !d {
			t.Errorf("with a narrower signed-in key, %s is not disabled", what)
		}
	}
	if why := value(b, "read the reason", chromedp.Text(tid("area-why-billing-read"))); why != "Your key cannot give “Read billing” across the whole organization." {
		t.Errorf("the reason next to Billing / Read is %q", why)
	}
	if why := value(b, "read the expiry reason", chromedp.Text(tid("expiry-why-30d"))); !strings.Contains(why, "Past your key's own expiry") {
		t.Errorf("the reason next to 30 days is %q", why)
	}
	b.shot("form-narrow-key")

	b.checkConsole()
	for _, secret := range []string{owner, narrow} {
		if strings.Contains(logs.String(), secretPart(secret)) {
			t.Error("a token appeared in the server's logs")
		}
	}
	t.Logf("%d screenshots in %s; browser form test took %s", b.n, b.shots, time.Since(started).Round(time.Millisecond))
}
