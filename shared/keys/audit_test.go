package keys

import (
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
)

// TestKeyChanges: keyChanges records exactly the fields that differ, from
// → to as the API shows them; the network allowlist in normal form, null
// for anywhere.
func TestKeyChanges(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	base := &Key{ID: "key_a", Name: "ci", Access: authz.Access{Grants: []authz.Grant{{Permission: "secrets:read"}},
		ExpiresAt: at.Add(time.Hour), AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}}
	with := func(f func(*Key)) *Key { k := base.Clone(); f(k); return k }
	tests := []struct {
		name     string
		from, to *Key
		want     map[string][2]string
	}{
		{"nothing", base, base.Clone(), nil},
		{"networks added", base, with(func(k *Key) {
			k.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24")}
		}), map[string][2]string{"allowed_cidrs": {`["192.0.2.0/24"]`, `["10.0.0.0/8","192.0.2.0/24"]`}}},
		{"networks cleared", base, with(func(k *Key) { k.AllowedNetworks = nil }),
			map[string][2]string{"allowed_cidrs": {`["192.0.2.0/24"]`, `null`}}},
		{"same networks, not in normal form", base, with(func(k *Key) {
			k.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("192.0.2.7/32")}
		}), nil},
		{"created with networks", &Key{}, base, map[string][2]string{
			"name": {`null`, `"ci"`}, "permissions": {`null`, `[{"permission":"secrets:read"}]`},
			"expires_at": {`null`, `"2026-11-25T13:00:00.000Z"`}, "allowed_cidrs": {`null`, `["192.0.2.0/24"]`}}},
		{"renamed", base, with(func(k *Key) { k.Name = "cd" }), map[string][2]string{"name": {`"ci"`, `"cd"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev audit.Event
			keyChanges(&ev, tt.from, tt.to)
			if got, want := slices.Sorted(maps.Keys(ev.Changes)), slices.Sorted(maps.Keys(tt.want)); !slices.Equal(got, want) {
				t.Fatalf("changes %v, want %v", got, want)
			}
			for f, w := range tt.want {
				c := ev.Changes[f]
				if string(c.From) != w[0] || string(c.To) != w[1] {
					b, _ := json.Marshal(c)
					t.Errorf("%s = %s, want %s → %s", f, b, w[0], w[1])
				}
			}
		})
	}
}
