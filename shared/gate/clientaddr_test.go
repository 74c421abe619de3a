package gate_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/gate"
)

// TestClientAddr is the X-Forwarded-For rule: only a connection from a
// trusted proxy may name the client, and the client is the rightmost
// address that is not a trusted proxy, so what a client sends itself (on
// the left) never counts.
func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string // header lines
		trusted []netip.Prefix
		want    string // "" = unknown
	}{
		{"no proxy trusted: the connection", "198.51.100.7:5123", []string{"203.0.113.9"}, nil, "198.51.100.7"},
		{"IPv6 connection", "[2001:db8::7]:443", nil, nil, "2001:db8::7"},
		{"IPv4-mapped connection", "[::ffff:198.51.100.7]:443", nil, nil, "198.51.100.7"},
		{"bare address (the Lambda adapter's sourceIp)", "203.0.113.5", nil, nil, "203.0.113.5"},
		{"not an address", "somewhere", nil, nil, ""},
		{"empty", "", nil, nil, ""},
		{"untrusted connection's header ignored", "198.51.100.7:5123", []string{"203.0.113.9"}, proxies, "198.51.100.7"},
		{"trusted proxy, one hop", "10.1.2.3:5123", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"trusted proxy, no header: the proxy itself", "10.1.2.3:5123", nil, proxies, "10.1.2.3"},
		{"a forged left part does not count", "10.1.2.3:5123", []string{"192.0.2.66, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"two trusted proxies", "10.1.2.3:5123", []string{"192.0.2.66, 203.0.113.9, 10.9.9.9"}, proxies, "203.0.113.9"},
		{"several header lines, in order", "10.1.2.3:5123", []string{"192.0.2.66", "203.0.113.9, 10.9.9.9"}, proxies, "203.0.113.9"},
		{"every hop trusted: the leftmost", "10.1.2.3:5123", []string{"10.7.7.7, 10.9.9.9"}, proxies, "10.7.7.7"},
		{"IPv6 hops", "[fd00::1]:443", []string{"2001:db8::5, fd00::2"}, proxies, "2001:db8::5"},
		{"garbage hop before the client: unknown", "10.1.2.3:5123", []string{"203.0.113.9, bogus"}, proxies, ""},
		{"garbage hop left of the client does not count", "10.1.2.3:5123", []string{"bogus, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"a hop with a port is not an address", "10.1.2.3:5123", []string{"203.0.113.9:80"}, proxies, ""},
		{"empty hop: unknown", "10.1.2.3:5123", []string{"203.0.113.9,"}, proxies, ""},
		{"spaces around hops", "10.1.2.3:5123", []string{"  203.0.113.9  ,10.2.2.2 "}, proxies, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/permissions", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := gate.ClientAddr(r, authz.NormalizeNetworks(tt.trusted))
			if (tt.want == "" && got.IsValid()) || (tt.want != "" && got.String() != tt.want) {
				t.Fatalf("ClientAddr = %v, want %q", got, tt.want)
			}
		})
	}
}
