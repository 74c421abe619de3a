package lambdahttp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/verify"
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

// Authorizer returns the AuthorizeFunc of deps, for WithAuthorizer.
func Authorizer(deps httpapi.Deps) AuthorizeFunc {
	return func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		return Authorize(ctx, deps, req)
	}
}

// Authorize answers a REST API REQUEST authorizer event with the same
// verification code as POST /v1/verify and the single binary's middleware:
//
//   - no bearer token, or a malformed, unknown or expired one: ErrUnauthorized
//     (401);
//   - a valid token whose key may call the route (found in the route table
//     by the event's method and resource path, its node named by the path
//     parameters): an Allow policy for the method ARN;
//   - a valid token on a node that is not in the key's organization (or a
//     path that disagrees with the directory): Allow, so that the function,
//     which checks the route again with the same code, answers 404 exactly
//     as the single binary does: anything of another organization looks
//     missing, never forbidden;
//   - a valid token without the permission, or on a route the table does
//     not know: a Deny policy (403).
//
// Allow and Deny carry the caller in the context (EncodePrincipal) and the
// key id as principalId. A store failure is returned as an error (API
// Gateway answers 500). The token is never logged nor returned.
func Authorize(ctx context.Context, deps httpapi.Deps, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	tok := httpapi.BearerToken(header(req, "Authorization"))
	res, err := deps.Verifier.Authenticate(ctx, tok)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, fmt.Errorf("lambdahttp: authorizer: %w", err)
	}
	if res.Code != verify.CodeOK {
		deps.Logger.InfoContext(ctx, "authorizer: unauthorized", "code", string(res.Code), "method", req.HTTPMethod, "resource", req.Resource)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	p := res.Principal()
	effect, reason, err := decide(ctx, deps, p, req)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, fmt.Errorf("lambdahttp: authorizer: %s %s: %w", req.HTTPMethod, req.Resource, err)
	}
	pc, err := EncodePrincipal(p)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	deps.Logger.InfoContext(ctx, "authorizer: decided", "effect", effect, "reason", reason,
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

// decide returns the policy effect for p on the event's route, and why.
func decide(ctx context.Context, deps httpapi.Deps, p authz.Principal, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (effect, reason string, err error) {
	route, ok := deps.Routes.Find(strings.ToUpper(req.HTTPMethod), req.Resource)
	if !ok {
		return EffectDeny, "unknown route", nil
	}
	named := authz.PathNode(func(name string) string { return req.PathParameters[name] })
	d, err := deps.Verifier.Authorize(ctx, p, route.Permission, route.Check, named)
	if errors.Is(err, fault.ErrNotFound) {
		// The function's guard resolves the node again and answers 404.
		return EffectAllow, "node not found: the function answers 404", nil
	}
	if err != nil {
		return "", "", err
	}
	if !d.Allowed {
		return EffectDeny, "missing " + d.Missing.String(), nil
	}
	return EffectAllow, route.Operation, nil
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
