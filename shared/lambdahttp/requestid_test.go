package lambdahttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/lambdahttp"
)

// TestRequestIDIsAPIGateways: on Lambda the audit source's request id is API
// Gateway's requestContext.requestId, never the client's X-Request-Id
// header, and the answer carries it in X-Request-Id.
func TestRequestIDIsAPIGateways(t *testing.T) {
	var got *audit.Source
	h := lambdahttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = audit.SourceFrom(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	ev := strings.Replace(string(proxyEvent("null")), `"Accept": "application/json",`, `"Accept": "application/json", "X-Request-Id": "client-chosen",`, 1)
	out, err := h.Invoke(context.Background(), []byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.RequestID != "r-1" {
		t.Fatalf("source %+v, want API Gateway's request id r-1", got)
	}
	answered := resp.Headers[audit.RequestIDHeader]
	if answered == "" && len(resp.MultiValueHeaders[audit.RequestIDHeader]) > 0 {
		answered = resp.MultiValueHeaders[audit.RequestIDHeader][0]
	}
	if answered != "r-1" {
		t.Errorf("answered X-Request-Id %q, want r-1 (headers %v %v)", answered, resp.Headers, resp.MultiValueHeaders)
	}
}
