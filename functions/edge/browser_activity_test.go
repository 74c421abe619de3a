package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// activitySetup starts the binary with the sample directory and a key
// "CI deploy" (secrets:read on production), and signs the browser in with
// the owner token on that key's page.
func activitySetup(t *testing.T) (b *browserTab, c client, owner, id, tok, prod, staging, keyPage string) {
	t.Helper()
	chrome := findChromium(t)
	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner = bin.bootstrap("Activity Org")
	base, _ := bin.serve()
	c = client{t: t, base: base}
	_, _, _, _, prod, staging = c.sampleTree(owner)
	created := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"CI deploy","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"`+prod+`"}}],"expiration":"30d"}`)
	id, tok = created.s("id"), created.s("token")
	b = startBrowser(t, chrome, base)
	keyPage = base + "/dashboard/organizations/api-keys/" + id
	b.do("sign in",
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate(keyPage),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("key-name-heading")),
	)
	return b, c, owner, id, tok, prod, staging, keyPage
}

// TestBrowserUsage: the key page's usage panel after real verifications
// (3 allowed, 2 denied as forbidden), its chart's text alternative and the
// last use's address; held to the quality bar.
func TestBrowserUsage(t *testing.T) {
	axe := axeSource(t)
	b, c, _, _, tok, prod, staging, keyPage := activitySetup(t)
	for range 3 {
		if v := c.verify(tok, "secrets:read", prod); v.body["allowed"] != true {
			t.Fatalf("the key is not allowed on production: %s", v.raw)
		}
	}
	for range 2 {
		if v := c.verify(tok, "secrets:read", staging); v.body["allowed"] != false {
			t.Fatalf("the key is allowed on staging: %s", v.raw)
		}
	}
	// The binary writes its counters in the background: reload until they show.
	b.waitUsage(keyPage, "3", "2")
	summary := value(b, "read the usage summary", chromedp.Text(tid("usage-summary")))
	if !strings.Contains(summary, "3 verifications allowed and 2 denied (2 not permitted)") {
		t.Errorf("the usage summary says %q", summary)
	}
	if label := value(b, "read the chart's name", chromedp.Evaluate[string](`(() => {
		const svg = document.querySelector('[data-testid="usage-chart"]');
		return svg.getAttribute("role") + ": " + document.getElementById(svg.getAttribute("aria-labelledby")).textContent;
	})()`)); label != "img: "+summary {
		t.Errorf("the chart's text alternative is %q, want the summary", label)
	}
	if ip := value(b, "read the last use's address", chromedp.Text(tid("usage-last-use-ip"))); ip == "" {
		t.Error("the usage panel shows no address for the last use")
	}
	b.do("open the table of days", script(`document.querySelector(".usage-days").open = true`))
	b.quality("key-usage", "CI deploy · API key · DotEnv", axe, false)
	// No checkConsole yet: the key page's activity panel calls
	// GET /v1/audit-events, not on main yet (404).
}

