package audit

import (
	"net"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Bounds of the source fields kept with an event (longer values are cut).
const (
	maxUserAgent = 512
	maxRequestID = 128
)

// RequestIDHeader is the header a request id is read from when the runtime
// has none of its own (the single binary behind a proxy).
const RequestIDHeader = "X-Request-Id"

// SourceOf returns the source of r: the client address of its connection
// (http.Request.RemoteAddr without the port; the Lambda adapter sets it to
// API Gateway's requestContext.identity.sourceIp), its User-Agent and
// requestID ("" for r's X-Request-Id header). Values are made valid UTF-8
// and bounded, so that any request can be recorded.
func SourceOf(r *http.Request, requestID string) Source {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	if requestID == "" {
		requestID = r.Header.Get(RequestIDHeader)
	}
	return Source{IP: clean(ip, 64), UserAgent: clean(r.UserAgent(), maxUserAgent), RequestID: clean(requestID, maxRequestID)}
}

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
