package safehttp_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/safehttp"
)

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fd00:ec2::254", false},   // AWS IPv6 metadata (ULA)
		{"fe80::1", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"2002:7f00:1::", false},   // 6to4 of 127.0.0.1
		{"2001:db8::1", false},
		{"198.18.0.1", false},
	} {
		if got := safehttp.Public(netip.MustParseAddr(tc.addr)); got != tc.public {
			t.Errorf("Public(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
}

func TestCheckURL(t *testing.T) {
	prod, dev := safehttp.Options{}, safehttp.Options{AllowLoopback: true}
	for _, tc := range []struct {
		url       string
		prod, dev bool
	}{
		{"https://hooks.example.com/dotenv", true, true},
		{"https://8.8.8.8/x", true, true},
		// Plain http only to loopback, and only with the switch.
		{"http://hooks.example.com/dotenv", false, false},
		{"http://8.8.8.8/x", false, false},
		{"http://[2606:4700::1111]/x", false, false},
		{"http://10.1.2.3/x", false, false},
		{"https://127.0.0.1/x", false, true},
		{"http://127.0.0.1:8080/x", false, true},
		{"http://127.9.9.9/x", false, true},
		{"http://[::1]:8080/x", false, true},
		{"http://localhost:8080/x", false, true},
		{"https://[::1]/x", false, true},
		{"https://localhost/x", false, true},
		{"https://169.254.169.254/latest/meta-data", false, false},
		{"https://10.1.2.3/x", false, false},
		{"https://[fd00::1]/x", false, false},
		{"https://user:pw@hooks.example.com/", false, false},
		{"https://hooks.example.com/#frag", false, false},
		{"ftp://hooks.example.com/", false, false},
		{"hooks.example.com/x", false, false},
		{"https:///x", false, false},
		{"https://hooks.example.com/" + strings.Repeat("a", 2100), false, false},
		{"://", false, false},
	} {
		if got := prod.CheckURL(tc.url) == nil; got != tc.prod {
			t.Errorf("production CheckURL(%.60q) accepted=%v, want %v", tc.url, got, tc.prod)
		}
		if got := dev.CheckURL(tc.url) == nil; got != tc.dev {
			t.Errorf("development CheckURL(%.60q) accepted=%v, want %v", tc.url, got, tc.dev)
		}
	}
}

// The production client refuses a loopback destination at connect time,
// whatever the URL says: a name that resolves to 127.0.0.1 (here
// "localhost", as a rebinding name would at delivery time) never gets a
// connection.
func TestClientChecksTheAddressItDials(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	c := safehttp.NewClient(safehttp.Options{Timeout: 2 * time.Second})
	for _, u := range []string{srv.URL, "https://localhost" + port, "https://127.0.0.1" + port} {
		_, err := c.Get(u)
		if !safehttp.Refused(err) {
			t.Errorf("GET %s: want a refusal, got %v", u, err)
		}
	}
	if hits != 0 {
		t.Fatalf("the server was reached %d times", hits)
	}
	// With the development switch, loopback over http is reached.
	dev := safehttp.NewClient(safehttp.Options{Timeout: 2 * time.Second, AllowLoopback: true})
	resp, err := dev.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("hits = %d", hits)
	}
}

// With the development switch, plain http still reaches loopback only: a
// public address over http is refused when dialled (before any packet is
// sent), while https to it would be admitted.
func TestDevelopmentSwitchKeepsPlainHTTPOnLoopback(t *testing.T) {
	dev := safehttp.NewClient(safehttp.Options{Timeout: 2 * time.Second, AllowLoopback: true})
	for _, u := range []string{"http://8.8.8.8:9/hook", "http://[2606:4700::1111]:9/hook"} {
		_, err := dev.Get(u)
		if !safehttp.Refused(err) || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("GET %s with the development switch: want a refusal (plain http reaches loopback only), got %v", u, err)
		}
	}
	// Without the switch plain http is refused before dialling at all.
	prod := safehttp.NewClient(safehttp.Options{Timeout: 2 * time.Second})
	if _, err := prod.Get("http://8.8.8.8:9/hook"); !safehttp.Refused(err) || !strings.Contains(err.Error(), "only https") {
		t.Errorf("production GET over http: %v", err)
	}
}

func TestClientDoesNotFollowRedirectsAndTimesOut(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := safehttp.NewClient(safehttp.Options{Timeout: 300 * time.Millisecond, AllowLoopback: true})
	resp, err := c.Get(srv.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("redirect answered %d: it was followed", resp.StatusCode)
	}
	start := time.Now()
	if _, err := c.Get(srv.URL + "/slow"); err == nil || safehttp.Refused(err) {
		t.Fatalf("a slow destination: want a timeout, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the timeout took %v", d)
	}
}