// TestBrowserGrace: rotate with a one-hour grace from the key page (the
// previous token keeps working, the key page shows its hint, end and last
// use), then "End grace now" (asked first) stops it; dialogs used with the
// keyboard and held to the quality bar.
func TestBrowserGrace(t *testing.T) {
	axe := axeSource(t)
	b, c, owner, id, tok, prod, _, keyPage := activitySetup(t)
	b.do("open the rotate dialog", chromedp.Click(tid("rotate-key")), chromedp.WaitVisible(tid("grace-choices")))
	b.do("choose a one-hour grace",
		chromedp.Click(tid("grace-1h")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="rotate-consequence"]').textContent.includes("keeps working for 1 hour")`),
	)
	b.quality("rotate-dialog-grace", "CI deploy · API key · DotEnv", axe, true)
	b.do("rotate", chromedp.Click(tid("confirm-rotate")), chromedp.WaitVisible(tid("token-dialog")))
	tok2 := value(b, "read the new token", chromedp.Value(tid("token-value")))
	if dlg := value(b, "read the token dialog", chromedp.Text(tid("token-dialog"))); !strings.Contains(dlg, "The previous token keeps working until") {
		t.Errorf("the token dialog does not say until when the previous token works: %q", dlg)
	}
	b.do("close the token dialog",
		chromedp.Click(tid("close-token-dialog")),
		chromedp.WaitVisible(tid("close-confirm")),
		chromedp.Click(tid("confirm-close-token")),
		chromedp.WaitNotPresent(tid("token-dialog")),
		chromedp.WaitVisible(tid("previous-token")),
	)
	if v := c.verify(tok, "secrets:read", prod); v.body["allowed"] != true || v.body["previous_token"] != true {
		t.Fatalf("during the grace the previous token does not verify as the previous token: %s", v.raw)
	}
	if v := c.verify(tok2, "secrets:read", prod); v.body["allowed"] != true {
		t.Fatalf("the new token does not work: %s", v.raw)
	}
	key := c.must(200, "GET", "/v1/api-keys/"+id, owner, "")
	if hint := value(b, "read the previous token's hint", chromedp.Text(tid("previous-token-hint"))); hint != key.s("previous_token_hint") || hint == "" {
		t.Errorf("the key page shows the previous token as %q, the API as %q", hint, key.s("previous_token_hint"))
	}
	if got := value(b, "read the grace's end", chromedp.Evaluate[string](`document.querySelector('[data-testid="previous-token-expires"] time')?.getAttribute("datetime") ?? ""`)); got != key.s("previous_token_expires_at") {
		t.Errorf("the key page shows the grace ending at %q, the API at %q", got, key.s("previous_token_expires_at"))
	} else if until := mustTime(t, got); time.Until(until) < 55*time.Minute || time.Until(until) > 61*time.Minute {
		t.Errorf("the grace ends at %s, want in one hour", until)
	}
	// The previous token's use (just above) shows, after a reload (the
	// binary writes last uses in the background).
	b.waitText2(keyPage, "previous-token-last-use", "from ")
	b.quality("key-grace", "CI deploy · API key · DotEnv", axe, false)

	b.focusReturns("end-grace", "end-grace-dialog", "CI deploy · API key · DotEnv", axe)
	b.do("end the grace",
		chromedp.Click(tid("end-grace")),
		chromedp.WaitVisible(tid("confirm-end-grace")),
		chromedp.Click(tid("confirm-end-grace")),
		chromedp.WaitNotPresent(tid("end-grace-dialog")),
		chromedp.WaitVisible(tid("flash")),
		chromedp.WaitNotPresent(tid("previous-token")),
	)
	if v := c.verify(tok, "", ""); v.s("code") != "not_found" {
		t.Errorf("after ending the grace the previous token verifies: %s", v.raw)
	}
	if v := c.verify(tok2, "secrets:read", prod); v.body["allowed"] != true {
		t.Errorf("ending the grace stopped the new token: %s", v.raw)
	}
	b.noSecret("after the grace", tok2, owner)
	// No checkConsole yet: the key page's activity panel calls
	// GET /v1/audit-events, not on main yet (404).
}

// waitUsage reloads the key page until its usage panel shows these totals
// (the binary writes its counters in the background).
func (b *browserTab) waitUsage(page, allowed, denied string) {
	b.t.Helper()
	var got [2]string
	for deadline := time.Now().Add(40 * time.Second); ; {
		b.do("wait for the usage panel", chromedp.WaitVisible(tid("usage-allowed")))
		got[0] = value(b, "read allowed", chromedp.Text(tid("usage-allowed")))
		got[1] = value(b, "read denied", chromedp.Text(tid("usage-denied")))
		if got[0] == allowed && got[1] == denied {
			return
		}
		if time.Now().After(deadline) {
			b.fail("wait for the usage", fmt.Errorf("the usage panel shows %s allowed, %s denied; want %s and %s", got[0], got[1], allowed, denied))
		}
		time.Sleep(500 * time.Millisecond)
		b.do("reload the key page", chromedp.Navigate(page), chromedp.WaitVisible(tid("usage")))
	}
}

// waitText2 reloads page until the element with the data-testid contains text.
func (b *browserTab) waitText2(page, testID, text string) {
	b.t.Helper()
	for deadline := time.Now().Add(40 * time.Second); ; {
		got := value(b, "read "+testID, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector('[data-testid=%q]')?.textContent ?? ""`, testID)))
		if strings.Contains(got, text) {
			return
		}
		if time.Now().After(deadline) {
			b.fail("wait for "+testID, fmt.Errorf("it shows %q, want it to contain %q", got, text))
		}
		time.Sleep(500 * time.Millisecond)
		b.do("reload", chromedp.Navigate(page), chromedp.WaitVisible(tid(testID)))
	}
}
