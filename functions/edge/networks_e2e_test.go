package main

import (
	"context"
	"testing"

	"github.com/dotenv/apikeys/shared/proctest"
)

// TestNetworkAllowlistEndToEnd runs the real binary: a key restricted to
// 203.0.113.0/24 is refused from loopback (403 ip_not_allowed, whatever
// X-Forwarded-For it sends), one restricted to 127.0.0.0/8 works; POST
// /v1/verify decides from client_ip. With --trusted-proxy 127.0.0.1 the
// loopback connection is a proxy and X-Forwarded-For names the client.
func TestNetworkAllowlistEndToEnd(t *testing.T) {
	bin := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner := bin.bootstrap("Org A")
	c := client{t: t, base: proctest.StartServer(t, bin.command(context.Background(), "serve", "--addr", "127.0.0.1:0"), &proctest.Buffer{})}
	remote := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"office","allow_all":true,"expiration":"never","allowed_cidrs":["203.0.113.0/24"]}`).s("token")
	local := c.must(201, "POST", "/v1/api-keys", owner, `{"name":"local","preset":"read-only","expiration":"never","allowed_cidrs":["127.0.0.0/8","::1/128"]}`).s("token")

	if r := c.call("GET", "/v1/permissions", remote, ""); r.status != 403 || r.s("code") != "ip_not_allowed" {
		t.Fatalf("restricted to 203.0.113.0/24, from loopback: %d %s", r.status, r.raw)
	}
	if r := c.call("GET", "/v1/permissions", remote, "", "X-Forwarded-For", "203.0.113.5"); r.status != 403 {
		t.Fatalf("X-Forwarded-For without a trusted proxy: %d %s", r.status, r.raw)
	}
	c.must(200, "GET", "/v1/projects", local, "")
	for body, code := range map[string]string{
		`{"token":"` + remote + `","client_ip":"203.0.113.5"}`: "ok",
		`{"token":"` + remote + `","client_ip":"127.0.0.1"}`:   "ip_not_allowed",
		`{"token":"` + remote + `"}`:                           "ip_not_allowed",
	} {
		if r := c.must(200, "POST", "/v1/verify", "", body); r.s("code") != code {
			t.Errorf("verify %s: %s, want %s", body[len(body)-30:], r.raw, code)
		}
	}

	// Another binary behind a trusted proxy (loopback), on its own store.
	bin2 := binary{t: t, flags: []string{"--data", t.TempDir()}}
	_, _, owner2 := bin2.bootstrap("Org B")
	logs := &proctest.Buffer{}
	p := client{t: t, base: proctest.StartServer(t, bin2.command(context.Background(), "serve", "--addr", "127.0.0.1:0", "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "::1"), logs)}
	office := p.must(201, "POST", "/v1/api-keys", owner2, `{"name":"office","allow_all":true,"expiration":"never","allowed_cidrs":["203.0.113.0/24"]}`).s("token")
	p.must(200, "GET", "/v1/permissions", office, "", "X-Forwarded-For", "203.0.113.5")
	if r := p.call("GET", "/v1/permissions", office, "", "X-Forwarded-For", "203.0.113.5, 198.51.100.9"); r.status != 403 || r.s("code") != "ip_not_allowed" {
		t.Fatalf("the rightmost untrusted hop is outside: %d %s", r.status, r.raw)
	}
	if r := p.call("GET", "/v1/permissions", office, ""); r.status != 403 {
		t.Fatalf("no X-Forwarded-For from the trusted proxy: %d %s", r.status, r.raw)
	}
}
