package stackrun

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestEvaluatePolicy(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/v1/api-keys/key_1"
	st := func(effect, action, resource string) events.IAMPolicyStatement {
		return events.IAMPolicyStatement{Effect: effect, Action: []string{action}, Resource: []string{resource}}
	}
	tests := []struct {
		name string
		sts  []events.IAMPolicyStatement
		want string
	}{
		{"allow on the method ARN", []events.IAMPolicyStatement{st("Allow", "execute-api:Invoke", arn)}, "Allow"},
		{"deny on the method ARN", []events.IAMPolicyStatement{st("Deny", "execute-api:Invoke", arn)}, "Deny"},
		{"allow with a wildcard across slashes", []events.IAMPolicyStatement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:us-east-1:123456789012:abc/prod/*")}, "Allow"},
		{"allow on another method ARN", []events.IAMPolicyStatement{st("Allow", "execute-api:Invoke", strings.Replace(arn, "key_1", "key_2", 1))}, "Deny"},
		{"deny wins over allow", []events.IAMPolicyStatement{st("Allow", "execute-api:Invoke", arn), st("Deny", "*", "*")}, "Deny"},
		{"another action", []events.IAMPolicyStatement{st("Allow", "s3:GetObject", arn)}, "Deny"},
		{"no statement", nil, "Deny"},
	}
	for _, tt := range tests {
		if got := evaluate(events.APIGatewayCustomAuthorizerPolicy{Statement: tt.sts}, arn); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestResolver(t *testing.T) {
	tpl := Template{"Resources": map[string]any{
		"Table1": map[string]any{"Type": "AWS::DynamoDB::Table"},
		"Fn1":    map[string]any{"Type": "AWS::Lambda::Function"},
		"Api1":   map[string]any{"Type": "AWS::ApiGateway::RestApi"},
		"Stage1": map[string]any{"Type": "AWS::ApiGateway::Stage", "Properties": map[string]any{"StageName": "prod"}},
		"Cdn1":   map[string]any{"Type": "AWS::CloudFront::Distribution"},
		"Other1": map[string]any{"Type": "AWS::IAM::Role"},
	}, "Parameters": map[string]any{
		"WithDefault": map[string]any{"Type": "String", "Default": "https://example.com/keys"},
		"Given":       map[string]any{"Type": "String", "Default": "ignored"},
		"NoDefault":   map[string]any{"Type": "String"},
	}}
	site := Site{Account: "123456789012", Region: "us-east-1", Partition: "aws", URLSuffix: "amazonaws.com", StackName: "S",
		APIID: "api1", CDNDomain: "d1.cloudfront.net", Tables: map[string]string{"Table1": "local-table"},
		Hosts:      map[string]string{"https://d1.cloudfront.net": "http://127.0.0.1:9"},
		Parameters: map[string]string{"Given": "given"}}
	r := NewResolver(tpl, site)
	fnArn := map[string]any{"Fn::GetAtt": []any{"Fn1", "Arn"}}
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr string
	}{
		{"literal", "x", "x", ""},
		{"table name", map[string]any{"Ref": "Table1"}, "local-table", ""},
		{"pseudo parameter", map[string]any{"Ref": "AWS::Region"}, "us-east-1", ""},
		{"stage name", map[string]any{"Ref": "Stage1"}, "prod", ""},
		{"function ARN", fnArn, "arn:aws:lambda:us-east-1:123456789012:function:S-Fn1", ""},
		{"authorizer URI", map[string]any{"Fn::Join": []any{"", []any{
			"arn:", map[string]any{"Fn::Select": []any{1.0, map[string]any{"Fn::Split": []any{":", fnArn}}}},
			":apigateway:", map[string]any{"Fn::Select": []any{3.0, map[string]any{"Fn::Split": []any{":", fnArn}}}},
			":lambda:path/2015-03-31/functions/", fnArn, "/invocations"}}},
			"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:S-Fn1/invocations", ""},
		{"sub", map[string]any{"Fn::Sub": "cdk-${AWS::AccountId}-${AWS::Region}"}, "cdk-123456789012-us-east-1", ""},
		{"public host replaced by the local one", map[string]any{"Fn::Join": []any{"", []any{"https://", map[string]any{"Fn::GetAtt": []any{"Cdn1", "DomainName"}}}}}, "http://127.0.0.1:9", ""},
		{"API id", map[string]any{"Ref": "Api1"}, "api1", ""},
		{"parameter default", map[string]any{"Ref": "WithDefault"}, "https://example.com/keys", ""},
		{"parameter given", map[string]any{"Ref": "Given"}, "given", ""},
		{"parameter without a value", map[string]any{"Ref": "NoDefault"}, "", `Ref "NoDefault"`},
		{"unknown resource", map[string]any{"Ref": "Nope"}, "", `Ref "Nope"`},
		{"unknown attribute", map[string]any{"Fn::GetAtt": []any{"Other1", "Arn"}}, "", "Other1.Arn: not known"},
		{"unsupported function", map[string]any{"Fn::ImportValue": "x"}, "", "Fn::ImportValue is not supported"},
	}
	for _, tt := range tests {
		got, err := r.String(tt.in)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: %q, %v; want an error with %q", tt.name, got, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestIdentitySources(t *testing.T) {
	g := &Gateway{stage: "prod"}
	n := &node{path: "/v1/api-keys/{id}"}
	ex := &Exchange{Path: "/v1/api-keys/key_1"}
	withAuth := httptest.NewRequest("GET", "/prod/v1/api-keys/key_1", nil)
	withAuth.Header.Set("Authorization", "Bearer x")
	without := httptest.NewRequest("GET", "/prod/v1/api-keys/key_1", nil)
	header := authorizer{identity: []string{"method.request.header.Authorization"}}
	cacheKey := authorizer{identity: []string{"method.request.header.Authorization", "context.httpMethod", "context.resourcePath", "context.path", "context.identity.sourceIp"}}
	tests := []struct {
		name   string
		au     authorizer
		r      bool // with the header
		want   string
		wantOK bool
	}{
		{"header present", header, true, "Bearer x", true},
		{"header missing: 401 without invoking", header, false, "", false},
		{"header and context", cacheKey, true, "Bearer x\x00GET\x00/v1/api-keys/{id}\x00/prod/v1/api-keys/key_1\x00192.0.2.1", true},
		{"no identity source", authorizer{}, false, "", true},
	}
	for _, tt := range tests {
		req := without
		if tt.r {
			req = withAuth
		}
		got, ok := g.identity(tt.au, req, ex, n)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: %q %v, want %q %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}
