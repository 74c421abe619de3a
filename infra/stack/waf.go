package stack

import (
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/shared/fault"
)

// WAFWindowSeconds is the evaluation window of the WAF rate-based rule:
// Options.WAFRateLimit requests per address per this many seconds.
const WAFWindowSeconds = 300

// WAFRuleName is the name of the per-address rate-based rule.
const WAFRuleName = "RateLimitPerIp"

// WAFRetryAfterSeconds is the Retry-After the rate-based rule's 429
// sends: one evaluation window. WAF blocks an address while its count over
// the trailing window is above the limit, so a client that waits this long
// without sending has a count of zero; one that keeps sending is blocked
// longer, and is told so again.
const WAFRetryAfterSeconds = WAFWindowSeconds

// WAFResponseHeaders are the fixed headers of the rule's 429, as the
// gateway's own 429 sends them (WAF refuses to set Content-Type: the body
// goes out as application/json, see WAFResponse). The rule also sends
// Access-Control-Allow-Origin with the dashboard's origin, like the
// gateway's responses, so that the dashboard can read the 429 and its
// Retry-After.
func WAFResponseHeaders() map[string]string {
	return map[string]string{
		"Retry-After":                   strconv.Itoa(WAFRetryAfterSeconds),
		"Cache-Control":                 "no-store",
		"Access-Control-Expose-Headers": "Retry-After",
	}
}

// wafBodyKey names the WAF rule's custom 429 body.
const wafBodyKey = "rate_limited"

// WAFResponse is the problem the rate-based rule answers with (status 429,
// code rate_limited), built like the gateway responses. WAF sends a custom
// body with one of three content types and lets no header override it, so
// this problem document goes out as application/json, not
// application/problem+json.
func WAFResponse() GatewayResponse {
	return GatewayResponse{Code: fault.CodeRateLimited, Detail: "too many requests from this address; retry in a few minutes"}
}

// newWAF attaches a regional web ACL to the API's stage. Its one rule
// counts requests per client IP (the connection's source address, never a
// forwarding header) over WAFWindowSeconds and answers 429 with a problem
// document and Retry-After past o.WAFRateLimit, so that one address cannot spend the stage's whole
// throttling budget (a request WAF blocks never reaches API Gateway's
// throttle, the authorizer or a function). Everything else is allowed.
// Neither resource needs an IAM role.
func newWAF(s *Stack, o Options, dashboardOrigin *string) {
	visibility := func(metric string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true),
			MetricName:               jsii.String(metric),
			SampledRequestsEnabled:   jsii.Bool(true),
		}
	}
	var headers []*awswafv2.CfnWebACL_CustomHTTPHeaderProperty
	for _, name := range slices.Sorted(maps.Keys(WAFResponseHeaders())) {
		headers = append(headers, &awswafv2.CfnWebACL_CustomHTTPHeaderProperty{
			Name: jsii.String(name), Value: jsii.String(WAFResponseHeaders()[name]),
		})
	}
	headers = append(headers, &awswafv2.CfnWebACL_CustomHTTPHeaderProperty{
		Name: jsii.String("Access-Control-Allow-Origin"), Value: dashboardOrigin,
	})
	s.WebACL = awswafv2.NewCfnWebACL(s.Stack, jsii.String("ApiWebAcl"), &awswafv2.CfnWebACLProps{
		Description:      jsii.String("apikeys REST API: per-address request rate limit"),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
		VisibilityConfig: visibility("apikeys-web-acl"),
		CustomResponseBodies: map[string]*awswafv2.CfnWebACL_CustomResponseBodyProperty{
			wafBodyKey: {ContentType: jsii.String("APPLICATION_JSON"), Content: jsii.String(WAFResponse().Body())},
		},
		Rules: []*awswafv2.CfnWebACL_RuleProperty{{
			Name:     jsii.String(WAFRuleName),
			Priority: jsii.Number(0),
			Statement: &awswafv2.CfnWebACL_StatementProperty{
				RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
					AggregateKeyType:    jsii.String("IP"),
					Limit:               jsii.Number(float64(o.WAFRateLimit)),
					EvaluationWindowSec: jsii.Number(WAFWindowSeconds),
				},
			},
			Action: &awswafv2.CfnWebACL_RuleActionProperty{
				Block: &awswafv2.CfnWebACL_BlockActionProperty{
					CustomResponse: &awswafv2.CfnWebACL_CustomResponseProperty{
						ResponseCode:          jsii.Number(429),
						CustomResponseBodyKey: jsii.String(wafBodyKey),
						ResponseHeaders:       headers,
					},
				},
			},
			VisibilityConfig: visibility("apikeys-rate-limit-per-ip"),
		}},
	})
	// The stage's ARN references the Stage resource, so the association
	// is created after the stage exists.
	awswafv2.NewCfnWebACLAssociation(s.Stack, jsii.String("ApiWebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: s.Api.DeploymentStage().StageArn(),
		WebAclArn:   s.WebACL.AttrArn(),
	})
}
