package wire

import (
	"testing"
	"time"
)

// TestTimeFormat: every time the API answers is RFC 3339 UTC with exactly
// three fraction digits.
func TestTimeFormat(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), "2027-01-31T00:00:00.000Z"},
		{time.Date(2027, 1, 31, 0, 0, 0, 120_000_000, time.UTC), "2027-01-31T00:00:00.120Z"},
		{time.Date(2027, 1, 31, 0, 0, 0, 999_999_999, time.UTC), "2027-01-31T00:00:00.999Z"},
		{time.Date(2027, 1, 31, 1, 30, 0, 5_000_000, time.FixedZone("", 90*60)), "2027-01-31T00:00:00.005Z"},
	}
	for _, tt := range tests {
		if got := Time(tt.in); got != tt.want {
			t.Errorf("Time(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if OptTime(time.Time{}) != nil {
		t.Error("OptTime of the zero time must be null")
	}
	if got := OptTime(tests[1].in); got == nil || *got != tests[1].want {
		t.Errorf("OptTime = %v, want %s", got, tests[1].want)
	}
}
