package httpapi

import (
	"net/url"

	"github.com/dotenv/apikeys/shared/fault"
)

// MaxCursorBytes bounds a page cursor. The stores' cursors are a few
// hundred bytes at most (docs/dynamodb.md, "Cursors"); anything longer was
// not minted by them.
const MaxCursorBytes = 1024

// QueryInt reads the optional integer query parameter name. It must be
// given at most once, as decimal digits only (no sign, space or exponent:
// wrong_type), with a value from min to max (out_of_range, overflows
// included). given is false when the parameter is absent.
func QueryInt(q url.Values, name string, min, max int) (n int, given bool, err error) {
	vs, ok := q[name]
	if !ok {
		return 0, false, nil
	}
	if len(vs) != 1 {
		return 0, true, fault.InvalidAs(name, fault.FieldInvalid, "give %s once", name)
	}
	s := vs[0]
	if s == "" {
		return 0, true, fault.InvalidAs(name, fault.FieldType, "must be a whole number from %d to %d", min, max)
	}
	big := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, true, fault.InvalidAs(name, fault.FieldType, "must be a whole number from %d to %d", min, max)
		}
		// Stop accumulating past max: no overflow, whatever the length.
		if !big {
			n = n*10 + int(c-'0')
			big = n > max
		}
	}
	if big || n < min {
		return 0, true, fault.InvalidAs(name, fault.FieldOutOfRange, "must be a whole number from %d to %d", min, max)
	}
	return n, true, nil
}

// QueryString reads the optional query parameter name: given at most
// once, at most maxBytes long (out_of_range). It is "" when absent.
func QueryString(q url.Values, name string, maxBytes int) (string, error) {
	vs := q[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", fault.InvalidAs(name, fault.FieldInvalid, "give %s once", name)
	case len(vs[0]) > maxBytes:
		return "", fault.InvalidAs(name, fault.FieldOutOfRange, "must be at most %d bytes", maxBytes)
	}
	return vs[0], nil
}
