package lambdahttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dotenv/apikeys/shared/gate"
	"github.com/dotenv/apikeys/shared/httpapi"
)

// ErrUnauthorized is the authorizer's answer to a missing, malformed,
// unknown or expired token. API Gateway turns exactly this error message,
// "Unauthorized", into a 401.
var ErrUnauthorized = errors.New("Unauthorized")

// Policy effects of an authorizer answer.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// Authorizer returns the AuthorizeFunc of g, for WithAuthorizer.
func Authorizer(g *gate.Gate, logger *slog.Logger) AuthorizeFunc {
	return func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		return Authorize(ctx, g, logger, req)
	}
}

// Authorize answers a REST API REQUEST authorizer event with the gate that
// guards every route and decides POST /v1/verify:
//
//   - no bearer token, or a malformed, unknown or expired one: ErrUnauthorized
//     (401);
//   - a valid token whose key may call the route (found in the route table
//     by the event's method and resource path, its node named by the path
//     parameters): an Allow policy for the method ARN;
//   - a valid token on a node that is not in the key's organization (or a
//     path that disagrees with the directory): Allow, so that the function,
//     which checks the route again with the same gate, answers 404 exactly
//     as the single binary does: anything of another organization looks
//     missing, never forbidden;
//   - a valid token without the permission, or on a route the table does
//     not know: a Deny policy (403);
//   - a valid token of a key whose network allowlist does not hold the
//     request's requestContext.identity.sourceIp: a Deny policy (403).
//
// Allow and Deny carry the caller in the context (EncodePrincipal) and the
// key id as principalId. A store failure is returned as an error (API
// Gateway answers 500). The token is never logged nor returned.
func Authorize(ctx context.Context, g *gate.Gate, logger *slog.Logger, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	c := gate.Caller{
		Token: httpapi.BearerToken(header(req, "Authorization")),
		// For the key's last use (no failed-authentication budget here:
		// API Gateway and the WAF limit them).
		IP: req.RequestContext.Identity.SourceIP, UserAgent: header(req, "User-Agent"),
		// For the key's network allowlist.
		Addr: sourceIP(req),
	}
	param := func(name string) string { return req.PathParameters[name] }
	d, err := g.Resource(ctx, c, req.HTTPMethod, req.Resource, param)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, fmt.Errorf("lambdahttp: authorizer: %s %s: %w", req.HTTPMethod, req.Resource, err)
	}
	if d.Outcome == gate.Unauthenticated || d.Outcome == gate.RateLimited {
		logger.InfoContext(ctx, "authorizer: unauthorized", "code", string(d.Auth), "method", req.HTTPMethod, "resource", req.Resource)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	effect, reason := policy(d)
	p := d.Principal
	pc, err := EncodePrincipal(p)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	logger.InfoContext(ctx, "authorizer: decided", "effect", effect, "reason", reason,
		"key_id", p.KeyID, "organization_id", p.OrganizationID, "method", req.HTTPMethod, "resource", req.Resource)
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: p.KeyID,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   effect,
				Resource: []string{req.MethodArn},
			}},
		},
		Context: pc,
	}, nil
}

// policy returns the policy effect of an authenticated decision, and why.
func policy(d gate.Decision) (effect, reason string) {
	switch d.Outcome {
	case gate.Allowed:
		return EffectAllow, d.Route.Operation
	case gate.NotFound:
		// The function's guard resolves the node again and answers 404.
		return EffectAllow, "node not found: the function answers 404"
	case gate.Forbidden:
		return EffectDeny, "missing " + d.Missing.String()
	case gate.IPNotAllowed:
		return EffectDeny, "ip not allowed"
	}
	return EffectDeny, "unknown route"
}

// sourceIP returns the client's address as API Gateway saw it
// (requestContext.identity.sourceIp), the zero Addr when it is missing or
// not an address.
func sourceIP(req events.APIGatewayCustomAuthorizerRequestTypeRequest) netip.Addr {
	a, err := netip.ParseAddr(req.RequestContext.Identity.SourceIP)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// header returns the first value of a request header, whatever the letter
// case of its name in the event.
func header(req events.APIGatewayCustomAuthorizerRequestTypeRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}
