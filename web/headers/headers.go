// Package headers holds the security headers of the dashboard's answers,
// in one place for both ways it is served: by the single binary (package
// web) and by CloudFront on AWS (the stack's response headers policy).
package headers

import "strings"

// Fixed values of the dashboard's security headers.
const (
	ContentTypeOptions = "nosniff"
	ReferrerPolicy     = "no-referrer"
	FrameOptions       = "DENY"
	OpenerPolicy       = "same-origin"
	PermissionsPolicy  = "camera=(), microphone=(), geolocation=(), payment=()"
)

// ContentSecurityPolicy is the dashboard's policy: everything from its own
// origin only, no framing, and calls (connect-src) to its own origin and
// to the API's origins given (where the dashboard is served apart from
// the API).
func ContentSecurityPolicy(apiOrigins ...string) string {
	connect := strings.Join(append([]string{"'self'"}, apiOrigins...), " ")
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
		"connect-src " + connect + "; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}
