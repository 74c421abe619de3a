package wire

import (
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/keys"
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

// TestKeyShowsPreviousTokenWhileGraceRuns: the previous token's end and
// hint are in a key answer only while its grace period runs at the
// answer's clock.
func TestKeyShowsPreviousTokenWhileGraceRuns(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	prev := func(ends time.Time) *keys.PreviousToken {
		return &keys.PreviousToken{Hint: "dotenv_AbCd…wxyz", ExpiresAt: ends}
	}
	for _, tc := range []struct {
		name     string
		previous *keys.PreviousToken
		shown    bool
	}{
		{"none", nil, false},
		{"running", prev(now.Add(time.Millisecond)), true},
		{"ends now", prev(now), false},
		{"ended", prev(now.Add(-time.Hour)), false},
	} {
		k := &keys.Key{ID: "key_1", Hint: "dotenv_EfGh…1234", CreatedAt: now, UpdatedAt: now, Version: 2, Previous: tc.previous}
		got := KeyOf(k, nil, now)
		if shown := got.PreviousTokenExpiresAt != nil; shown != tc.shown || (got.PreviousTokenHint != "") != tc.shown {
			t.Errorf("%s: previous_token_expires_at %v, hint %q; want shown %v", tc.name, got.PreviousTokenExpiresAt, got.PreviousTokenHint, tc.shown)
		}
		if tc.shown && (*got.PreviousTokenExpiresAt != Time(tc.previous.ExpiresAt) || got.PreviousTokenHint != tc.previous.Hint) {
			t.Errorf("%s: shows %s %q, want %s %q", tc.name, *got.PreviousTokenExpiresAt, got.PreviousTokenHint, Time(tc.previous.ExpiresAt), tc.previous.Hint)
		}
	}
}
