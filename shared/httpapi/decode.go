package httpapi

import (
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
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return fault.New(fault.CodeUnsupportedMediaType, "send the body as application/json")
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err)
		}
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
