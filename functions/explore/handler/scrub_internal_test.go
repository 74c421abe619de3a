package handler

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/token"
)

func newToken(t *testing.T) token.Secret {
	t.Helper()
	s, err := token.NewGenerator().New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jsonEscapeAll writes every character of s as a \uXXXX escape.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(`\u00`)
		b.WriteString(hex.EncodeToString([]byte{byte(r)}))
	}
	return b.String()
}

// percentAll percent-encodes every byte of s.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{s[i]})))
	}
	return b.String()
}

// TestScrubberForms: every form of the token a client could smuggle
// through a naive replace is replaced by the placeholder.
func TestScrubberForms(t *testing.T) {
	sec := newToken(t)
	tok := sec.Token
	sc := newScrubber(tok)
	tests := []struct{ name, in string }{
		{"exact", tok},
		{"inside text", "Bearer " + tok + "!"},
		{"upper-case prefix", "DOTENV_" + tok[len(token.Prefix):]},
		{"whole token upper-cased", strings.ToUpper(tok)},
		{"whole token lower-cased", strings.ToLower(tok)},
		{"without prefix", tok[len(token.Prefix):]},
		{"verifier alone", sec.Verifier},
		{"percent-encoded", percentAll(tok)},
		{"percent-encoded twice", url.QueryEscape(percentAll(tok))},
		{"query-escaped in a URL", "https://x/?t=" + url.QueryEscape(tok)},
		{"JSON-escaped text", jsonEscapeAll(tok)},
		{"JavaScript \\x escapes", strings.ReplaceAll(jsonEscapeAll(tok), `\u00`, `\x`)},
		{"HTML references", "&#100;&#111;&#116;" + tok[3:]},
		{"base64", base64.StdEncoding.EncodeToString([]byte(tok))},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString([]byte(tok))},
		{"base64 URL alphabet", base64.URLEncoding.EncodeToString([]byte("x:" + tok))},
		{"base64 misaligned in text", "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+tok))},
		{"base64 of percent-encoding", base64.StdEncoding.EncodeToString([]byte(percentAll(tok)))},
		{"hex", hex.EncodeToString([]byte(tok))},
		{"hex upper-case, odd offset", "0" + strings.ToUpper(hex.EncodeToString([]byte(" "+tok)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sc.String(tt.in)
			if strings.Contains(got, tt.in) || sc.leaks(got) || strings.Contains(strings.ToLower(got), strings.ToLower(sec.Verifier)) {
				t.Fatal("the scrubbed string still holds the token")
			}
			if !strings.Contains(got, Placeholder) {
				t.Fatalf("the scrubbed string has no placeholder (%d characters)", len(got))
			}
		})
	}
	for _, keep := range []string{"", "hello", "key_" + sec.Selector, "/v1/api-keys/key_" + sec.Selector, token.Prefix + sec.Selector, strings.Repeat("A", 200)} {
		if got := sc.String(keep); got != keep {
			t.Errorf("String(%q) = %q, want it unchanged", keep, got)
		}
	}
}

// TestScrubberJSON: strings and object keys are scrubbed as decoded, and a
// body without the token keeps its exact text.
func TestScrubberJSON(t *testing.T) {
	sec := newToken(t)
	sc := newScrubber(sec.Token)
	for _, body := range []string{
		`{"token":"` + sec.Token + `"}`,
		`{"token":"` + jsonEscapeAll(sec.Token) + `"}`,
		`{"` + sec.Token + `":1}`,
		`["a",{"b":["` + jsonEscapeAll(sec.Token[:10]) + sec.Token[10:] + `"]}]`,
		`{"nested":"{\"token\":\"` + strings.ReplaceAll(jsonEscapeAll(sec.Token), `\`, `\\`) + `\"}"}`,
	} {
		got := sc.JSON(json.RawMessage(body))
		if !json.Valid(got) {
			t.Errorf("scrubbed body is not JSON: %s", got)
		}
		if sc.leaks(string(got)) || !strings.Contains(string(got), Placeholder) {
			t.Errorf("the scrubbed body still holds the token, or lacks the placeholder")
		}
	}
	keep := "{ \"a\" : [1, 2.50, \"x\\ty\"] ,\n \"b\":null }"
	if got := sc.JSON(json.RawMessage(keep)); string(got) != keep {
		t.Errorf("JSON(%q) = %q, want it unchanged", keep, got)
	}
	if got := newScrubber("not a token").JSON(json.RawMessage(`"not a token"`)); string(got) != `"not a token"` {
		t.Errorf("a string that is not a token must not be scrubbed: %s", got)
	}
}

// TestScrubberErrorAndValue: public messages and fields of errors, and the
// strings and keys of decoded values.
func TestScrubberErrorAndValue(t *testing.T) {
	sec := newToken(t)
	sc := newScrubber(sec.Token)
	err := sc.Error(fault.Invalid("headers."+sec.Token, "is %s", sec.Token))
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != fault.CodeValidation || len(fe.Fields) != 1 || fe.Fields[0].Code != fault.FieldInvalid {
		t.Fatalf("the scrubbed error lost its code or fields: %v", err)
	}
	if sc.leaks(fe.Message) || sc.leaks(fe.Fields[0].Field) || sc.leaks(fe.Fields[0].Message) {
		t.Error("the scrubbed error still holds the token")
	}
	v := sc.Value(map[string]any{sec.Token: []any{"a " + sec.Token, 1.0, map[string]any{"k": percentAll(sec.Token)}}})
	b, _ := json.Marshal(v)
	if sc.leaks(string(b)) || strings.Count(string(b), Placeholder) != 3 {
		t.Errorf("the scrubbed value still holds the token, or lacks a placeholder")
	}
	// Before the token is known, any token of the key is scrubbed.
	ks := keyScrubber(sec.KeyID())
	kerr := ks.Error(fault.InvalidAs(sec.Token, fault.FieldUnknown, "is not a field"))
	if !errors.As(kerr, &fe) || strings.Contains(fe.Fields[0].Field, sec.Verifier) || fe.Fields[0].Code != fault.FieldUnknown {
		t.Errorf("the key scrubber left the token in an error field")
	}
	if got := ks.String(sec.KeyID()); got != sec.KeyID() {
		t.Errorf("the key scrubber changed the key id: %q", got)
	}
}
