package stack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/infra/stack"
	"github.com/dotenv/apikeys/infra/stackrun"
	"github.com/dotenv/apikeys/web"
)

// TestDashboardRouter: the distribution runs the router as a viewer-request
// function (cloudfront-js-2.0, published), and has no error responses that
// would turn the bucket's 403/404 into index.html; LocalStack's variant
// has no CloudFront at all.
func TestDashboardRouter(t *testing.T) {
	fns := prodJSON.ofType("AWS::CloudFront::Function")
	if len(fns) != 1 {
		t.Fatalf("%d CloudFront functions, want the dashboard router", len(fns))
	}
	var router string
	for id, p := range fns {
		router = id
		cfg, _ := p["FunctionConfig"].(map[string]any)
		if cfg["Runtime"] != "cloudfront-js-2.0" || p["FunctionCode"] != stack.DashboardRouterCode || p["AutoPublish"] != true {
			t.Errorf("router %s: runtime %v, auto-publish %v, code equal %v", id, cfg["Runtime"], p["AutoPublish"], p["FunctionCode"] == stack.DashboardRouterCode)
		}
	}
	for id, p := range prodJSON.ofType("AWS::CloudFront::Distribution") {
		dc, _ := p["DistributionConfig"].(map[string]any)
		if dc["CustomErrorResponses"] != nil {
			t.Errorf("%s has error responses %v: a missing asset would be answered index.html", id, dc["CustomErrorResponses"])
		}
		beh, _ := dc["DefaultCacheBehavior"].(map[string]any)
		assoc := list(beh["FunctionAssociations"])
		if len(assoc) != 1 {
			t.Fatalf("%s: function associations %v, want the router", id, assoc)
		}
		a, _ := assoc[0].(map[string]any)
		if a["EventType"] != "viewer-request" || !mentions(a["FunctionARN"], router) {
			t.Errorf("%s: association %v, want the router on viewer-request", id, a)
		}
	}
	must(t, "local", func() {
		local.ResourceCountIs(jsii.String("AWS::CloudFront::Function"), jsii.Number(0))
	})
}

// routed is where a request for a path ends up: redirected (to Location),
// served index.html, or passed on to the files as asked.
type routed struct {
	Outcome  string `json:"outcome"`
	Location string `json:"location,omitempty"`
}

// runRouter runs the router's code under node (as infra/stackrun does for
// the locally served stack) on a viewer request for each path (with its
// query) and returns where each ends up.
func runRouter(t *testing.T, code string, paths []string) []routed {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed to run the CloudFront function (CDK needs it too): %v", err)
	}
	fn := stackrun.NewViewerFunction("DashboardRouter", code)
	var got []routed
	for _, p := range paths {
		r := httptest.NewRequest(http.MethodGet, p, nil)
		res, err := fn.Run(r)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		switch {
		case res.Status != 0:
			got = append(got, routed{Outcome: fmt.Sprintf("status %d", res.Status), Location: res.Header["location"]})
		case res.URI == "/index.html":
			got = append(got, routed{Outcome: "index"})
		default:
			got = append(got, routed{Outcome: "pass"})
		}
	}
	return got
}

// TestDashboardRouterRoutesAsTheBinary runs the CloudFront function on a
// table of paths and holds it to the single binary's dashboard handler:
// the same redirects (308, same Location, query kept), index.html for the
// same deep links, and everything else (assets, a missing asset, files,
// paths with dot segments, unknown paths) passed on, never index.html.
func TestDashboardRouterRoutesAsTheBinary(t *testing.T) {
	const index = "<!doctype html><title>dashboard</title>"
	h := web.Handler(fstest.MapFS{
		"index.html":           {Data: []byte(index)},
		"assets/index-abc.js":  {Data: []byte("console.log(1)")},
		"favicon.svg":          {Data: []byte("<svg/>")},
		"assets/index-abc.css": {Data: []byte("body{}")},
	}, web.Config{})
	tests := []struct {
		path string
		want routed
	}{
		{"/api-keys/key_abc", routed{"status 308", "/dashboard/organizations/api-keys/key_abc"}},
		{"/api-keys/key_abc/edit", routed{"status 308", "/dashboard/organizations/api-keys/key_abc/edit"}},
		{"/api-keys/key_abc/", routed{"status 308", "/dashboard/organizations/api-keys/key_abc"}},
		{"/api-keys", routed{"status 308", "/dashboard/organizations/api-keys"}},
		{"/api-keys/key_abc?tab=grants", routed{"status 308", "/dashboard/organizations/api-keys/key_abc?tab=grants"}},
		{"/api-keys/key_abc?tab=grants&x=1&x=2", routed{"status 308", "/dashboard/organizations/api-keys/key_abc?tab=grants&x=1&x=2"}},
		{"/api-keys//evil.example/x", routed{"status 308", "/dashboard/organizations/api-keys/evil.example/x"}},
		{"/", routed{Outcome: "index"}},
		{"/index.html", routed{Outcome: "index"}},
		{"/sign-in", routed{Outcome: "index"}},
		{"/sign-in/", routed{Outcome: "index"}},
		{"/dashboard", routed{Outcome: "index"}},
		{"/dashboard/organizations/api-keys", routed{Outcome: "index"}},
		{"/dashboard/organizations/api-keys/key_abc", routed{Outcome: "index"}},
		{"/dashboard/organizations/api-keys/key_abc/edit", routed{Outcome: "index"}},
		{"/dashboard/organizations/api-keys/key_abc/explore?x=1", routed{Outcome: "index"}},
		{"/dashboard//organizations/webhooks/wh_1", routed{Outcome: "index"}},
		{"/assets/index-abc.js", routed{Outcome: "pass"}},
		{"/assets/missing.js", routed{Outcome: "pass"}},
		{"/favicon.svg", routed{Outcome: "pass"}},
		{"/config.json", routed{Outcome: "pass"}},
		{"/nope", routed{Outcome: "pass"}},
		{"/api-keysx", routed{Outcome: "pass"}},
		{"/v1/api-keys/key_abc", routed{Outcome: "pass"}},
		{"/dashboard/../api-keys/key_abc", routed{Outcome: "pass"}},
		{"/./dashboard", routed{Outcome: "pass"}},
		{"/dashboardx", routed{Outcome: "pass"}},
	}
	var paths []string
	for _, tc := range tests {
		paths = append(paths, tc.path)
	}
	got := runRouter(t, stack.DashboardRouterCode, paths)
	for i, tc := range tests {
		if got[i] != tc.want {
			t.Errorf("CloudFront %s: %+v, want %+v", tc.path, got[i], tc.want)
		}
		// The single binary routes it the same way.
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		var bin routed
		switch {
		case rec.Code == http.StatusPermanentRedirect:
			bin = routed{"status 308", rec.Header().Get("Location")}
		case rec.Code == http.StatusOK && rec.Body.String() == index:
			bin = routed{Outcome: "index"}
		default:
			bin = routed{Outcome: "pass"}
		}
		if bin != tc.want {
			t.Errorf("single binary %s: %+v (status %d), want %+v", tc.path, bin, rec.Code, tc.want)
		}
	}
}

