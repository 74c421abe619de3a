package lambdahttp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdahttp"
)

// samplePrincipals covers allow-all, scoped grants, wildcards, expiry, no
// grants at all and a network allowlist.
func samplePrincipals() []authz.Principal {
	exp := time.Date(2027, 1, 31, 12, 30, 0, 123_000_000, time.UTC)
	return []authz.Principal{
		{OrganizationID: "org_a", KeyID: "key_owner", Access: authz.Access{AllowAll: true}},
		{OrganizationID: "org_a", KeyID: "key_scoped", Access: authz.Access{
			Grants: []authz.Grant{
				{Permission: "secrets:read", Scope: authz.Node{Team: "team_1", Project: "prj_1", Target: "tgt_1", Environment: "env_1"}},
				{Permission: "projects:*", Scope: authz.Node{Team: "team_1"}},
				{Permission: "api_tokens:read"},
			},
			ExpiresAt: exp,
		}},
		{OrganizationID: "org_b", KeyID: "key_none", Access: authz.Access{ExpiresAt: exp}},
		{OrganizationID: "org_a", KeyID: "key_office", Access: authz.Access{AllowAll: true, AllowedNetworks: []netip.Prefix{
			netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32"),
		}}},
	}
}

// TestPrincipalRoundTrip encodes a principal as the authorizer would, sends
// it through JSON the way API Gateway does (once as the authorizer returned
// it, once with every value turned into a string, as REST APIs deliver it
// to the integration) and decodes the same principal.
func TestPrincipalRoundTrip(t *testing.T) {
	for _, p := range samplePrincipals() {
		t.Run(p.KeyID, func(t *testing.T) {
			ctx, err := lambdahttp.EncodePrincipal(p)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range ctx {
				switch v.(type) {
				case string, bool, float64, int, int64:
				default:
					t.Errorf("context[%s] has type %T: API Gateway only takes strings, numbers and booleans", k, v)
				}
			}
			raw, err := json.Marshal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var asReturned map[string]any
			if err := json.Unmarshal(raw, &asReturned); err != nil {
				t.Fatal(err)
			}
			stringified := map[string]any{"principalId": p.KeyID, "integrationLatency": float64(12)}
			for k, v := range asReturned {
				stringified[k] = fmt.Sprint(v)
			}
			for name, m := range map[string]map[string]any{"as returned": asReturned, "stringified": stringified} {
				got, err := lambdahttp.DecodePrincipal(m)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !got.ExpiresAt.Equal(p.ExpiresAt) {
					t.Errorf("%s: expires_at %v, want %v", name, got.ExpiresAt, p.ExpiresAt)
				}
				want := p
				got.ExpiresAt, want.ExpiresAt = time.Time{}, time.Time{}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: decoded %+v, want %+v", name, got, p)
				}
			}
		})
	}
}

// TestEncodePrincipalCompact keeps the grants compact: the authorizer
// context travels in every request.
func TestEncodePrincipalCompact(t *testing.T) {
	ctx, err := lambdahttp.EncodePrincipal(samplePrincipals()[1])
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"permission":"secrets:read","scope":{"team":"team_1","project":"prj_1","target":"tgt_1","environment":"env_1"}},{"permission":"projects:*","scope":{"team":"team_1"}},{"permission":"api_tokens:read"}]`
	if ctx[lambdahttp.ContextGrants] != want {
		t.Errorf("grants = %s\nwant     %s", ctx[lambdahttp.ContextGrants], want)
	}
	if ctx[lambdahttp.ContextExpiresAt] != "2027-01-31T12:30:00.123Z" {
		t.Errorf("expires_at = %v", ctx[lambdahttp.ContextExpiresAt])
	}
	owner, _ := lambdahttp.EncodePrincipal(samplePrincipals()[0])
	if owner[lambdahttp.ContextExpiresAt] != "" || owner[lambdahttp.ContextGrants] != "[]" || owner[lambdahttp.ContextAllowAll] != true || owner[lambdahttp.ContextAllowedNetworks] != "" {
		t.Errorf("owner context = %v", owner)
	}
	office, _ := lambdahttp.EncodePrincipal(samplePrincipals()[3])
	if office[lambdahttp.ContextAllowedNetworks] != "203.0.113.0/24,2001:db8::/32" {
		t.Errorf("allowed_cidrs = %v", office[lambdahttp.ContextAllowedNetworks])
	}
}

// TestDecodePrincipalAbsent: a route without the authorizer has no caller.
func TestDecodePrincipalAbsent(t *testing.T) {
	for _, m := range []map[string]any{nil, {}, {"principalId": "someone"}, {"principalId": "x", "integrationLatency": float64(3)}} {
		if _, err := lambdahttp.DecodePrincipal(m); !errors.Is(err, lambdahttp.ErrNoPrincipal) {
			t.Errorf("DecodePrincipal(%v) = %v, want ErrNoPrincipal", m, err)
		}
	}
}

// TestDecodePrincipalMalformed: a context that claims a caller but is not
// well formed never becomes a principal.
func TestDecodePrincipalMalformed(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{"organization_id": "org_a", "key_id": "key_a", "allow_all": "false", "grants": "[]", "expires_at": "", "allowed_cidrs": "10.0.0.0/8,2001:db8::/32"}
	}
	for name, change := range map[string]func(m map[string]any){
		"no organization":      func(m map[string]any) { delete(m, "organization_id") },
		"no key":               func(m map[string]any) { delete(m, "key_id") },
		"empty organization":   func(m map[string]any) { m["organization_id"] = "" },
		"numeric key":          func(m map[string]any) { m["key_id"] = float64(7) },
		"allow_all missing":    func(m map[string]any) { delete(m, "allow_all") },
		"allow_all not a bool": func(m map[string]any) { m["allow_all"] = "yes please" },
		"allow_all a number":   func(m map[string]any) { m["allow_all"] = float64(1) },
		"grants missing":       func(m map[string]any) { delete(m, "grants") },
		"grants not JSON":      func(m map[string]any) { m["grants"] = "secrets:read" },
		"grants an object":     func(m map[string]any) { m["grants"] = `{"permission":"secrets:read"}` },
		"expires_at missing":   func(m map[string]any) { delete(m, "expires_at") },
		"expires_at not a time": func(m map[string]any) {
			m["expires_at"] = "tomorrow"
		},
		// Missing is not "anywhere": a context without the list fails
		// closed.
		"allowed_cidrs missing":        func(m map[string]any) { delete(m, "allowed_cidrs") },
		"allowed_cidrs not a network":  func(m map[string]any) { m["allowed_cidrs"] = "10.0.0.0/8,office" },
		"allowed_cidrs not normal":     func(m map[string]any) { m["allowed_cidrs"] = "10.1.0.0/16,10.0.0.0/8" },
		"allowed_cidrs host bits":      func(m map[string]any) { m["allowed_cidrs"] = "10.0.0.1/8" },
		"allowed_cidrs trailing comma": func(m map[string]any) { m["allowed_cidrs"] = "10.0.0.0/8," },
	} {
		m := good()
		change(m)
		if p, err := lambdahttp.DecodePrincipal(m); err == nil || errors.Is(err, lambdahttp.ErrNoPrincipal) {
			t.Errorf("%s: DecodePrincipal = %+v, %v; want a decoding error", name, p, err)
		}
	}
	if _, err := lambdahttp.DecodePrincipal(good()); err != nil {
		t.Fatalf("the good context: %v", err)
	}
}
