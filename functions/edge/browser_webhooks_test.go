package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserWebhooks manages a webhook endpoint from the dashboard against
// the real binary, with a loopback receiver that checks every delivery's
// signature with the Standard Webhooks library: the form's field errors
// (its own and the server's) at once; the signing secret shown once (closing
// before copying asks) and proven real by the receiver; a failed delivery
// (HTTP 500) on the endpoint page, retried with the keyboard and delivered
// with the same webhook-id; the secret rotated (the new one verifies, the
// previous one's end shown); an edit; a key holding only webhooks:read sees
// every change disabled with the reason; delete; the endpoint's story on
// the activity page. Every page and dialog is held to the quality bar.
func TestBrowserWebhooks(t *testing.T) {
	axe := axeSource(t)
	chrome := findChromium(t)
	data := t.TempDir()
	_, _, owner := binary{t: t, flags: []string{"--data", data}}.bootstrap("Hooks Org")
	base, _ := binary{t: t, flags: []string{"--data", data, "--webhooks-allow-loopback", "--webhooks-interval", "1s"}}.serve()
	c := client{t: t, base: base}
	recv := newHookReceiver(t)
	reader := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"hook reader","permissions":[{"permission":"webhooks:read"},{"permission":"api_tokens:read"}],"expiration":"30d"}`).s("token")

	b := startBrowser(t, chrome, base)
	list := base + "/dashboard/organizations/api-keys/webhooks"
	b.signIn(list, owner, "webhooks-empty")
	if cur := value(b, "read the navigation", chromedp.Evaluate[string](`document.querySelector('[data-testid="nav-webhooks"]')?.getAttribute("aria-current") ?? "absent"`)); cur != "page" {
		t.Errorf("the Webhooks navigation link is %q, want the current page", cur)
	}
	b.quality("webhooks-empty", "Webhooks · DotEnv", axe, false)

	// The form: every missing field at once, then the server's refusal of the address next to it.
	b.do("open the form", chromedp.Click(tid("add-webhook")), chromedp.WaitVisible(tid("webhook-form")))
	b.quality("webhook-new", "Add webhook endpoint · DotEnv", axe, false)
	b.checkLabels("webhook form")
	b.do("focus the URL field", chromedp.Focus(tid("webhook-url")))
	b.tabTo("submit-webhook", 20, true) // every field and event, each named, in order
	b.do("submit with nothing",
		chromedp.Click(tid("webhook-events-none")),
		chromedp.Click(tid("submit-webhook")),
		chromedp.WaitVisible(tid("webhook-url-error")),
		chromedp.WaitVisible(tid("webhook-events-error")),
	)
	if f := b.active(); f.TestID != "webhook-url" {
		t.Errorf("after the errors the focus is on %+v, want the URL field", f)
	}
	b.quality("webhook-new-errors", "Add webhook endpoint · DotEnv", axe, false)
	b.do("submit an ftp address",
		chromedp.SendKeys(tid("webhook-url"), "ftp://hooks.example.com/x"),
		chromedp.Click(tid("webhook-event-key.created")),
		chromedp.Click(tid("submit-webhook")),
		chromedp.WaitNotPresent(tid("webhook-events-error")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="webhook-url-error"]')?.textContent.includes("https://")`),
	)
	if n := len(c.must(200, "GET", "/v1/webhooks", owner, "").body["items"].([]any)); n != 0 {
		t.Fatalf("a refused form stored %d endpoints", n)
	}
	hookURL := recv.URL + "/hook"
	b.do("fill in the form and add the endpoint",
		script(`document.querySelector('[data-testid="webhook-url"]').select()`),
		chromedp.KeyEvent(kb.Delete),
		chromedp.SendKeys(tid("webhook-url"), hookURL),
		chromedp.SendKeys(tid("webhook-description"), "Pager"),
		chromedp.Click(tid("webhook-event-key.rotated")),
		chromedp.Click(tid("submit-webhook")),
		chromedp.WaitVisible(tid("secret-dialog")),
	)
	secret := value(b, "read the secret", chromedp.Value(tid("secret-value")))
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("the dialog shows %q, not a Standard Webhooks secret", secret[:min(len(secret), 6)])
	}
	b.quality("webhook-secret-dialog", "Add webhook endpoint · DotEnv", axe, true)
	b.do("close the secret dialog (asked once)",
		chromedp.Click(tid("close-secret-dialog")),
		chromedp.WaitVisible(tid("secret-close-confirm")),
		chromedp.Click(tid("confirm-close-secret")),
		chromedp.WaitNotPresent(tid("secret-dialog")),
		chromedp.WaitVisible(tid("webhook-heading")),
		chromedp.WaitVisible(tid("deliveries-empty")),
	)
	b.noWebhookSecret("after the create", secret)
	hooks := c.must(200, "GET", "/v1/webhooks", owner, "").body["items"].([]any)
	if len(hooks) != 1 {
		t.Fatalf("%d endpoints stored, want 1", len(hooks))
	}
	hook := hooks[0].(map[string]any)
	id, _ := hook["id"].(string)
	if hook["url"] != hookURL || hook["description"] != "Pager" || fmt.Sprint(hook["events"]) != "[key.created key.rotated]" {
		t.Errorf("the endpoint stored is %v", hook)
	}
	if h := value(b, "read the heading", chromedp.Text(tid("webhook-heading"))); h != hookURL {
		t.Errorf("the endpoint page is titled %q", h)
	}
	host := strings.TrimPrefix(recv.URL, "http://")
	title := host + " · Webhook · DotEnv"
	b.quality("webhook", title, axe, false)

	// A failing receiver: the delivery shows its attempt; the retry, made
	// with the keyboard, is delivered with the same webhook-id.
	recv.set(secret, http.StatusInternalServerError)
	keyID := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"CI deploy","preset":"read-only","expiration":"30d"}`).s("id")
	first := recv.waitFor(t, "key.created", func(n notice) bool { return n.typ == "key.created" && n.key == keyID })
	if first.verifyErr != nil {
		t.Fatalf("the secret the dialog showed does not verify the delivery: %v", first.verifyErr)
	}
	b.refreshDeliveries("answered HTTP 500")
	b.quality("webhook-delivery-failing", title, axe, false)
	recv.set(secret, 0)
	b.do("retry with the keyboard", chromedp.Focus(tid("retry-delivery")), chromedp.KeyEvent(kb.Enter))
	if _, ok := b.request("POST", base+"/v1/webhooks/"+id+"/deliveries/"+first.id+"/retry"); !ok {
		t.Fatalf("the dashboard sent no retry of %s", first.id)
	}
	b.waitContains("deliveries-status", "queued again")
	b.do("wait for the delivery", chromedp.WaitVisible(`[data-testid="delivery"][data-state="delivered"]`))
	delivered := 0
	for _, n := range recv.notices() {
		if n.id == first.id {
			delivered++
		}
	}
	if delivered < 2 {
		t.Errorf("the receiver got webhook-id %s %d times, want the attempt and the retry", first.id, delivered)
	}
	b.do("open the attempts", script(`document.querySelector(".delivery-details").open = true`))
	b.quality("webhook-delivered", title, axe, false)
	b.checkLabels("webhook page")

	// Rotate the secret: the new one verifies; the page says until when the previous one signs.
	b.focusReturns("rotate-secret", "rotate-secret-dialog", title, axe)
	b.do("rotate the secret",
		chromedp.Click(tid("rotate-secret")),
		chromedp.WaitVisible(tid("confirm-rotate-secret")),
		chromedp.Click(tid("confirm-rotate-secret")),
		chromedp.WaitVisible(tid("secret-dialog")),
	)
	secret2 := value(b, "read the new secret", chromedp.Value(tid("secret-value")))
	if secret2 == secret || !strings.HasPrefix(secret2, "whsec_") {
		t.Fatal("the rotation did not show a new secret")
	}
	b.quality("webhook-secret-rotated", title, axe, true)
	b.do("close the secret dialog",
		chromedp.Click(tid("close-secret-dialog")),
		chromedp.WaitVisible(tid("confirm-close-secret")),
		chromedp.Click(tid("confirm-close-secret")),
		chromedp.WaitNotPresent(tid("secret-dialog")),
	)
	b.waitContains("webhook-secret-state", "previous secret also signs until")
	b.noWebhookSecret("after the rotation", secret2)
	stored := c.must(200, "GET", "/v1/webhooks/"+id, owner, "")
	if until := mustTime(t, stored.s("previous_secret_expires_at")); time.Until(until) < 23*time.Hour || time.Until(until) > 25*time.Hour {
		t.Errorf("the previous secret signs until %s, want in 24 hours", until)
	}
	recv.set(secret2, 0)
	c.must(200, "POST", "/v1/api-keys/"+keyID+"/rotate", owner, "")
	if n := recv.waitFor(t, "key.rotated", func(n notice) bool { return n.typ == "key.rotated" && n.key == keyID }); n.verifyErr != nil {
		t.Errorf("the rotated secret does not verify the next delivery: %v", n.verifyErr)
	}

	// Edit: events and description; the page and the API agree.
	b.do("open the edit form", chromedp.Click(tid("edit-webhook")), chromedp.WaitVisible(tid("webhook-form")))
	if got := value(b, "read the prefilled URL", chromedp.Value(tid("webhook-url"))); got != hookURL {
		t.Errorf("the edit form shows the URL %q", got)
	}
	b.do("change the events and the description",
		chromedp.Click(tid("webhook-event-key.created")),
		chromedp.Click(tid("webhook-event-key.deleted")),
		script(`document.querySelector('[data-testid="webhook-description"]').select()`),
		chromedp.KeyEvent(kb.Delete),
		chromedp.SendKeys(tid("webhook-description"), "Pager (deletes)"),
	)
	b.quality("webhook-edit", "Edit webhook endpoint · DotEnv", axe, false)
	b.do("save", chromedp.Click(tid("submit-webhook")), chromedp.WaitVisible(tid("flash")), chromedp.WaitVisible(tid("webhook-event-list")))
	shown := value(b, "read the events shown", chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="webhook-event-list"] li')].map(l => l.dataset.type)`))
	edited := c.must(200, "GET", "/v1/webhooks/"+id, owner, "")
	if fmt.Sprint(shown) != "[key.rotated key.deleted]" || fmt.Sprint(edited.body["events"]) != "[key.deleted key.rotated]" || edited.s("description") != "Pager (deletes)" {
		t.Errorf("after the edit the page shows %v, the API %v %q", shown, edited.body["events"], edited.s("description"))
	}

	// A key holding webhooks:read (and api_tokens:read, so the dashboard
	// can read its grants): every change is disabled, with the reason.
	b.do("sign out", chromedp.Click(tid("sign-out")), chromedp.WaitVisible(tid("signin-token")))
	b.signIn(base+"/dashboard/organizations/api-keys/webhooks/"+id, reader, "webhook-heading")
	for _, btn := range []string{"rotate-secret", "delete-webhook", "edit-webhook"} {
		if on := value(b, "read "+btn, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector('[data-testid=%q]'); return !e || !e.disabled; })()`, btn))); on {
			t.Errorf("the webhooks:read key is offered %s", btn)
		}
	}
	b.waitContains("webhook-actions-why", "does not hold webhooks:update")
	b.waitContains("webhook-actions-why", "does not hold webhooks:delete")
	b.quality("webhook-read-only", title, axe, false)
	b.do("open the list", chromedp.Click(tid("nav-webhooks")), chromedp.WaitVisible(tid("webhook-list")))
	b.waitContains("add-webhook-why", "does not hold webhooks:create")
	b.do("sign out again", chromedp.Click(tid("sign-out")), chromedp.WaitVisible(tid("signin-token")))

	// Delete, from the keyboard-checked dialog.
	b.signIn(base+"/dashboard/organizations/api-keys/webhooks/"+id, owner, "webhook-heading")
	b.focusReturns("delete-webhook", "delete-webhook-dialog", title, axe)
	b.do("delete the endpoint",
		chromedp.Click(tid("delete-webhook")),
		chromedp.WaitVisible(tid("confirm-delete-webhook")),
		chromedp.Click(tid("confirm-delete-webhook")),
		chromedp.WaitVisible(tid("webhooks-empty")),
		chromedp.WaitVisible(tid("flash")),
	)
	if n := len(c.must(200, "GET", "/v1/webhooks", owner, "").body["items"].([]any)); n != 0 {
		t.Errorf("%d endpoints left after the delete", n)
	}
	c.must(404, "GET", "/v1/webhooks/"+id, owner, "")

	// The organization's activity tells the endpoint's story.
	b.do("open the activity", chromedp.Click(tid("nav-activity")), chromedp.WaitVisible(tid("activity")))
	b.chooseOption("filter by the secret rotation", "activity-action", "webhook.secret_rotated", "")
	b.do("apply the filter", chromedp.Click(tid("activity-apply")))
	b.waitActions([]string{"webhook.secret_rotated"})
	b.waitContains("audit-sentence", "rotated the signing secret of the webhook endpoint “"+hookURL+"”")
	b.noWebhookSecret("in the activity", secret2)
	b.checkConsole()
}

// signIn opens page, signs in with tok and waits for the element with the data-testid.
func (b *browserTab) signIn(page, tok, waitFor string) {
	b.t.Helper()
	b.do("sign in",
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate(page),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), tok),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid(waitFor)),
	)
}

// waitContains waits until the element with the data-testid contains text.
func (b *browserTab) waitContains(testID, text string) {
	b.t.Helper()
	js := fmt.Sprintf(`(async () => {
		for (let i = 0; i < 300; i++) {
			const t = [...document.querySelectorAll('[data-testid=%q]')].map(e => e.textContent).join("\n");
			if (t.includes(%q)) return t;
			await new Promise(r => setTimeout(r, 100));
		}
		return [...document.querySelectorAll('[data-testid=%q]')].map(e => e.textContent).join("\n") || "(absent)";
	})()`, testID, text, testID)
	if got := value(b, "wait for "+testID, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise)); !strings.Contains(got, text) {
		b.fail("wait for "+testID, fmt.Errorf("it shows %q, want it to contain %q", got, text))
	}
}

// refreshDeliveries presses Refresh on the deliveries until one of their
// outcomes contains text (the page reads them again by itself only while one
// is pending).
func (b *browserTab) refreshDeliveries(text string) {
	b.t.Helper()
	js := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="delivery-outcome"]')].some(e => e.textContent.includes(%q))`, text)
	for deadline := time.Now().Add(20 * time.Second); !value(b, "read the deliveries", chromedp.Evaluate[bool](js)); time.Sleep(300 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.fail("refresh the deliveries", fmt.Errorf("no delivery says %q", text))
		}
		b.do("refresh the deliveries", chromedp.Click(tid("refresh-deliveries")))
	}
}

// noWebhookSecret checks that a signing secret shown once is nowhere in the
// page after its dialog closed: not in the DOM, a field, the storages, the
// address or history state.
func (b *browserTab) noWebhookSecret(when, secret string) {
	b.t.Helper()
	part := strings.TrimPrefix(secret, "whsec_")
	js := fmt.Sprintf(`(() => {
		const s = %q, dump = (st) => { let o = ""; for (let i = 0; i < st.length; i++) o += st.key(i) + "=" + st.getItem(st.key(i)) + ";"; return o; };
		const places = {dom: document.documentElement.outerHTML, local: dump(localStorage), session: dump(sessionStorage),
			href: location.href, state: JSON.stringify(history.state), title: document.title,
			fields: [...document.querySelectorAll("input, textarea")].map(e => e.value).join("\n")};
		return Object.keys(places).filter(k => places[k].includes(s));
	})()`, part)
	if where := value(b, "look for the secret "+when, chromedp.Evaluate[[]string](js)); len(where) > 0 {
		b.fail("secret "+when, fmt.Errorf("the signing secret is still in %v", where))
	}
}
