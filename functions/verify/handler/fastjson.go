package handler

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

// The verify route is the hot path other services call on every request,
// so its body is read with a fast path for the common shape: an object of
// plain strings (no escapes, valid UTF-8) with exactly the lower-case field
// names, each at most once, and the required token present. Anything else
// — escapes, nulls, other types, other letter cases, unknown or repeated
// fields, invalid UTF-8, a missing token, trailing data — falls back to the
// strict decoder (httpapi.UnmarshalStrict), which answers exactly as every
// other route does. FuzzParseVerifyRequest holds the two together: whatever
// the fast path accepts, the strict decoder accepts with the same value,
// and decodeVerifyRequest answers exactly what the strict decoder answers.

// decodeVerifyRequest decodes the body of POST /v1/verify: the fast path
// for the common shape, the strict decoder for everything else.
func decodeVerifyRequest(b []byte) (wire.VerifyRequest, error) {
	if req, ok := parseVerifyRequest(b); ok {
		return req, nil
	}
	var req wire.VerifyRequest
	if err := httpapi.UnmarshalStrict(b, &req); err != nil {
		return wire.VerifyRequest{}, err
	}
	return req, nil
}

// parseVerifyRequest decodes b when it has the common shape.
func parseVerifyRequest(b []byte) (req wire.VerifyRequest, ok bool) {
	p := scanner{b: b}
	var seen [4]bool
	ok = p.object(func(key []byte) bool {
		switch string(key) {
		case "token":
			if seen[0] {
				return false
			}
			seen[0] = true
			v, ok := p.str()
			req.Token = v
			return ok
		case "permission":
			if seen[1] {
				return false
			}
			seen[1] = true
			v, ok := p.str()
			req.Permission = v
			return ok
		case "client_ip":
			if seen[3] {
				return false
			}
			seen[3] = true
			v, ok := p.str()
			req.ClientIP = v
			return ok
		case "resource":
			if seen[2] {
				return false
			}
			seen[2] = true
			res := &wire.Resource{}
			var rs [4]bool
			req.Resource = res
			return p.object(func(k []byte) bool {
				var dst *string
				var i int
				switch string(k) {
				case "team":
					dst, i = &res.Team, 0
				case "project":
					dst, i = &res.Project, 1
				case "target":
					dst, i = &res.Target, 2
				case "environment":
					dst, i = &res.Environment, 3
				default:
					return false
				}
				if rs[i] {
					return false
				}
				rs[i] = true
				v, ok := p.str()
				*dst = v
				return ok
			})
		}
		return false
	})
	if !ok || !seen[0] {
		// Without a token the strict decoder answers the missing field.
		return wire.VerifyRequest{}, false
	}
	p.ws()
	return req, p.i == len(p.b)
}

// scanner walks a byte slice.
type scanner struct {
	b []byte
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads {"k": v, ...}, calling member after each key and colon to
// read the value.
func (p *scanner) object(member func(key []byte) bool) bool {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.ws()
		key, ok := p.raw()
		if !ok {
			return false
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		if !member(key) {
			return false
		}
		p.ws()
		if p.i >= len(p.b) {
			return false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// raw reads a plain string: no escapes, no control characters, valid UTF-8.
func (p *scanner) raw() ([]byte, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[start:j]
			if !utf8.Valid(s) {
				return nil, false
			}
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (p *scanner) str() (string, bool) {
	p.ws()
	s, ok := p.raw()
	return string(s), ok
}

// appendResponse appends the JSON of a verification answer, byte for byte
// what json.Marshal writes (held to it by TestAppendResponseMatchesMarshal).
func appendResponse(b []byte, r wire.VerifyResponse) []byte {
	b = append(b, `{"valid":`...)
	b = appendBool(b, r.Valid)
	b = append(b, `,"allowed":`...)
	b = appendBool(b, r.Allowed)
	b = append(b, `,"code":`...)
	b = appendString(b, r.Code)
	b = append(b, `,"key":`...)
	if r.Key == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"id":`...)
		b = appendString(b, r.Key.ID)
		b = append(b, `,"organization_id":`...)
		b = appendString(b, r.Key.OrganizationID)
		b = append(b, `,"name":`...)
		b = appendString(b, r.Key.Name)
		b = append(b, `,"expires_at":`...)
		if r.Key.ExpiresAt == nil {
			b = append(b, "null"...)
		} else {
			b = appendString(b, *r.Key.ExpiresAt)
		}
		b = append(b, '}')
	}
	if r.PreviousToken {
		b = append(b, `,"previous_token":true`...)
	}
	if r.PreviousTokenExpiresAt != nil {
		b = append(b, `,"previous_token_expires_at":`...)
		b = appendString(b, *r.PreviousTokenExpiresAt)
	}
	if r.Missing != nil {
		m, _ := json.Marshal(r.Missing) // rare: forbidden answers only
		b = append(b, `,"missing":`...)
		b = append(b, m...)
	}
	return append(b, '}')
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendString writes s as a JSON string; anything encoding/json would
// escape (quotes, backslashes, control characters, <, >, &, non-ASCII) goes
// through json.Marshal so the output stays identical.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
