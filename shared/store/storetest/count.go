package storetest

import (
	"testing"

	"github.com/dotenv/apikeys/shared/store"
)

// testKeyCount: CountKeys counts one organization's keys only, stops at its
// bound, and follows deletions.
func testKeyCount(t *testing.T, s store.Store) {
	org := newOrg(t, s).ID
	other := newOrg(t, s).ID
	empty := newOrg(t, s).ID
	at := now()
	for range 5 {
		mustCreateKey(t, s, newKey(org, at))
	}
	gone := newKey(org, at)
	mustCreateKey(t, s, gone)
	mustCreateKey(t, s, newKey(other, at))
	if err := s.DeleteKey(t.Context(), gone.ID, 1, ev()); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	tests := []struct {
		name   string
		org    string
		atMost int
		want   int
	}{
		{"all of them", org, 100, 5},
		{"exactly the bound", org, 5, 5},
		{"stops at the bound", org, 3, 3},
		{"bound of one", org, 1, 1},
		{"bound of zero", org, 0, 0},
		{"another organization", other, 100, 1},
		{"no keys", empty, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CountKeys(t.Context(), tt.org, tt.atMost)
			if err != nil || got != tt.want {
				t.Fatalf("CountKeys(atMost %d) = %d, %v; want %d", tt.atMost, got, err, tt.want)
			}
		})
	}
}
