package token_test

import (
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/token"
)

// TestRedact: every token-shaped run is replaced, wherever it stands and
// however it is cut; other text is kept byte for byte.
func TestRedact(t *testing.T) {
	sec, err := token.NewGenerator().New()
	if err != nil {
		t.Fatal(err)
	}
	tok := sec.Token
	for _, tc := range []struct{ in, want string }{
		{"curl/8.5.0", "curl/8.5.0"},
		{"", ""},
		{tok, token.Redacted},
		{"ci " + tok + " v2", "ci " + token.Redacted + " v2"},
		{tok + tok, token.Redacted},
		{tok + "-" + tok, token.Redacted + "-" + token.Redacted},
		{"Bearer%20" + tok + "%0A", "Bearer%20" + token.Redacted + "%0A"},
		{tok[:30], token.Redacted},
		{"dotenv_", token.Redacted},
		{"my dotenv_ file", "my " + token.Redacted + " file"},
		{"DOTENV_" + tok[7:], "DOTENV_" + tok[7:]}, // not a token: the prefix is lower case
	} {
		if got := token.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRedact: whatever surrounds a token, no part of its verifier survives.
func FuzzRedact(f *testing.F) {
	sec, err := token.NewGenerator().New()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "ua/1.0 ", "dotenv_", "\x00\xff", "ééé"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		out := token.Redact(before + sec.Token + after)
		if strings.Contains(out, sec.Parsed.Verifier) {
			t.Fatalf("the verifier survived in %q", out)
		}
		if _, err := token.Parse(out); err == nil {
			t.Fatalf("Redact left a token: %q", out)
		}
	})
}