// TestDashboardSecurityHeaders: CloudFront answers the dashboard with the
// security headers the single binary sends (the same values, from
// web/headers, held here to what web.Handler really answers), plus HSTS;
// connect-src admits the region's API Gateway hosts.
func TestDashboardSecurityHeaders(t *testing.T) {
	policies := prodJSON.ofType("AWS::CloudFront::ResponseHeadersPolicy")
	if len(policies) != 1 {
		t.Fatalf("%d response headers policies, want the dashboard's", len(policies))
	}
	var pid string
	var cfg map[string]any
	for id, p := range policies {
		pid = id
		cfg, _ = p["ResponseHeadersPolicyConfig"].(map[string]any)
	}
	for id, p := range prodJSON.ofType("AWS::CloudFront::Distribution") {
		dc, _ := p["DistributionConfig"].(map[string]any)
		beh, _ := dc["DefaultCacheBehavior"].(map[string]any)
		if ref(beh["ResponseHeadersPolicyId"]) != pid {
			t.Errorf("%s: default behavior's response headers policy %v, want %s", id, beh["ResponseHeadersPolicyId"], pid)
		}
	}
	rec := httptest.NewRecorder()
	web.Handler(fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}, web.Config{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	binary := rec.Header()

	sec, _ := cfg["SecurityHeadersConfig"].(map[string]any)
	field := func(name, key string) any { m, _ := sec[name].(map[string]any); return m[key] }
	csp, _ := json.Marshal(field("ContentSecurityPolicy", "ContentSecurityPolicy"))
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "connect-src 'self' https://*.execute-api.", "AWS::Region", ".amazonaws.com"} {
		if !strings.Contains(string(csp), want) {
			t.Errorf("CloudFront CSP %s lacks %q", csp, want)
		}
	}
	if !strings.Contains(binary.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("the binary's CSP %q is not the same policy", binary.Get("Content-Security-Policy"))
	}
	for _, c := range []struct {
		name string
		got  any
		want string
	}{
		{"X-Frame-Options", field("FrameOptions", "FrameOption"), binary.Get("X-Frame-Options")},
		{"Referrer-Policy", strings.ReplaceAll(strings.ToLower(fmt.Sprint(field("ReferrerPolicy", "ReferrerPolicy"))), "_", "-"), binary.Get("Referrer-Policy")},
		{"X-Content-Type-Options (override)", field("ContentTypeOptions", "Override"), "true"},
		{"HSTS max age", fmt.Sprintf("%.0f", field("StrictTransportSecurity", "AccessControlMaxAgeSec")), "31536000"},
	} {
		if fmt.Sprint(c.got) != c.want {
			t.Errorf("%s: CloudFront sends %v, want %q", c.name, c.got, c.want)
		}
	}
	custom := map[string]string{}
	ch, _ := cfg["CustomHeadersConfig"].(map[string]any)
	for _, h := range list(ch["Items"]) {
		m, _ := h.(map[string]any)
		custom[fmt.Sprint(m["Header"])] = fmt.Sprint(m["Value"])
	}
	for _, name := range []string{"Cross-Origin-Opener-Policy", "Permissions-Policy"} {
		if custom[name] == "" || custom[name] != binary.Get(name) {
			t.Errorf("%s: CloudFront sends %q, the binary %q", name, custom[name], binary.Get(name))
		}
	}
	must(t, "local", func() {
		local.ResourceCountIs(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), jsii.Number(0))
	})
}
