package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/dotenv/apikeys/shared/fault"
)

// MaxBodyBytes is the largest request body accepted (64 KiB).
const MaxBodyBytes = 64 << 10

// DecodeJSON reads a JSON request body into dst: application/json only
// (415), at most MaxBodyBytes (413), one JSON value, no unknown fields (400
// naming the field), values of the right types (400 naming the field).
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	b, err := ReadJSONBody(w, r, nil)
	if err != nil {
		return err
	}
	return UnmarshalStrict(b, dst)
}

// ReadJSONBody checks that the body is application/json (415) and appends
// all of it, at most MaxBodyBytes (413), to buf.
func ReadJSONBody(w http.ResponseWriter, r *http.Request, buf []byte) ([]byte, error) {
	if !isJSON(r.Header.Get("Content-Type")) {
		return nil, fault.New(fault.CodeUnsupportedMediaType, "send the body as application/json")
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, decodeError(&http.MaxBytesError{Limit: MaxBodyBytes})
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, decodeError(err)
		}
	}
}

// isJSON accepts application/json with optional parameters; the common
// exact value is recognised without parsing.
func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// UnmarshalStrict decodes exactly one JSON value from b into dst, refusing
// unknown fields, with the errors DecodeJSON answers.
func UnmarshalStrict(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.New(fault.CodeMalformedJSON, "the body must hold exactly one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var (
		tooBig *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return fault.New(fault.CodePayloadTooLarge, "the body is larger than %d bytes", MaxBodyBytes)
	case errors.As(err, &syntax):
		return fault.New(fault.CodeMalformedJSON, "the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.EOF):
		return fault.New(fault.CodeMalformedJSON, "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fault.New(fault.CodeMalformedJSON, "the body ends in the middle of a JSON value")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fault.New(fault.CodeMalformedJSON, "the body must be a JSON object")
		}
		return fault.Invalid(field, "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fault.Invalid(strings.Trim(name, `"`), "is not a known field")
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe
	}
	// Nothing of the request is echoed: it may hold a secret.
	return fault.Wrap(err, fault.CodeMalformedJSON, "the body could not be read as JSON")
}

// jsonKind names a Go kind the way a JSON user would.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	}
	return "a " + kind
}
