package authz

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// MaxNetworks bounds a key's network allowlist (docs/security.md,
// "Network allowlists").
const MaxNetworks = 32

// ParseNetwork reads one entry of a network allowlist: an IPv4 or IPv6
// prefix in CIDR notation ("203.0.113.0/24", "2001:db8::/32") or a single
// address, which means that host alone (/32 or /128). An IPv4-mapped IPv6
// prefix of at least 96 bits is its IPv4 prefix ("::ffff:10.0.0.0/104" is
// 10.0.0.0/8). A prefix with host bits set ("10.0.0.1/8") is refused rather
// than silently widened: the message names the network it would have
// meant. Zones are refused.
func ParseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address nor a network in CIDR notation (such as 203.0.113.0/24 or 2001:db8::/32)", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a network in CIDR notation (such as 203.0.113.0/24 or 2001:db8::/32)", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: the network is %s", s, unmapPrefix(m))
	}
	return unmapPrefix(p), nil
}

// unmapPrefix returns an IPv4-mapped IPv6 prefix of at least 96 bits as its
// IPv4 prefix, and any other prefix unchanged: client addresses are
// unmapped before they are matched, so the list must be too.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// NormalizeNetworks returns the canonical form of an allowlist: every
// prefix masked and unmapped, prefixes contained in another one of the
// list removed (with duplicates), sorted (IPv4 first, then by address,
// then length). It contains exactly the same addresses as ps, normalizing twice
// changes nothing, and an empty list is nil (anywhere).
func NormalizeNetworks(ps []netip.Prefix) []netip.Prefix {
	if len(ps) == 0 {
		return nil
	}
	all := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		all[i] = unmapPrefix(p.Masked())
	}
	// A prefix sorts before every prefix it contains (its address is not
	// greater, and on equal addresses it is shorter), so one pass keeps
	// only the prefixes no earlier one contains.
	slices.SortFunc(all, comparePrefixes)
	out := all[:0]
	for _, p := range all {
		if !slices.ContainsFunc(out, func(q netip.Prefix) bool { return prefixWithin(p, q) }) {
			out = append(out, p)
		}
	}
	return slices.Clip(out)
}

// comparePrefixes orders prefixes by family (IPv4 first), address, then
// length.
func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// prefixWithin reports whether every address of p lies in q (same family).
func prefixWithin(p, q netip.Prefix) bool {
	return q.Bits() <= p.Bits() && q.Contains(p.Addr())
}

// AllowsAddr reports whether the key may be used from address a: always
// when its allowlist is empty (anywhere), otherwise when a lies in one of
// its networks. An invalid a (the address is unknown) is allowed only by an
// empty list. The list is parsed when the key is read; this is one
// Contains per network and allocates nothing.
func (a Access) AllowsAddr(addr netip.Addr) bool {
	if len(a.AllowedNetworks) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range a.AllowedNetworks {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// networksWithin returns the index of the first network of wanted that no
// network of caller contains, or -1 when all are contained. An empty
// wanted (anywhere) is within only an empty caller, which checkNetworks
// handles before.
func networksWithin(caller, wanted []netip.Prefix) int {
	for i, w := range wanted {
		if !slices.ContainsFunc(caller, func(c netip.Prefix) bool { return prefixWithin(unmapPrefix(w.Masked()), c) }) {
			return i
		}
	}
	return -1
}

// checkNetworks is the network part of CheckNoEscalation: a caller
// restricted to networks stands only behind keys restricted to networks
// inside its own.
func checkNetworks(caller, wanted Access) error {
	if len(caller.AllowedNetworks) == 0 {
		return nil
	}
	mine := FormatNetworks(caller.AllowedNetworks)
	if len(wanted.AllowedNetworks) == 0 {
		return &EscalationError{Field: "allowed_cidrs", Reason: "your key may only be used from " + mine + ", so it cannot stand behind a key usable from anywhere: give allowed_cidrs inside your own"}
	}
	if i := networksWithin(caller.AllowedNetworks, wanted.AllowedNetworks); i >= 0 {
		return &EscalationError{Field: fmt.Sprintf("allowed_cidrs[%d]", i),
			Reason: fmt.Sprintf("your key may only be used from %s, which does not include %s", mine, wanted.AllowedNetworks[i])}
	}
	return nil
}

// FormatNetworks lists networks for people: "203.0.113.0/24, 2001:db8::/32".
func FormatNetworks(ps []netip.Prefix) string { return strings.Join(NetworkStrings(ps), ", ") }

// NetworkStrings is each network in CIDR notation, in order (an empty,
// non-nil slice for none): the form the API answers, stores and records.
func NetworkStrings(ps []netip.Prefix) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return s
}
