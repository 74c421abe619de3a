package handler

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
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

// validate checks the method, the path and the headers of an explored call:
// only this API's routes, no scheme, host, dot segments, percent-encoding,
// backslashes or control characters (header injection), only a few headers.
func (e *explorer) validate(req Request) (method, path string, headers map[string]string, err error) {
	method = strings.ToUpper(strings.TrimSpace(req.Method))
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete:
	default:
		return "", "", nil, fault.Invalid("method", "must be one of GET, POST, PATCH, DELETE")
	}
	raw := req.Path
	switch {
	case raw == "" || raw[0] != '/':
		return "", "", nil, fault.Invalid("path", "must start with / (a path of this API, such as /v1/projects)")
	case len(raw) > maxPathLen:
		return "", "", nil, fault.Invalid("path", "must be at most %d characters", maxPathLen)
	case strings.HasPrefix(raw, "//") || strings.Contains(raw, "://"):
		return "", "", nil, fault.Invalid("path", "must not name a scheme or host: the explorer only calls this API")
	case strings.ContainsAny(raw, "\\"):
		return "", "", nil, fault.Invalid("path", "must not contain backslashes")
	case strings.ContainsAny(raw, "%"):
		return "", "", nil, fault.Invalid("path", "must not be percent-encoded: this API's ids and paths never need it")
	case strings.ContainsAny(raw, "#@ \t"):
		return "", "", nil, fault.Invalid("path", "must not contain spaces, # or @")
	}
	for _, c := range raw {
		if c < 0x20 || c == 0x7f {
			return "", "", nil, fault.Invalid("path", "must not contain control characters")
		}
	}
	p, q, _ := strings.Cut(raw, "?")
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "", "", nil, fault.Invalid("path", "must not contain . or .. segments")
		}
	}
	if _, err := url.ParseQuery(q); err != nil {
		return "", "", nil, fault.Invalid("path", "has a query that is not valid")
	}
	if !e.paths.matches(method, p) {
		return "", "", nil, fault.Invalid("path", "%s %s is not a route of this API (see GET /v1/permissions for the routes)", method, p)
	}
	headers = map[string]string{}
	for k, v := range req.Headers {
		name := http.CanonicalHeaderKey(strings.TrimSpace(k))
		if !allowedHeaders[name] {
			return "", "", nil, fault.Invalid("headers."+k, "only If-Match and Content-Type may be set; the explorer sends the key's token itself")
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return "", "", nil, fault.Invalid("headers."+k, "must not contain line breaks")
		}
		if name == "Content-Type" && v != "application/json" {
			return "", "", nil, fault.Invalid("headers."+k, "this API takes only application/json")
		}
		headers[name] = v
	}
	if nonNull(req.Body) != nil && (method == http.MethodGet || method == http.MethodDelete) {
		return "", "", nil, fault.Invalid("body", "a %s request takes no body", method)
	}
	return method, raw, headers, nil
}

func listOpts(cursor string) directory.ListOptions {
	return directory.ListOptions{Limit: directory.MaxLimit, Cursor: cursor}
}
