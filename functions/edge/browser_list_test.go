package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserList drives the key list as a workbench (issue 13, item 2) in
// headless Chromium against the real binary: the one-line "can do" column,
// the pager and its cursor in the address, search and filters kept in the
// address across a reload, and the rotate and delete row actions, including
// the server's refusal to delete the organization's last allow-all key.
func TestBrowserList(t *testing.T) {
	chrome := findChromium(t)
	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, ownerID, owner := bin.bootstrap("List Org")
	base, _ := bin.serve()
	c := client{t: t, base: base}
	ownerName := c.must(200, "GET", "/v1/api-keys/"+ownerID, owner, "").s("name")

	team := c.must(201, "POST", "/v1/teams", owner, `{"name":"platform"}`).s("id")
	prj := c.must(201, "POST", "/v1/projects", owner, `{"name":"billing","team_id":"`+team+`"}`).s("id")
	tgt := c.must(201, "POST", "/v1/projects/"+prj+"/targets", owner, `{"name":"web"}`).s("id")
	prod := c.must(201, "POST", "/v1/projects/"+prj+"/targets/"+tgt+"/environments", owner, `{"name":"production"}`).s("id")

	create := func(body string) string { return c.must(201, "POST", "/v1/api-keys", owner, body).s("id") }
	deploy := create(`{"name":"CI deploy","permissions":[{"permission":"secrets:read","scope":{"level":"environment","id":"` + prod + `"}}],"expiration":"30d"}`)
	create(`{"name":"Billing reader","permissions":[{"permission":"billing:read"}],"expiration":"never"}`)
	soon := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	create(`{"name":"Soon gone","permissions":[{"permission":"secrets:read"},{"permission":"projects:read"}],"expires_at":"` + soon + `"}`)
	// 24 keys in all: more than the list's page of 20.
	for i := range 20 {
		create(fmt.Sprintf(`{"name":"bulk-%02d","permissions":[{"permission":"projects:read"}],"expiration":"90d"}`, i))
	}

	b := startBrowser(t, chrome, base)
	list := base + "/dashboard/organizations/api-keys"
	b.do("sign in",
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate(list),
		chromedp.WaitVisible(tid("signin-token")),
		chromedp.SendKeys(tid("signin-token"), owner),
		chromedp.Click(tid("signin-submit")),
		chromedp.WaitVisible(tid("key-table")),
		chromedp.WaitVisible(tid("page-next")),
	)
	b.checkLabels("key list")
	page1 := b.rows("the first page", nil)
	if len(page1) != 20 {
		t.Errorf("the first page shows %d keys, want 20", len(page1))
	}
	b.shot("list-1400")
	b.do("phone width", chromedp.EmulateViewport(390, 844))
	b.shot("list-390")
	b.do("desktop width", chromedp.EmulateViewport(1400, 900))

	// The pager's cursor is in the address: a reload stays on page 2.
	b.do("open page 2", chromedp.Click(tid("page-next")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="page-number"]`)))
	b.waitText("page-number", "Page 2")
	page2 := b.rows("page 2", nil)
	if len(page2) != 4 || slices.ContainsFunc(page2, func(n string) bool { return slices.Contains(page1, n) }) {
		t.Errorf("page 2 shows %q, want the 4 keys not on page 1 (%q)", page2, page1)
	}
	if loc := b.location(); !strings.Contains(loc, "cursor=") {
		t.Errorf("page 2's address %q has no cursor", loc)
	}
	b.do("reload page 2", chromedp.Reload(), chromedp.WaitVisible(tid("key-table")))
	b.waitText("page-number", "Page 2")
	b.rows("page 2 after a reload", page2)
	b.do("back to page 1", chromedp.Click(tid("page-prev")))
	b.waitText("page-number", "Page 1")
	if loc := b.location(); strings.Contains(loc, "cursor=") {
		t.Errorf("page 1's address %q still has a cursor", loc)
	}

	// What each key can do, in one line.
	for name, want := range map[string]string{
		"CI deploy":      "Read secrets · billing / web / production",
		"Billing reader": "Read billing · whole organization",
		ownerName:        "Full access",
	} {
		b.search(name)
		b.rows("search "+name, []string{name})
		got := value(b, "read what "+name+" can do", chromedp.Text(tid("key-can-do")))
		if got != want {
			t.Errorf("%s can do %q, want %q", name, got, want)
		}
	}

	// Search: every page is searched, not only the one shown.
	b.search("bulk-1")
	b.rows("search bulk-1", []string{"bulk-10", "bulk-11", "bulk-12", "bulk-13", "bulk-14", "bulk-15", "bulk-16", "bulk-17", "bulk-18", "bulk-19"})
	b.waitText("match-count", "10 keys match of 24.")
	if b.present("page-next") {
		t.Error("a pager is shown while searching, though every match is on the page")
	}
	b.search("")

	// Filters: statuses combine with "or", the others with "and".
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{[]string{"allow-all"}, []string{ownerName}},
		{[]string{"never-expires"}, []string{ownerName, "Billing reader"}},
		{[]string{"never-expires", "allow-all"}, []string{ownerName}},
		{[]string{"expiring-soon"}, []string{"Soon gone"}},
		{[]string{"expired"}, nil},
	} {
		for _, f := range tc.filters {
			b.do("tick "+f, chromedp.Click(tid("filter-"+f)))
		}
		step := "filter " + strings.Join(tc.filters, "+")
		if tc.want == nil {
			b.do(step, chromedp.WaitVisible(tid("no-match")))
		} else {
			b.rows(step, tc.want)
		}
		q := b.query()
		if got := strings.Split(q.Get("filter"), ","); !sameSet(got, tc.filters) {
			t.Errorf("%s: the address holds filter=%q", step, q.Get("filter"))
		}
		for _, f := range tc.filters {
			b.do("untick "+f, chromedp.Click(tid("filter-"+f)))
		}
	}

	// Search and filters survive a reload, and a shared link opens the same
	// list. Keyboard only: from the search box, Tab to a filter and tick it with Space.
	b.search("ci")
	b.do("focus the search box", chromedp.Focus(tid("key-search")))
	b.tabTo("filter-active", 3, true)
	b.do("tick active with Space", chromedp.KeyEvent(" "))
	b.rows("active keys named ci", []string{"CI deploy"})
	shared := b.location()
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(tid("key-table")))
	b.rows("active keys named ci after a reload", []string{"CI deploy"})
	if v := value(b, "read the search box", chromedp.Evaluate[string](`document.querySelector('[data-testid="key-search"]').value`)); v != "ci" {
		t.Errorf("after a reload the search box holds %q, want ci", v)
	}
	if !value(b, "read the active filter", chromedp.Evaluate[bool](`document.querySelector('[data-testid="filter-active"]').checked`)) {
		t.Error("after a reload the active filter is not ticked")
	}
	b.do("open the shared link", chromedp.Navigate(list), chromedp.WaitVisible(tid("page-next")), chromedp.Navigate(shared), chromedp.WaitVisible(tid("key-table")))
	b.rows("the shared link", []string{"CI deploy"})
	b.checkLabels("filtered key list")
	b.shot("list-filtered-1400")
	b.do("phone width", chromedp.EmulateViewport(390, 844))
	b.shot("list-filtered-390")
	b.do("desktop width", chromedp.EmulateViewport(1400, 900))

	// Row action: rotate from the list, then the list is as it was.
	b.do("rotate CI deploy from its row",
		chromedp.Click(b.rowAction("CI deploy", "row-rotate")),
		chromedp.WaitVisible(tid("rotate-dialog")),
		chromedp.Click(tid("confirm-rotate")),
		chromedp.WaitVisible(tid("token-dialog")),
		chromedp.Click(tid("close-token-dialog")),
		// Not copied: the dialog asks once before closing.
		chromedp.WaitVisible(tid("close-confirm")),
		chromedp.Click(tid("confirm-close-token")),
		chromedp.WaitNotPresent(tid("token-dialog")),
	)
	if got := c.must(200, "GET", "/v1/api-keys/"+deploy, owner, "").body["rotated_at"]; got == nil {
		t.Error("the row's Rotate did not rotate the key")
	}
	b.rows("the list after rotating", []string{"CI deploy"})
	if loc := b.location(); loc != shared {
		t.Errorf("rotating moved the list from %q to %q", shared, loc)
	}

	// Row action: the server refuses to delete the last allow-all key, and says why.
	b.search(ownerName)
	b.do("uncheck active", chromedp.Click(tid("filter-active")))
	b.rows("the owner key", []string{ownerName})
	b.do("delete the owner key from its row",
		chromedp.Click(b.rowAction(ownerName, "row-delete")),
		chromedp.WaitVisible(tid("delete-dialog")),
		chromedp.SendKeys(tid("delete-confirm-name"), ownerName),
		chromedp.Click(tid("confirm-delete")),
		chromedp.WaitVisible(tid("delete-error")),
	)
	b.shotDialog("list-delete-refused")
	if msg := value(b, "read the refusal", chromedp.Text(tid("delete-error"))); !strings.Contains(strings.ToLower(msg), "allow") {
		t.Errorf("the refusal says %q, want the server's message about the last allow-all key", msg)
	}
	b.do("cancel", chromedp.Click(tid("cancel-delete")), chromedp.WaitNotPresent(tid("delete-dialog")))

	// Row action: delete a key; the list reloads with its filters.
	b.search("Billing")
	b.rows("Billing reader", []string{"Billing reader"})
	b.do("delete Billing reader from its row",
		chromedp.Click(b.rowAction("Billing reader", "row-delete")),
		chromedp.WaitVisible(tid("delete-dialog")),
		chromedp.SendKeys(tid("delete-confirm-name"), "Billing reader"),
		chromedp.Click(tid("confirm-delete")),
		chromedp.WaitNotPresent(tid("delete-dialog")),
		chromedp.WaitVisible(tid("flash")),
		chromedp.WaitVisible(tid("no-match")),
	)
	if q := b.query(); q.Get("q") != "Billing" {
		t.Errorf("after a delete the address holds q=%q, want Billing", q.Get("q"))
	}
	b.checkConsole()
}

// rows waits until the list shows exactly the keys named want (in any order)
// and answers the names shown; with want nil it waits for any rows.
func (b *browserTab) rows(step string, want []string) []string {
	b.t.Helper()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got = value(b, "read the rows: "+step, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('[data-testid="key-row"]')].map(r => r.dataset.keyName)`))
		if (want == nil && len(got) > 0) || (want != nil && sameSet(got, want)) {
			return got
		}
		if time.Now().After(deadline) {
			b.fail(step, fmt.Errorf("the list shows %q, want %q", got, want))
		}
	}
}

