package audit

import (
	"crypto/rand"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/dotenv/apikeys/shared/token"
)

// Bounds of the source fields kept with an event (longer values are cut).
const (
	maxUserAgent = 512
	maxRequestID = 128
)

// MaxClientRequestID is the longest X-Request-Id a client may choose: a
// longer one, an empty one or one with other than visible ASCII characters
// (0x21 to 0x7E) is replaced by a generated id.
const MaxClientRequestID = 64

// RequestIDHeader is the header a request id is read from when the runtime
// has none of its own (the single binary, behind a proxy or not), and the
// header the request id is answered in.
const RequestIDHeader = "X-Request-Id"

// SourceOf returns the source of r: the client address of its connection
// (http.Request.RemoteAddr without the port; the Lambda adapter sets it to
// API Gateway's requestContext.identity.sourceIp), its User-Agent and
// requestID (the runtime's: API Gateway's on Lambda; "" for RequestIDOf(r)).
// Values are made valid UTF-8 and bounded, so that any request can be
// recorded, and a token quoted in the User-Agent is redacted
// (token.Redact): the trail is read with another permission.
func SourceOf(r *http.Request, requestID string) Source {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	if requestID == "" {
		requestID = RequestIDOf(r)
	}
	return Source{IP: clean(ip, 64), UserAgent: clean(token.Redact(r.UserAgent()), maxUserAgent), RequestID: clean(requestID, maxRequestID)}
}

// RequestIDOf returns the request id of r when the runtime has none of its
// own: its X-Request-Id when ClientRequestID accepts it (a proxy's or the
// client's correlation id), otherwise a new one (NewRequestID). A client
// can choose the id recorded with its own changes, never an unbounded or
// unprintable one.
func RequestIDOf(r *http.Request) string {
	if id, ok := ClientRequestID(r.Header.Get(RequestIDHeader)); ok {
		return id
	}
	return NewRequestID()
}

// ClientRequestID reports whether a request id a client sent may be kept:
// 1 to MaxClientRequestID visible ASCII characters, quoting no token (it is
// recorded in the trail and answered back).
func ClientRequestID(s string) (string, bool) {
	if s == "" || len(s) > MaxClientRequestID || strings.Contains(s, token.Prefix) {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return "", false
		}
	}
	return s, true
}

// NewRequestID returns a new random request id: 26 base32 characters (128
// bits from crypto/rand).
func NewRequestID() string { return rand.Text() }

// clean makes s valid UTF-8 and cuts it to at most n bytes on a rune
// boundary.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
