package handler

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/token"
)

// Placeholder stands for the explored key's token wherever the explorer
// would otherwise echo it: in the echoed request, the snippets, the called
// route's answer and errors. The snippets read the token from the variable
// it names.
const Placeholder = "$" + TokenVariable

// maxDecodeDepth bounds how many encodings deep a string is unwrapped
// (percent-encoding of base64 of JSON escapes is three).
const maxDecodeDepth = 3

// scrubber replaces one key's token in everything the explorer echoes. It
// matches the token's secret part case-insensitively, with or without the
// prefix, selector and checksum around it, and looks through the encodings
// a client could use to smuggle it past a plain replace: JSON and \x
// escapes, percent-encoding, HTML character references, base64 (standard or
// URL alphabet, padded or not) and hex. The zero scrubber changes nothing.
type scrubber struct {
	re *regexp.Regexp
}

// newScrubber returns the scrubber of tok; a string that is not a
// well-formed token has nothing to scrub (it cannot authenticate either).
func newScrubber(tok string) scrubber {
	p, err := token.Parse(tok)
	if err != nil {
		return scrubber{}
	}
	checksum := tok[token.Len-token.ChecksumLen:]
	return scrubber{re: regexp.MustCompile(`(?i)(?:` + regexp.QuoteMeta(token.Prefix) + `)?(?:` +
		regexp.QuoteMeta(p.Selector) + `)?` + regexp.QuoteMeta(p.Verifier) + `(?:` + regexp.QuoteMeta(checksum) + `)?`)}
}

// keyScrubber matches any token of the key with id keyID (its selector
// followed by secret characters). It serves before the request's token is
// known, so that even an error about an unparsable body never echoes one.
// It is never applied to a called route's answer: rotating the explored key
// legitimately answers the key's new token.
func keyScrubber(keyID string) scrubber {
	sel, ok := strings.CutPrefix(keyID, token.KeyIDPrefix)
	if !ok || len(sel) != token.SelectorLen {
		return scrubber{}
	}
	return scrubber{re: regexp.MustCompile(`(?i)(?:` + regexp.QuoteMeta(token.Prefix) + `)?` + regexp.QuoteMeta(sel) + `[0-9a-z]{8,}`)}
}

// String returns s with every occurrence of the token replaced by
// Placeholder; when the token is still there under some encoding the whole
// string is replaced.
func (sc scrubber) String(s string) string {
	if sc.re == nil {
		return s
	}
	out := sc.re.ReplaceAllLiteralString(s, Placeholder)
	if sc.hidden(out, maxDecodeDepth) {
		return Placeholder
	}
	return out
}

// leaks reports whether s holds the token, plainly or encoded.
func (sc scrubber) leaks(s string) bool {
	return sc.re != nil && (sc.re.MatchString(s) || sc.hidden(s, maxDecodeDepth))
}

// hidden reports whether one of the decodings of s (up to depth deep)
// holds the token.
func (sc scrubber) hidden(s string, depth int) bool {
	if depth == 0 {
		return false
	}
	for _, d := range decodings(s) {
		if d != s && (sc.re.MatchString(d) || sc.hidden(d, depth-1)) {
			return true
		}
	}
	return false
}

var (
	base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}`)
	hexRun    = regexp.MustCompile(`[0-9A-Fa-f]{64,}`)
)

// decodings returns the texts s may encode: s with percent-escapes, JSON or
// \x escapes or HTML references decoded, and the contents of its base64
// and hex runs (each tried at every alignment).
func decodings(s string) []string {
	var out []string
	if strings.Contains(s, "%") {
		out = append(out, unescapePercent(s))
	}
	if strings.Contains(s, `\`) {
		out = append(out, unescapeBackslash(s))
	}
	if strings.Contains(s, "&") {
		out = append(out, html.UnescapeString(s))
	}
	for _, run := range base64Run.FindAllString(s, -1) {
		for off := 0; off < 4; off++ {
			r := run[off:]
			if len(r)%4 == 1 {
				r = r[:len(r)-1]
			}
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(r); err == nil {
					out = append(out, string(b))
				}
			}
		}
	}
	for _, run := range hexRun.FindAllString(s, -1) {
		for off := 0; off < 2; off++ {
			r := run[off:]
			if b, err := hex.DecodeString(r[:len(r)&^1]); err == nil {
				out = append(out, string(b))
			}
		}
	}
	return out
}

// unescapePercent decodes every valid %XX escape and keeps anything else.
func unescapePercent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeBackslash decodes \uXXXX, \xXX and the one-character escapes of
// JSON and JavaScript, and keeps anything else.
func unescapeBackslash(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; c {
		case 'u':
			if i+6 <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
					b.WriteRune(rune(v))
					i += 5
					continue
				}
			}
		case 'x':
			if i+4 <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 3
					continue
				}
			}
		case '\\', '/', '"', '\'':
			b.WriteByte(c)
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// JSON returns raw (valid JSON) with the token scrubbed from every string
// and object key, as decoded: an escaped form such as \u0064otenv_… is
// caught. Text without the token is returned unchanged, formatting and all.
func (sc scrubber) JSON(raw json.RawMessage) json.RawMessage {
	if sc.re == nil || raw == nil {
		return raw
	}
	var out []byte
	last := 0
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		end := i + 1
		for end < len(raw) && raw[end] != '"' {
			if raw[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(raw) {
			break
		}
		lit := raw[i : end+1]
		var s string
		if err := json.Unmarshal(lit, &s); err == nil {
			if c := sc.String(s); c != s {
				q, _ := json.Marshal(c)
				out = append(append(out, raw[last:i]...), q...)
				last = end + 1
			}
		}
		i = end
	}
	if out == nil {
		return raw
	}
	return append(out, raw[last:]...)
}

// Value returns a decoded JSON value with the token scrubbed from every
// string and object key.
func (sc scrubber) Value(v any) any {
	if sc.re == nil {
		return v
	}
	switch x := v.(type) {
	case string:
		return sc.String(x)
	case []any:
		for i := range x {
			x[i] = sc.Value(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[sc.String(k)] = sc.Value(e)
		}
		return out
	}
	return v
}

// Headers scrubs the values of a header map in place.
func (sc scrubber) Headers(h map[string]string) map[string]string {
	for k, v := range h {
		h[k] = sc.String(v)
	}
	return h
}

// Error returns err with the token scrubbed from its public message and
// fields (the internal cause is only ever logged, and never holds it).
func (sc scrubber) Error(err error) error {
	var fe *fault.Error
	if sc.re == nil || !errors.As(err, &fe) {
		return err
	}
	c := *fe
	c.Message = sc.String(fe.Message)
	c.Fields = make([]fault.FieldError, len(fe.Fields))
	for i, f := range fe.Fields {
		c.Fields[i] = fault.FieldError{Field: sc.String(f.Field), Code: f.Code, Message: sc.String(f.Message)}
	}
	return &c
}