// search types into the search box, replacing what it held.
func (b *browserTab) search(q string) {
	b.t.Helper()
	b.do("clear the search box", chromedp.Evaluate[chromedp.Void](`(() => {
		const el = document.querySelector('[data-testid="key-search"]');
		el.value = "";
		el.dispatchEvent(new Event("input", {bubbles: true}));
	})()`))
	if q != "" {
		b.do("search "+q, chromedp.SendKeys(tid("key-search"), q))
	}
}

// waitText waits until the element with the data-testid shows text.
func (b *browserTab) waitText(testID, text string) {
	b.t.Helper()
	js := fmt.Sprintf(`(async () => {
		for (let i = 0; i < 100; i++) {
			const el = document.querySelector('[data-testid=%q]');
			if (el && el.textContent.trim() === %q) return true;
			await new Promise(r => setTimeout(r, 100));
		}
		return false;
	})()`, testID, text)
	if !value(b, "wait for "+testID, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)) {
		got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector('[data-testid=%q]')?.textContent ?? "(absent)"`, testID)))
		b.fail("wait for "+testID, fmt.Errorf("it shows %q, want %q", got, text))
	}
}

// present says whether an element with the data-testid is in the page.
func (b *browserTab) present(testID string) bool {
	return value(b, "look for "+testID, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector('[data-testid=%q]')`, testID)))
}

// rowAction selects one action of the row of the key named name.
func (b *browserTab) rowAction(name, testID string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[data-testid="key-row"][data-key-name=%q] [data-testid=%q]`, name, testID))
}

func (b *browserTab) location() string {
	return value(b, "read the address", chromedp.Location())
}

func (b *browserTab) query() url.Values {
	u, err := url.Parse(b.location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u.Query()
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
