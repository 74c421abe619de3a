package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/dotenv/apikeys/web/headers"
)

// Config is the runtime configuration of the dashboard.
type Config struct {
	// APIBaseURL is the origin (optionally with a path prefix) of the API the
	// dashboard calls, such as "https://api.example.com". Empty means the
	// same origin as the dashboard, which is how the single binary serves it.
	// It is answered at /config.json and allowed by the CSP's connect-src.
	APIBaseURL string
}

// Validate reports whether APIBaseURL is empty or an absolute http(s) URL
// without query, fragment or credentials.
func (c Config) Validate() error {
	_, err := apiOrigin(c.APIBaseURL)
	return err
}

func apiOrigin(base string) (string, error) {
	if base == "" {
		return "", nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("web: APIBaseURL %q: %w", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("web: APIBaseURL %q must be an absolute http(s) URL without credentials, query or fragment", base)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Cache-Control values.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// AppPrefix is where every page of the dashboard lives (the list, create,
// /dashboard/organizations/api-keys/{id}, .../{id}/edit, .../{id}/explore).
const AppPrefix = "/dashboard/organizations/api-keys"

// legacyPrefix is the old address of the key and edit pages
// (/api-keys/{id}[/edit]); they are redirected under AppPrefix.
const legacyPrefix = "/api-keys"

// IsAppPath reports whether p is a path of the dashboard's client-side router
// ("/", "/sign-in", "/dashboard/...").
func IsAppPath(p string) bool {
	return p == "/" || p == "/sign-in" || p == "/dashboard" || strings.HasPrefix(p, "/dashboard/")
}

// legacyTarget answers where an old address (/api-keys[/...]) now lives.
func legacyTarget(p string) (string, bool) {
	if p != legacyPrefix && !strings.HasPrefix(p, legacyPrefix+"/") {
		return "", false
	}
	return AppPrefix + strings.TrimPrefix(p, legacyPrefix), true
}

var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".woff":        "font/woff",
	".txt":         "text/plain; charset=utf-8",
	".webmanifest": "application/manifest+json",
	".wasm":        "application/wasm",
}

// contentType answers the media type for a file name; it does not depend on
// the machine's mime tables for the types the dashboard uses.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

type file struct {
	data  []byte
	etag  string
	ctype string
}

type handler struct {
	files  map[string]file // by clean path without leading slash
	index  *file
	config []byte
	csp    string
}

// Handler serves the dashboard from dist (normally Dist()):
//   - /assets/... : the hashed build output, cached for a year as immutable;
//     a missing asset is 404, never index.html;
//   - /config.json : the runtime configuration {"apiBaseUrl": ...};
//   - the router's paths (see IsAppPath) : index.html, revalidated on every
//     load (no-cache);
//   - the old addresses /api-keys/{id}[/edit] : a permanent redirect (308)
//     to the same page under AppPrefix, query kept;
//   - other files at the top of dist (favicon.svg, ...) : no-cache;
//   - anything else : 404.
//
// Every answer carries a strict Content-Security-Policy, nosniff,
// Referrer-Policy no-referrer and X-Frame-Options DENY. Only GET and HEAD are
// allowed. dist is read once, when Handler is called. An invalid
// cfg.APIBaseURL (see Config.Validate) is ignored: the dashboard then uses
// its own origin.
func Handler(dist fs.FS, cfg Config) http.Handler {
	origin, err := apiOrigin(cfg.APIBaseURL)
	base := strings.TrimRight(cfg.APIBaseURL, "/")
	if err != nil {
		origin, base = "", ""
	}
	var apiOrigins []string
	if origin != "" {
		apiOrigins = append(apiOrigins, origin)
	}
	h := &handler{files: map[string]file{}, csp: headers.ContentSecurityPolicy(apiOrigins...)}
	h.config, _ = json.Marshal(struct {
		APIBaseURL string `json:"apiBaseUrl"`
	}{base})
	if dist != nil {
		_ = fs.WalkDir(dist, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, err := fs.ReadFile(dist, p)
			if err != nil {
				return nil
			}
			sum := sha256.Sum256(data)
			h.files[p] = file{
				data:  data,
				etag:  `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
				ctype: contentType(p),
			}
			return nil
		})
	}
	if f, ok := h.files["index.html"]; ok {
		h.index = &f
	}
	return h
}

func (h *handler) setSecurityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", headers.ContentTypeOptions)
	hd.Set("Referrer-Policy", headers.ReferrerPolicy)
	hd.Set("X-Frame-Options", headers.FrameOptions)
	hd.Set("Cross-Origin-Opener-Policy", headers.OpenerPolicy)
	hd.Set("Permissions-Policy", headers.PermissionsPolicy)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.setSecurityHeaders(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if hasDotSegment(p) {
		plain(w, http.StatusNotFound, "not found")
		return
	}
	clean := path.Clean(p)
	if to, ok := legacyTarget(clean); ok {
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		w.Header().Set("Cache-Control", cacheRevalidate)
		http.Redirect(w, r, to, http.StatusPermanentRedirect)
		return
	}
	switch {
	case clean == "/config.json":
		w.Header().Set("Cache-Control", cacheRevalidate)
		h.serve(w, r, "config.json", file{data: h.config, ctype: "application/json"})
		return
	case strings.HasPrefix(clean, "/assets/"):
		f, ok := h.files[strings.TrimPrefix(clean, "/")]
		if !ok || clean != p {
			plain(w, http.StatusNotFound, "not found")
			return
		}
		w.Header().Set("Cache-Control", cacheImmutable)
		h.serve(w, r, clean, f)
		return
	case IsAppPath(clean) || clean == "/index.html":
		if h.index == nil {
			w.Header().Set("Cache-Control", "no-store")
			plain(w, http.StatusServiceUnavailable, "the dashboard is not built (run npm run build in web/)")
			return
		}
		w.Header().Set("Cache-Control", cacheRevalidate)
		h.serve(w, r, "index.html", *h.index)
		return
	}
	if f, ok := h.files[strings.TrimPrefix(clean, "/")]; ok && clean == p {
		w.Header().Set("Cache-Control", cacheRevalidate)
		h.serve(w, r, clean, f)
		return
	}
	plain(w, http.StatusNotFound, "not found")
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string, f file) {
	w.Header().Set("Content-Type", f.ctype)
	if f.etag != "" {
		w.Header().Set("ETag", f.etag)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Del("ETag")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// errNoIndex is reported by CheckDist when the build lacks index.html.
var errNoIndex = errors.New("web: dist has no index.html (run npm run build in web/)")

// CheckDist reports whether dist holds a usable build: an index.html whose
// script and stylesheet references all exist under assets/.
func CheckDist(dist fs.FS) error {
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		return errNoIndex
	}
	s := string(index)
	for {
		i := strings.Index(s, `"/assets/`)
		if i < 0 {
			return nil
		}
		s = s[i+1:]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return fmt.Errorf("web: index.html: unterminated asset reference")
		}
		ref := strings.TrimPrefix(s[:j], "/")
		if _, err := fs.Stat(dist, ref); err != nil {
			return fmt.Errorf("web: index.html references %s, which is missing from dist", ref)
		}
		s = s[j:]
	}
}
