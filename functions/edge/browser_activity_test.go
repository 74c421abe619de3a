package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
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
	b.checkConsole()
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
	b.checkConsole()
}

// TestBrowserActivity: the key page's activity after an edit (a sentence
// with the change from → to), and the organization activity page: in the
// navigation of a key holding audit_log:read, filters kept in the address
// across a reload, field errors, the CSV and NDJSON exports (the token in
// the Authorization header only) and Load more.
func TestBrowserActivity(t *testing.T) {
	axe := axeSource(t)
	b, c, owner, id, _, _, _, keyPage := activitySetup(t)
	c.must(200, "PATCH", "/v1/api-keys/"+id, owner, `{"name":"CI deploy (web)"}`)
	c.must(200, "POST", "/v1/api-keys/"+id+"/rotate", owner, "")
	b.do("reload the key page", chromedp.Navigate(keyPage), chromedp.WaitVisible(`[data-testid="key-activity"] [data-action="key.updated"]`))
	sentence := value(b, "read the edit's sentence", chromedp.Text(`[data-testid="key-activity"] [data-action="key.updated"] [data-testid="audit-sentence"]`))
	if !strings.Contains(sentence, "edited the API key “CI deploy (web)”") {
		t.Errorf("the edit reads %q", sentence)
	}
	changes := value(b, "read the edit's changes", chromedp.Text(`[data-testid="key-activity"] [data-action="key.updated"] [data-testid="audit-changes"]`))
	if !strings.Contains(changes, "Name: CI deploy") || !strings.Contains(changes, "CI deploy (web)") {
		t.Errorf("the edit's changes read %q, want the name from → to", changes)
	}
	if got := b.actions(); len(got) < 3 || got[0] != "key.rotated" {
		t.Errorf("the key's activity is %q, want newest first (key.rotated, key.updated, key.created)", got)
	}
	b.quality("key-activity", "CI deploy (web) · API key · DotEnv", axe, false)

	b.do("open the activity page",
		chromedp.Click(tid("nav-activity")),
		chromedp.WaitVisible(tid("activity-filters")),
		chromedp.WaitVisible(tid("activity")),
	)
	all := strings.Join(b.actions(), " ")
	for _, want := range []string{"key.rotated", "key.updated", "key.created"} {
		if !strings.Contains(all, want) {
			t.Errorf("the activity page shows %q, without %s", all, want)
		}
	}
	b.quality("activity", "Activity · DotEnv", axe, false)
	b.chooseOption("filter by action", "activity-action", "key.rotated", "")
	b.chooseOption("filter by key", "activity-key", id, "")
	b.do("apply the filters", chromedp.Click(tid("activity-apply")))
	b.waitActions([]string{"key.rotated"})
	if q := b.query(); q.Get("action") != "key.rotated" || q.Get("key_id") != id {
		t.Errorf("the address keeps the filters as %v", q)
	}
	b.do("reload the filtered page", chromedp.Reload(), chromedp.WaitVisible(tid("activity")))
	b.waitActions([]string{"key.rotated"})
	if got := value(b, "read the action filter", chromedp.Value(tid("activity-action"))); got != "key.rotated" {
		t.Errorf("after a reload the action filter shows %q", got)
	}
	b.quality("activity-filtered", "Activity · DotEnv", axe, false)

	// Exports: the same selection, the token in the Authorization header only.
	for _, f := range []struct{ id, accept string }{{"export-csv", "text/csv"}, {"export-ndjson", "application/x-ndjson"}} {
		b.do("export "+f.id, chromedp.Click(tid(f.id)))
		b.waitPrefix("export-status", "Saved audit-events-")
		sent, ok := b.request("GET", b.base+"/v1/audit-events?key_id="+url.QueryEscape(id)+"&action=key.rotated")
		if !ok {
			t.Errorf("%s: no GET /v1/audit-events with the selection was sent", f.id)
			continue
		}
		if sent.Headers["accept"] != f.accept || !strings.HasPrefix(sent.Headers["authorization"], "Bearer ") {
			t.Errorf("%s: sent Accept %q, Authorization present %v", f.id, sent.Headers["accept"], sent.Headers["authorization"] != "")
		}
	}

	// "Until" before "Since": the field says so, the address keeps the last good selection.
	b.do("set since after until",
		chromedp.SetValue(tid("activity-since"), "2026-11-29T10:00"),
		script(`document.querySelector('[data-testid="activity-since"]').dispatchEvent(new Event("input", {bubbles: true}))`),
		chromedp.SetValue(tid("activity-until"), "2026-11-28T10:00"),
		script(`document.querySelector('[data-testid="activity-until"]').dispatchEvent(new Event("input", {bubbles: true}))`),
		chromedp.Click(tid("activity-apply")),
		chromedp.WaitVisible(tid("activity-until-error")),
	)
	if q := b.query(); q.Get("since") != "" || q.Get("action") != "key.rotated" {
		t.Errorf("an invalid selection changed the address: %v", q)
	}
	b.quality("activity-errors", "Activity · DotEnv", axe, false)

	// Load more: more events than a page of 25.
	for i := range 30 {
		c.must(200, "PATCH", "/v1/api-keys/"+id, owner, fmt.Sprintf(`{"name":"CI deploy %d"}`, i))
	}
	b.do("open the unfiltered activity",
		chromedp.Navigate(b.base+"/dashboard/organizations/api-keys/activity"),
		chromedp.WaitVisible(tid("activity-more")),
	)
	before := len(b.actions())
	b.do("load more with the keyboard", chromedp.Focus(tid("activity-more")), chromedp.KeyEvent(kb.Enter))
	for deadline := time.Now().Add(5 * time.Second); len(b.actions()) <= before; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Load more did not add events (still %d)", before)
		}
	}
	b.checkConsole()
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

// waitPrefix waits until the element with the data-testid starts with prefix.
func (b *browserTab) waitPrefix(testID, prefix string) {
	b.t.Helper()
	js := fmt.Sprintf(`(async () => {
		for (let i = 0; i < 100; i++) {
			const t = document.querySelector('[data-testid=%q]')?.textContent.trim() ?? "";
			if (t.startsWith(%q)) return t;
			await new Promise(r => setTimeout(r, 100));
		}
		return document.querySelector('[data-testid=%q]')?.textContent ?? "(absent)";
	})()`, testID, prefix, testID)
	if got := value(b, "wait for "+testID, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise)); !strings.HasPrefix(got, prefix) {
		b.fail("wait for "+testID, fmt.Errorf("it shows %q, want it to start with %q", got, prefix))
	}
}

// actions answers the actions of the audit events shown, top first.
func (b *browserTab) actions() []string {
	return value(b, "read the events", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="audit-event"]')].map(e => e.dataset.action)`))
}

// waitActions waits until the events shown all have one of want's actions, and at least one shows.
func (b *browserTab) waitActions(want []string) {
	b.t.Helper()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got = b.actions()
		ok := len(got) > 0
		for _, a := range got {
			if !strings.Contains(" "+strings.Join(want, " ")+" ", " "+a+" ") {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.fail("wait for the events", fmt.Errorf("the page shows %q, want only %q", got, want))
		}
	}
}
