package store

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/dotenv/apikeys/shared/authz"
)

// A key's network allowlist is stored as the CIDR text of each network
// (bbolt JSON "allowed_cidrs", DynamoDB list attribute "cidrs"), in the
// normal form authz.NormalizeNetworks gives, at most authz.MaxNetworks of
// them. Readers accept nothing else, so the write gate refuses anything
// else: a list that would read back different is never written.

// CheckNetworks reports why ps is not a storable allowlist (nil when it
// is): more than authz.MaxNetworks entries, an invalid prefix, or a list
// that is not in normal form (unmasked, IPv4-mapped, unsorted, overlapping).
func CheckNetworks(ps []netip.Prefix) error {
	if len(ps) > authz.MaxNetworks {
		return fmt.Errorf("allowed_cidrs: %d networks, at most %d", len(ps), authz.MaxNetworks)
	}
	for _, p := range ps {
		if !p.IsValid() {
			return fmt.Errorf("allowed_cidrs: an invalid network")
		}
	}
	if !slices.Equal(authz.NormalizeNetworks(ps), ps) {
		return fmt.Errorf("allowed_cidrs: %v is not in normal form", ps)
	}
	return nil
}

// EncodeNetworks returns the stored form of an allowlist (nil when empty).
func EncodeNetworks(ps []netip.Prefix) []string {
	if len(ps) == 0 {
		return nil
	}
	return authz.NetworkStrings(ps)
}

// DecodeNetworks reads a stored allowlist (nil when empty), refusing what
// CheckNetworks refuses.
func DecodeNetworks(ss []string) ([]netip.Prefix, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	if len(ss) > authz.MaxNetworks {
		return nil, fmt.Errorf("allowed_cidrs: %d networks, at most %d", len(ss), authz.MaxNetworks)
	}
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("allowed_cidrs[%d]: %w", i, err)
		}
		out[i] = p
	}
	if err := CheckNetworks(out); err != nil {
		return nil, err
	}
	return out, nil
}
