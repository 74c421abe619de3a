package lambdahttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdahttp"
)

// seen is what the inner handler observed of one request.
type seen struct {
	principal    authz.Principal
	hasPrincipal bool
	header       http.Header
	body         string
	path, query  string
}

// recorder is an http.Handler that records what it was given.
func recorder(into *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		into.principal, into.hasPrincipal = authz.FromContext(r.Context())
		into.header = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		into.body, into.path, into.query = string(b), r.URL.Path, r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
}

// forged is the API Gateway context an attacker would like to be believed.
const forged = `{\"authorizer\":{\"organization_id\":\"org_victim\",\"key_id\":\"key_forged\",\"allow_all\":\"true\",\"grants\":\"[]\",\"expires_at\":\"\"}}`

// proxyEvent is a REST proxy event with the forged adapter headers (in
// several letter cases) and the given authorizer JSON ("null" for none).
func proxyEvent(authorizer string) []byte {
	return []byte(`{
  "resource": "/v1/api-keys/{id}",
  "path": "/v1/api-keys/key_1",
  "httpMethod": "GET",
  "headers": {"Accept": "application/json", "X-GoLambdaProxy-ApiGw-Context": "` + forged + `", "x-golambdaproxy-apigw-stagevars": "{}"},
  "multiValueHeaders": {"Accept": ["application/json"], "X-GoLambdaProxy-ApiGw-Context": ["` + forged + `"], "x-golambdaproxy-apigw-stagevars": ["{}"], "X-GOLAMBDAPROXY-ANYTHING": ["1"]},
  "queryStringParameters": {"limit": "5"},
  "multiValueQueryStringParameters": {"limit": ["5"]},
  "pathParameters": {"id": "key_1"},
  "stageVariables": null,
  "requestContext": {"resourcePath": "/v1/api-keys/{id}", "httpMethod": "GET", "stage": "prod", "requestId": "r-1", "authorizer": ` + authorizer + `},
  "body": null,
  "isBase64Encoded": false
}`)
}

// TestForgedProxyHeadersAreIgnored sends X-GoLambdaProxy-* headers that
// claim an allow-all caller: the handler never sees them, and the caller is
// the one of the real authorizer context, or none.
func TestForgedProxyHeadersAreIgnored(t *testing.T) {
	real := samplePrincipals()[1]
	rc, err := lambdahttp.EncodePrincipal(real)
	if err != nil {
		t.Fatal(err)
	}
	rcJSON, _ := json.Marshal(rc)
	for name, tc := range map[string]struct {
		authorizer string
		want       *authz.Principal
	}{
		"no authorizer":    {"null", nil},
		"only principalId": {`{"principalId":"x"}`, nil},
		"real authorizer":  {string(rcJSON), &real},
	} {
		t.Run(name, func(t *testing.T) {
			var got seen
			h := lambdahttp.NewHandler(recorder(&got))
			out, err := h.Invoke(context.Background(), proxyEvent(tc.authorizer))
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusTeapot || resp.Body != `{"ok":true}` {
				t.Fatalf("response %d %s", resp.StatusCode, resp.Body)
			}
			for k := range got.header {
				if strings.HasPrefix(strings.ToLower(k), "x-golambdaproxy-") {
					t.Errorf("header %s reached the handler", k)
				}
			}
			if got.header.Get("Accept") != "application/json" {
				t.Errorf("other headers were lost: %v", got.header)
			}
			if got.path != "/v1/api-keys/key_1" || got.query != "limit=5" {
				t.Errorf("path %q query %q", got.path, got.query)
			}
			if tc.want == nil {
				if got.hasPrincipal {
					t.Fatalf("a principal was set from forged input: %+v", got.principal)
				}
				return
			}
			if !got.hasPrincipal || got.principal.KeyID != tc.want.KeyID || got.principal.OrganizationID != tc.want.OrganizationID ||
				got.principal.AllowAll || len(got.principal.Grants) != len(tc.want.Grants) {
				t.Fatalf("principal %+v (set %v), want %+v", got.principal, got.hasPrincipal, *tc.want)
			}
		})
	}
}

// TestMalformedAuthorizerContextIs500: a context that claims a caller but
// cannot be read never falls through to the handler.
func TestMalformedAuthorizerContextIs500(t *testing.T) {
	var got seen
	h := lambdahttp.NewHandler(recorder(&got))
	out, err := h.Invoke(context.Background(), proxyEvent(`{"organization_id":"org_a","key_id":"key_a","allow_all":"maybe","grants":"[]","expires_at":""}`))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusInternalServerError || got.header != nil {
		t.Fatalf("status %d, handler reached: %v", resp.StatusCode, got.header != nil)
	}
	if strings.Contains(resp.Body, "maybe") || !strings.Contains(resp.Body, `"code":"internal"`) {
		t.Errorf("body %s", resp.Body)
	}
}

// TestInvokeDispatch: REQUEST authorizer events go to the authorizer (its
// error unchanged), proxy events to the HTTP handler, anything else is an
// error.
func TestInvokeDispatch(t *testing.T) {
	authEvent := []byte(`{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/v1/api-keys","resource":"/v1/api-keys","path":"/v1/api-keys","httpMethod":"GET","headers":{"authorization":"Bearer x"},"pathParameters":{}}`)
	var gotReq events.APIGatewayCustomAuthorizerRequestTypeRequest
	answer := events.APIGatewayCustomAuthorizerResponse{PrincipalID: "key_1", Context: map[string]any{"k": "<v>"}}
	var fail error
	authorize := func(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		gotReq = req
		return answer, fail
	}
	var got seen
	h := lambdahttp.NewHandler(recorder(&got), lambdahttp.WithAuthorizer(authorize))

	out, err := h.Invoke(context.Background(), authEvent)
	if err != nil {
		t.Fatal(err)
	}
	if gotReq.HTTPMethod != "GET" || gotReq.Resource != "/v1/api-keys" || gotReq.Headers["authorization"] != "Bearer x" {
		t.Errorf("authorizer got %+v", gotReq)
	}
	if string(out) != `{"principalId":"key_1","policyDocument":{"Version":"","Statement":null},"context":{"k":"<v>"}}` {
		t.Errorf("answer %s", out)
	}
	if got.header != nil {
		t.Error("the authorizer event reached the HTTP handler")
	}

	fail = lambdahttp.ErrUnauthorized
	if _, err := h.Invoke(context.Background(), authEvent); err == nil || err.Error() != "Unauthorized" {
		t.Errorf("authorizer error = %v, want exactly Unauthorized", err)
	}

	if _, err := h.Invoke(context.Background(), proxyEvent("null")); err != nil || got.header == nil {
		t.Errorf("proxy event: %v, handler reached %v", err, got.header != nil)
	}

	for _, bad := range []string{`[]`, `"x"`, `{}`, `{"type":"TOKEN","authorizationToken":"x","methodArn":"arn"}`, `not json`} {
		if _, err := h.Invoke(context.Background(), []byte(bad)); err == nil {
			t.Errorf("Invoke(%s) answered without error", bad)
		}
	}

	plain := lambdahttp.NewHandler(recorder(&got))
	if _, err := plain.Invoke(context.Background(), authEvent); err == nil || errors.Is(err, lambdahttp.ErrUnauthorized) {
		t.Errorf("a function without an authorizer answered an authorizer event: %v", err)
	}
}
