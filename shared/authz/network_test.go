package authz

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestParseNetwork(t *testing.T) {
	tests := []struct {
		in, want string // want "" = refused
		msg      string // part of the refusal
	}{
		{"203.0.113.0/24", "203.0.113.0/24", ""},
		{"2001:db8::/32", "2001:db8::/32", ""},
		{"0.0.0.0/0", "0.0.0.0/0", ""},
		{"::/0", "::/0", ""},
		{"203.0.113.7", "203.0.113.7/32", ""},
		{"2001:db8::1", "2001:db8::1/128", ""},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"::ffff:203.0.113.7", "203.0.113.7/32", ""},
		{"::ffff:0:0/95", "", "host bits"},
		{"::/95", "::/95", ""},
		{"10.0.0.1/8", "", "the network is 10.0.0.0/8"},
		{"2001:db8::1/32", "", "the network is 2001:db8::/32"},
		{"10.0.0.0/33", "", "CIDR"},
		{"10.0.0/8", "", "CIDR"},
		{"fe80::1%eth0", "", "not an IP address"},
		{"fe80::%eth0/64", "", "CIDR"},
		{"example.com", "", "not an IP address"},
		{"", "", "not an IP address"},
		{" 10.0.0.0/8", "", "CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNetwork(tt.in)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("ParseNetwork(%q) = %v, %v; want a refusal saying %q", tt.in, got, err, tt.msg)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("ParseNetwork(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeNetworks(t *testing.T) {
	tests := []struct {
		name string
		in   []netip.Prefix
		want []netip.Prefix
	}{
		{"empty is anywhere", nil, nil},
		{"empty slice is nil", []netip.Prefix{}, nil},
		{"duplicates", prefixes("10.0.0.0/8", "10.0.0.0/8"), prefixes("10.0.0.0/8")},
		{"contained removed", prefixes("10.1.0.0/16", "10.0.0.0/8", "10.1.2.3/32"), prefixes("10.0.0.0/8")},
		{"masked", []netip.Prefix{netip.PrefixFrom(netip.MustParseAddr("10.1.2.3"), 8)}, prefixes("10.0.0.0/8")},
		{"mapped unmapped", prefixes("::ffff:192.0.2.0/120", "192.0.2.0/24"), prefixes("192.0.2.0/24")},
		{"IPv4 first, by address then length", prefixes("2001:db8::/32", "203.0.113.0/24", "198.51.100.0/24", "192.0.2.128/25"), prefixes("192.0.2.128/25", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")},
		{"families never contain each other", prefixes("::/0", "0.0.0.0/0"), prefixes("0.0.0.0/0", "::/0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeNetworks(tt.in); !slices.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Fatalf("NormalizeNetworks(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeNetworksProperty: normalizing is idempotent and allows
// exactly the addresses the list allowed, on random lists and addresses.
func TestNormalizeNetworksProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	randAddr := func() netip.Addr {
		if rng.IntN(2) == 0 {
			// A small IPv4 space, so that prefixes overlap often.
			return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(256))})
		}
		var b [16]byte
		b[0], b[1], b[15] = 0x20, 0x01, byte(rng.IntN(256))
		b[2] = byte(rng.IntN(4))
		return netip.AddrFrom16(b)
	}
	randPrefix := func() netip.Prefix {
		a := randAddr()
		if a.Is4() && rng.IntN(4) == 0 {
			// Also as an IPv4-mapped IPv6 prefix.
			return netip.PrefixFrom(netip.AddrFrom16(a.As16()), 96+8+rng.IntN(25)).Masked()
		}
		return netip.PrefixFrom(a, rng.IntN(a.BitLen()+1)).Masked()
	}
	for i := range 2000 {
		in := make([]netip.Prefix, rng.IntN(6))
		for j := range in {
			in[j] = randPrefix()
		}
		got := NormalizeNetworks(in)
		if again := NormalizeNetworks(got); !slices.Equal(again, got) {
			t.Fatalf("case %d: not idempotent: %v → %v → %v", i, in, got, again)
		}
		for range 50 {
			a := randAddr()
			if rng.IntN(3) == 0 {
				a = netip.AddrFrom16(a.As16()) // mapped when IPv4
			}
			before, after := naiveAllows(in, a), (Access{AllowedNetworks: got}).AllowsAddr(a)
			if before != after {
				t.Fatalf("case %d: %v allowed %v: %v, normalized %v: %v", i, in, a, before, got, after)
			}
		}
	}
}

// naiveAllows is what an allowlist means, on any list: some prefix holds
// the address, an IPv4-mapped IPv6 address (and prefix of at least 96 bits)
// counting as IPv4; shorter IPv6 prefixes never hold an IPv4 address.
func naiveAllows(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return len(ps) == 0
}

func TestAllowsAddr(t *testing.T) {
	restricted := Access{AllowedNetworks: prefixes("203.0.113.0/24", "2001:db8::/32")}
	tests := []struct {
		name   string
		access Access
		addr   netip.Addr
		want   bool
	}{
		{"anywhere", Access{}, netip.MustParseAddr("198.51.100.1"), true},
		{"anywhere, unknown address", Access{}, netip.Addr{}, true},
		{"inside", restricted, netip.MustParseAddr("203.0.113.200"), true},
		{"outside", restricted, netip.MustParseAddr("203.0.114.1"), false},
		{"IPv6 inside", restricted, netip.MustParseAddr("2001:db8:1::7"), true},
		{"IPv6 outside", restricted, netip.MustParseAddr("2001:db9::1"), false},
		{"mapped client", restricted, netip.MustParseAddr("::ffff:203.0.113.9"), true},
		{"unknown address", restricted, netip.Addr{}, false},
		{"loopback", restricted, netip.MustParseAddr("127.0.0.1"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.access.AllowsAddr(tt.addr); got != tt.want {
				t.Fatalf("AllowsAddr(%v) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestNoEscalationNetworks(t *testing.T) {
	c := NewCatalog()
	anywhere := Access{AllowAll: true}
	office := Access{AllowAll: true, AllowedNetworks: prefixes("203.0.113.0/24", "2001:db8::/32")}
	with := func(a Access, nets ...string) Access { a.AllowedNetworks = prefixes(nets...); return a }
	tests := []struct {
		name      string
		caller    Access
		wanted    Access
		wantField string // "" = allowed
	}{
		{"anywhere makes anywhere", anywhere, anywhere, ""},
		{"anywhere makes restricted", anywhere, office, ""},
		{"restricted makes anywhere", office, anywhere, "allowed_cidrs"},
		{"restricted makes the same", office, office, ""},
		{"restricted makes narrower", office, with(anywhere, "203.0.113.128/25", "2001:db8:5::/48"), ""},
		{"restricted makes a host inside", office, with(anywhere, "203.0.113.7/32"), ""},
		{"restricted makes wider", office, with(anywhere, "203.0.0.0/16"), "allowed_cidrs[0]"},
		{"restricted makes a sibling", office, with(anywhere, "203.0.113.0/25", "198.51.100.0/24"), "allowed_cidrs[1]"},
		{"restricted makes the other family", with(anywhere, "203.0.113.0/24"), with(anywhere, "::ffff:203.0.113.0/120"), ""},
		{"IPv4 network does not cover IPv6", with(anywhere, "0.0.0.0/0"), with(anywhere, "2001:db8::/32"), "allowed_cidrs[0]"},
		{"scoped restricted caller, narrower grant, anywhere", with(Access{Grants: []Grant{{Permission: "secrets:read"}}}, "10.0.0.0/8"), Access{Grants: []Grant{{Permission: "secrets:read", Scope: p1}}}, "allowed_cidrs"},
		{"scoped restricted caller, narrower grant, inside", with(Access{Grants: []Grant{{Permission: "secrets:read"}}}, "10.0.0.0/8"), with(Access{Grants: []Grant{{Permission: "secrets:read", Scope: p1}}}, "10.1.0.0/16"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNoEscalation(c, tt.caller, tt.wanted)
			var esc *EscalationError
			switch {
			case tt.wantField == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantField != "" && (!errors.As(err, &esc) || esc.Field != tt.wantField):
				t.Fatalf("err = %v, want refusal on %s", err, tt.wantField)
			case tt.wantField != "" && !strings.Contains(esc.Reason, "203.0.113.0/24") && !strings.Contains(esc.Reason, "0.0.0.0/0") && !strings.Contains(esc.Reason, "10.0.0.0/8"):
				t.Fatalf("reason %q does not name the caller's networks", esc.Reason)
			}
		})
	}
}
