package stack

import (
	"encoding/json"
	"strconv"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
)

// GatewayResponse is an error API Gateway answers by itself (before or
// instead of a function) and the problem it answers with.
type GatewayResponse struct {
	// Type is the API Gateway response type, e.g. "UNAUTHORIZED".
	Type string
	// Code is the contract's error code; the status comes from
	// httpapi.StatusOf, the one place that maps codes to statuses.
	Code fault.Code
	// Detail is the problem's public detail.
	Detail string
}

// GatewayResponses lists the gateway responses the API customizes. Each
// answers application/problem+json with the contract's problem shape.
//
// API Gateway substitutes only $context variables in these templates (no
// VTL logic), so each response has a fixed status that its body repeats.
// DEFAULT_4XX covers what is left of the 4xx types once the ones below are
// customized: EXPIRED_TOKEN, INVALID_API_KEY, INVALID_SIGNATURE and
// WAF_FILTERED (403 by default) and the request validator's 400s, which
// this API does not use; hence 403 forbidden. DEFAULT_5XX covers the
// authorizer's and integrations' failures as 500 internal.
func GatewayResponses() []GatewayResponse {
	return []GatewayResponse{
		{"UNAUTHORIZED", fault.CodeUnauthenticated, "a valid bearer token is required"},
		{"ACCESS_DENIED", fault.CodeForbidden, "the token does not allow this request"},
		{"THROTTLED", fault.CodeRateLimited, "too many requests; slow down and retry"},
		{"QUOTA_EXCEEDED", fault.CodeRateLimited, "too many requests; slow down and retry"},
		// A REST API answers an unknown path (or an unknown method on a
		// known one) with MISSING_AUTHENTICATION_TOKEN: it is a 404 here.
		{"MISSING_AUTHENTICATION_TOKEN", fault.CodeNotFound, "no such route"},
		{"RESOURCE_NOT_FOUND", fault.CodeNotFound, "no such route"},
		{"REQUEST_TOO_LARGE", fault.CodePayloadTooLarge, "the request body is too large"},
		{"UNSUPPORTED_MEDIA_TYPE", fault.CodeUnsupportedMediaType, "the request body must be application/json"},
		{"INTEGRATION_TIMEOUT", fault.CodeUnavailable, "the service is temporarily unavailable; try again shortly"},
		{"DEFAULT_4XX", fault.CodeForbidden, "the request was refused"},
		{"DEFAULT_5XX", fault.CodeInternal, ""},
	}
}

// Status is the response's HTTP status as API Gateway wants it.
func (g GatewayResponse) Status() string {
	return strconv.Itoa(httpapi.StatusOf(g.Code))
}

// Body is the problem+json document the response answers with, built by
// the same function the handlers use.
func (g GatewayResponse) Body() string {
	b, err := json.Marshal(httpapi.ProblemOf(&fault.Error{Code: g.Code, Message: g.Detail}))
	if err != nil {
		panic(err) // a Problem always marshals
	}
	return string(b)
}
