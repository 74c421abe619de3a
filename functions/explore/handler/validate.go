package handler

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
)

// maxPathLen bounds an explored path (with its query).
const maxPathLen = 2048

// allowedHeaders are the request headers a user may set on an explored
// call; the explorer sets Authorization itself.
var allowedHeaders = map[string]bool{"If-Match": true, "Content-Type": true}

// pathMatcher tells whether a method and path are a route of this API.
type pathMatcher struct{ mux *http.ServeMux }

func newPathMatcher(routes authz.Routes) *pathMatcher {
	m := http.NewServeMux()
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, r := range routes {
		if r.Operation == "exploreKey" {
			continue // no explorer inside the explorer
		}
		m.Handle(r.Method+" "+r.Pattern, noop)
	}
	return &pathMatcher{mux: m}
}

func (p *pathMatcher) matches(method, path string) bool {
	_, pattern := p.mux.Handler(&http.Request{Method: method, URL: &url.URL{Path: path}, Host: "api"})
	return pattern != ""
}

// maxHeaderValueLen bounds an explored header value (this API's ETags and
// media types are far shorter).
const maxHeaderValueLen = 1024

// validate checks the method, the path and the headers of an explored call
// before anything is called, and answers every offending field at once: only
// this API's routes; a path of visible URL characters with no scheme, host,
// dot segments, percent-encoding or backslashes; only a few headers, whose
// values are RFC 9110 field values (visible ASCII, spaces and tabs; no
// control characters, and no obs-text: this API's ETags are ASCII).
func (e *explorer) validate(req Request) (method, path string, headers map[string]string, err error) {
	var fs fault.Fields
	method = strings.ToUpper(strings.TrimSpace(req.Method))
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete:
	default:
		fs.Add("method", fault.FieldInvalid, "must be one of GET, POST, PATCH, DELETE")
		method = ""
	}
	if msg := e.checkPath(method, req.Path); msg != "" {
		fs.Add("path", fault.FieldInvalid, "%s", msg)
	}
	headers = map[string]string{}
	names := make([]string, 0, len(req.Headers))
	for k := range req.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		name := http.CanonicalHeaderKey(strings.TrimSpace(k))
		v := strings.Trim(req.Headers[k], " \t")
		switch {
		case !allowedHeaders[name]:
			fs.Add("headers."+k, fault.FieldInvalid, "only If-Match and Content-Type may be set; the explorer sends the key's token itself")
		case len(v) > maxHeaderValueLen:
			fs.Add("headers."+k, fault.FieldOutOfRange, "must be at most %d characters", maxHeaderValueLen)
		case strings.ContainsAny(v, "\r\n"):
			fs.Add("headers."+k, fault.FieldInvalid, "must not contain line breaks")
		case !fieldValue(v):
			fs.Add("headers."+k, fault.FieldInvalid, "must hold only visible ASCII characters, spaces and tabs")
		case name == "Content-Type" && v != "application/json":
			fs.Add("headers."+k, fault.FieldInvalid, "this API takes only application/json")
		default:
			headers[name] = v
		}
	}
	if nonNull(req.Body) != nil && (method == http.MethodGet || method == http.MethodDelete) {
		fs.Add("body", fault.FieldInvalid, "a %s request takes no body", method)
	}
	if err := fs.Err(); err != nil {
		return "", "", nil, err
	}
	return method, req.Path, headers, nil
}

// checkPath returns why raw cannot be explored with method ("" when it
// can); an empty method (already refused) skips the route check.
func (e *explorer) checkPath(method, raw string) string {
	switch {
	case raw == "" || raw[0] != '/':
		return "must start with / (a path of this API, such as /v1/projects)"
	case len(raw) > maxPathLen:
		return fmt.Sprintf("must be at most %d characters", maxPathLen)
	case strings.HasPrefix(raw, "//") || strings.Contains(raw, "://"):
		return "must not name a scheme or host: the explorer only calls this API"
	case strings.ContainsAny(raw, "\\"):
		return "must not contain backslashes"
	case strings.ContainsAny(raw, "%"):
		return "must not be percent-encoded: this API's ids and paths never need it"
	case strings.ContainsAny(raw, "#@ \t"):
		return "must not contain spaces, # or @"
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c == 0x7f {
			return "must not contain control characters"
		}
		if !pathChar(raw[i]) {
			return "must hold only letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : / ?"
		}
	}
	p, q, _ := strings.Cut(raw, "?")
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "must not contain . or .. segments"
		}
	}
	if _, err := url.ParseQuery(q); err != nil {
		return "has a query that is not valid"
	}
	if method != "" && !e.paths.matches(method, p) {
		return fmt.Sprintf("%s %s is not a route of this API (see GET /v1/permissions for the routes)", method, p)
	}
	return ""
}

// pathChar reports whether c may appear unencoded in an explored path or
// query: RFC 3986 unreserved and sub-delims, ':' and the '/' and '?'
// separators ('@' and '%' are refused earlier with their own reasons).
func pathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:/?", c) >= 0
}

// fieldValue reports whether v is an RFC 9110 field value this explorer
// sends: visible ASCII (VCHAR), SP and HTAB only.
func fieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x21 || c > 0x7e) && c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}
