package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/dotenv/apikeys/shared/fault"
)

// MaxBodyBytes is the largest request body accepted (64 KiB).
const MaxBodyBytes = 64 << 10

// DecodeJSON reads a JSON request body into dst: application/json only
// (415), at most MaxBodyBytes (413), then UnmarshalStrict's rules: strict
// JSON (400 malformed_json) and every unknown, mistyped or missing required
// field named at once (400 validation_failed).
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

func decodeError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fault.New(fault.CodePayloadTooLarge, "the body is larger than %d bytes", MaxBodyBytes)
	}
	// Nothing of the request is echoed: it may hold a secret.
	return fault.Wrap(err, fault.CodeMalformedJSON, "the body could not be read")
}
