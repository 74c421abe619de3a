package httpapi

import "net/http"

// CORS lets the dashboard, served from another origin (CloudFront), read
// the API's answers: when the request comes from origin, the answer names
// it in Access-Control-Allow-Origin and exposes the headers the dashboard
// reads (ETag, Location, an export's Link to its next part, X-Request-Id).
// Preflight requests are answered by API Gateway. An empty origin returns
// next unchanged (the single binary serves the dashboard itself).
func CORS(origin string, next http.Handler) http.Handler {
	if origin == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if r.Header.Get("Origin") == origin {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "ETag, Location, Link, Retry-After, X-Request-Id")
		}
		next.ServeHTTP(w, r)
	})
}
