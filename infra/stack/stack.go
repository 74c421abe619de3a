package stack

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/infra/iam"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/secretscan"
	"github.com/dotenv/apikeys/web/headers"
)

// DashboardRouterCode is the dashboard distribution's viewer-request
// function (CloudFront Functions, cloudfront-js-2.0): the old addresses
// /api-keys[/...] answer 308 under /dashboard/organizations/api-keys, the
// client-side router's paths are served /index.html, anything else goes to
// the bucket unchanged, as the single binary's dashboard handler routes.
//
//go:embed dashboard_router.js
var DashboardRouterCode string

// FunctionTag is the tag every function of ours carries, valued with its
// authz.Function name; it tells them apart from the functions CDK adds
// (BucketDeployment's).
const FunctionTag = "apikeys:function"

// Output names of the stack.
const (
	OutputApiUrl          = "ApiUrl"
	OutputDashboardUrl    = "DashboardUrl"
	OutputTableName       = "TableName"
	OutputDashboardBucket = "DashboardBucket"
)

// ParamGitHubKeysURL is the stack parameter naming where GitHub's
// secret-scanning public keys are fetched (the leaks function's
// GITHUB_KEYS_URL).
const ParamGitHubKeysURL = "GitHubKeysUrl"

// Stack is the synthesized stack and the constructs tests and callers may
// want to reach.
type Stack struct {
	awscdk.Stack
	Table      awsdynamodb.Table
	Functions  map[authz.Function]awslambda.Function
	Api        awsapigateway.RestApi
	Authorizer awsapigateway.RequestAuthorizer
	Bucket     awss3.Bucket
	// Distribution is nil with Options.Local.
	Distribution awscloudfront.Distribution
	// WebACL is the stage's WAF web ACL (nil without Options.WAF).
	WebACL awswafv2.CfnWebACL
	// Deliveries is the webhook deliveries queue and DeadLetters its
	// dead-letter queue; Schedule runs notify.
	Deliveries, DeadLetters awssqs.Queue
	Schedule                awsevents.Rule
}

// New builds the stack into scope.
func New(scope constructs.Construct, id string, props *awscdk.StackProps, o Options) (*Stack, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	for _, f := range append(authz.Functions(), authz.EventFunctions()...) {
		boot := filepath.Join(o.AssetsDir, string(f), "bootstrap")
		if _, err := os.Stat(boot); err != nil {
			return nil, fmt.Errorf("function %s: %w (run `make functions` first, or pass -c %s=<folder>)", f, err, CtxAssetsDir)
		}
	}
	if props == nil {
		props = &awscdk.StackProps{}
	}
	if props.Description == nil {
		props.Description = jsii.String("DotEnv API keys service: table, functions, REST API, dashboard")
	}
	s := &Stack{Stack: awscdk.NewStack(scope, jsii.String(id), props), Functions: map[authz.Function]awslambda.Function{}}
	removal := awscdk.RemovalPolicy_RETAIN
	if o.Throwaway {
		removal = awscdk.RemovalPolicy_DESTROY
	}

	s.Table = newTable(s.Stack, o, removal)

	// The dashboard bucket comes before the API: the API's CORS origin is
	// the dashboard's origin.
	s.Bucket = awss3.NewBucket(s.Stack, jsii.String("Dashboard"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal,
		// Auto-delete is a Lambda-backed custom resource, which
		// LocalStack's community edition does not run.
		AutoDeleteObjects: jsii.Bool(o.Throwaway && !o.Local),
		// LocalStack serves a website-configured bucket without
		// CloudFront; on AWS the bucket is only read through CloudFront.
		WebsiteIndexDocument: ifLocal(o.Local, "index.html"),
	})
	var dashboardURL *string
	if o.Local {
		dashboardURL = awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("http://"), s.Bucket.BucketName(), jsii.String(".s3-website." + o.LocalEndpoint),
		})
	} else {
		// Deep links and the old addresses are routed by a viewer-request
		// function, not by error responses: those would answer every 403
		// and 404 of the bucket with index.html and 200, a missing hashed
		// asset included (cached as if it were the script).
		router := awscloudfront.NewFunction(s.Stack, jsii.String("DashboardRouter"), &awscloudfront.FunctionProps{
			Comment: jsii.String("apikeys dashboard: deep links to index.html, old addresses redirected"),
			Code:    awscloudfront.FunctionCode_FromInline(jsii.String(DashboardRouterCode)),
			Runtime: awscloudfront.FunctionRuntime_JS_2_0(),
		})
		s.Distribution = awscloudfront.NewDistribution(s.Stack, jsii.String("DashboardCdn"), &awscloudfront.DistributionProps{
			Comment: jsii.String("API keys dashboard"),
			DefaultBehavior: &awscloudfront.BehaviorOptions{
				Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(s.Bucket, nil),
				ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
				ResponseHeadersPolicy: dashboardHeaders(s),
				FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
					Function:  router,
					EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
				}},
			},
			DefaultRootObject: jsii.String("index.html"),
		})
		dashboardURL = awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("https://"), s.Distribution.DistributionDomainName(),
		})
	}

	api := newAPI(s, o, dashboardURL)
	newWebhooks(s, o)
	if o.WAF {
		newWAF(s, o, dashboardURL)
	}

	// What the API's URL is, for the outputs and the dashboard's config.
	apiURL := api.Url()
	if o.Local {
		apiURL = localAPIURL(api, o)
	}
	if o.Local {
		// LocalStack's community edition runs neither BucketDeployment's
		// custom resource nor Lambda layers: `make deploy-local` uploads
		// the dashboard and config.json itself (infra/local-dashboard.sh).
		awscdk.NewCfnOutput(s.Stack, jsii.String(OutputDashboardBucket), &awscdk.CfnOutputProps{
			Value:       s.Bucket.BucketName(),
			Description: jsii.String("Bucket the dashboard is uploaded to"),
		})
	} else {
		sources := []awss3deployment.ISource{
			awss3deployment.Source_JsonData(jsii.String("config.json"), map[string]any{"apiBaseUrl": apiURL}, nil),
		}
		if st, err := os.Stat(o.DashboardDir); err == nil && st.IsDir() {
			sources = append([]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(o.DashboardDir), nil)}, sources...)
		} else {
			awscdk.Annotations_Of(s.Stack).AddWarningV2(jsii.String("apikeys:noDashboard"), jsii.String(fmt.Sprintf(
				"dashboard folder %q not found: only config.json is deployed; build the dashboard first", o.DashboardDir)), nil)
		}
		awss3deployment.NewBucketDeployment(s.Stack, jsii.String("DashboardFiles"), &awss3deployment.BucketDeploymentProps{
			DestinationBucket: s.Bucket,
			Sources:           &sources,
			Distribution:      s.Distribution,
			DistributionPaths: jsii.Strings("/*"),
			// Keep old hashed assets for pages still open in a browser.
			Prune: jsii.Bool(false),
		})
	}

	awscdk.NewCfnOutput(s.Stack, jsii.String(OutputApiUrl), &awscdk.CfnOutputProps{
		Value: apiURL, Description: jsii.String("Base URL of the REST API (paths start with /v1)"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String(OutputDashboardUrl), &awscdk.CfnOutputProps{
		Value: dashboardURL, Description: jsii.String("URL of the dashboard"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String(OutputTableName), &awscdk.CfnOutputProps{
		Value: s.Table.TableName(), Description: jsii.String("DynamoDB table"),
	})
	return s, nil
}

// newTable builds the table from the shared definition. It is a
// `Table` (AWS::DynamoDB::Table), not a `TableV2` (AWS::DynamoDB::GlobalTable):
// the service needs no replicas, and LocalStack handles updates of a
// GlobalTable poorly, while the same template must deploy there.
func newTable(scope constructs.Construct, o Options, removal awscdk.RemovalPolicy) awsdynamodb.Table {
	spec := o.Table
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	t := awsdynamodb.NewTable(scope, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: str(spec.PartitionKey),
		SortKey:      str(spec.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(spec.TTLAttribute),
		DeletionProtection:  jsii.Bool(!o.Throwaway),
		RemovalPolicy:       removal,
	})
	for _, g := range spec.GSIs {
		t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(g.Name),
			PartitionKey:   str(g.PartitionKey),
			SortKey:        str(g.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return t
}

// newAPI builds the functions, the REST API and its authorizer.
func newAPI(s *Stack, o Options, dashboardOrigin *string) awsapigateway.RestApi {
	allowHeaders := []string{"Authorization", "Content-Type", "If-Match"}
	s.Api = awsapigateway.NewRestApi(s.Stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		Description: jsii.String("DotEnv API keys"),
		// No account-wide CloudWatch role: it outlives the stack and is
		// shared by every API of the account.
		CloudWatchRole: jsii.Bool(false),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(o.StageName),
			ThrottlingRateLimit:  jsii.Number(o.ThrottleRate),
			ThrottlingBurstLimit: jsii.Number(o.ThrottleBurst),
			// The leak routes take no API key: a tighter throttle of their
			// own (GitHub batches its reports).
			MethodOptions: leakThrottles(),
		},
		// CORS for the dashboard's origin only.
		DefaultCorsPreflightOptions: &awsapigateway.CorsOptions{
			AllowOrigins: &[]*string{dashboardOrigin},
			AllowMethods: jsii.Strings("GET", "POST", "PATCH", "DELETE", "OPTIONS"),
			AllowHeaders: jsii.Strings(allowHeaders...),
			MaxAge:       awscdk.Duration_Minutes(jsii.Number(10)),
		},
	})

	// API_BASE_URL for explore: the stage URL built from the RestApi's id,
	// the region and the stage name. api.Url() would reference the Stage,
	// which depends on the Deployment, which depends on every Method, one
	// of which integrates explore: a circular reference. The RestApi
	// resource itself depends on no function.
	var baseURL *string
	if o.Local {
		baseURL = localAPIURL(s.Api, o)
	} else {
		baseURL = awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("https://"), s.Api.RestApiId(), jsii.String(".execute-api."),
			awscdk.Aws_REGION(), jsii.String("."), awscdk.Aws_URL_SUFFIX(), jsii.String("/" + o.StageName),
		})
	}

	// Where GitHub publishes its secret-scanning keys: a parameter, so an
	// operator can point at a mirror without a new template.
	githubKeys := awscdk.NewCfnParameter(s.Stack, jsii.String(ParamGitHubKeysURL), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Default:     jsii.String(secretscan.GitHubKeysURL),
		Description: jsii.String("URL of GitHub's secret-scanning public keys, which authenticate POST /v1/leaks/github"),
	})

	perms := iam.Permissions()
	settings := FunctionSettings()
	for _, f := range authz.Functions() {
		env := map[string]*string{"TABLE_NAME": s.Table.TableName(), "CORS_ORIGIN": dashboardOrigin,
			"AUDIT_RETENTION_DAYS": jsii.String(strconv.Itoa(o.AuditRetentionDays))}
		switch f {
		case authz.FunctionExplore:
			env["API_BASE_URL"] = baseURL
		case authz.FunctionLeaks:
			env["GITHUB_KEYS_URL"] = githubKeys.ValueAsString()
		case authz.FunctionCreate:
			// The only function that enforces the key quota.
			env["MAX_KEYS_PER_ORGANIZATION"] = jsii.String(strconv.Itoa(o.MaxKeysPerOrganization))
		}
		s.Functions[f] = newFunction(s, o, f, perms[f], settings[f], env)
	}

	identity := []*string{awsapigateway.IdentitySource_Header(jsii.String("Authorization"))}
	if o.AuthorizerCacheSeconds > 0 {
		// A cached policy is reused for every request with the same
		// identity: the key must include what the decision depends on, the
		// method and the path (whose ids name the node the permission is
		// checked on; the template resourcePath alone would let a decision
		// for one project answer for another) and the client's address
		// (a key's network allowlist: an Allow from inside must not answer
		// for a request from outside).
		identity = append(identity, AuthorizerCacheIdentity()...)
	}
	s.Authorizer = awsapigateway.NewRequestAuthorizer(s.Stack, jsii.String("Authorizer"), &awsapigateway.RequestAuthorizerProps{
		Handler:         s.Functions[authz.FunctionVerify],
		IdentitySources: &identity,
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(float64(o.AuthorizerCacheSeconds))),
	})

	integrations := map[authz.Function]awsapigateway.LambdaIntegration{}
	for f, fn := range s.Functions {
		integrations[f] = awsapigateway.NewLambdaIntegration(fn, &awsapigateway.LambdaIntegrationOptions{
			// Invoke permission per method, for the deployed stage only.
			AllowTestInvoke: jsii.Bool(false),
		})
	}
	resources := map[string]awsapigateway.IResource{"": s.Api.Root()}
	var resourceOf func(path string) awsapigateway.IResource
	resourceOf = func(path string) awsapigateway.IResource {
		if r, ok := resources[path]; ok {
			return r
		}
		i := strings.LastIndex(path, "/")
		r := resourceOf(path[:i]).AddResource(jsii.String(path[i+1:]), nil)
		resources[path] = r
		return r
	}
	for _, r := range authz.NewRoutes() {
		opts := &awsapigateway.MethodOptions{OperationName: jsii.String(r.Operation)}
		if r.Public() {
			opts.AuthorizationType = awsapigateway.AuthorizationType_NONE
		} else {
			opts.AuthorizationType = awsapigateway.AuthorizationType_CUSTOM
			opts.Authorizer = s.Authorizer
		}
		resourceOf(r.Pattern).AddMethod(jsii.String(r.Method), integrations[r.Function], opts)
	}

	for _, g := range GatewayResponses() {
		headers := map[string]*string{
			"Content-Type":                 jsii.String("'application/problem+json'"),
			"Cache-Control":                jsii.String("'no-store'"),
			"Access-Control-Allow-Origin":  awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("'"), dashboardOrigin, jsii.String("'")}),
			"Access-Control-Allow-Headers": jsii.String("'" + strings.Join(allowHeaders, ",") + "'"),
			"Vary":                         jsii.String("'Origin'"),
		}
		if g.Type == "UNAUTHORIZED" {
			headers["WWW-Authenticate"] = jsii.String(`'Bearer realm="dotenv"'`)
		}
		if g.Code == fault.CodeRateLimited {
			// The stage's throttle refills every second.
			headers["Retry-After"] = jsii.String("'1'")
			headers["Access-Control-Expose-Headers"] = jsii.String("'Retry-After'")
		}
		s.Api.AddGatewayResponse(jsii.String("Gw"+camel(g.Type)), &awsapigateway.GatewayResponseOptions{
			Type:            awsapigateway.ResponseType_Of(jsii.String(g.Type)),
			StatusCode:      jsii.String(g.Status()),
			ResponseHeaders: &headers,
			Templates:       &map[string]*string{"application/json": jsii.String(g.Body())},
		})
	}
	return s.Api
}

// DeliveryAttempts is how many times the deliveries queue hands a message
// to deliver before moving it to the dead-letter queue. A failed HTTP
// attempt is not a failed message (its retry is scheduled in the table);
// only a message deliver could not handle (the table failing, a malformed
// body) is received again.
const DeliveryAttempts = 5

// NotifyEvery is the schedule of notify: the expiry sweep and the due
// deliveries' queueing.
const NotifyEvery = 1 // minute

// newWebhooks builds the webhooks' event side: the deliveries queue with
// its dead-letter queue, notify on an EventBridge schedule (allowed to send
// to the queue), and deliver consuming the queue (docs/design.md,
// "Webhooks").
func newWebhooks(s *Stack, o Options) {
	perms, settings := iam.Permissions(), FunctionSettings()
	removal := awscdk.RemovalPolicy_RETAIN
	if o.Throwaway {
		removal = awscdk.RemovalPolicy_DESTROY
	}
	s.DeadLetters = awssqs.NewQueue(s.Stack, jsii.String("WebhookDeliveriesDlq"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RemovalPolicy:   removal,
	})
	deliver := settings[authz.FunctionDeliver]
	s.Deliveries = awssqs.NewQueue(s.Stack, jsii.String("WebhookDeliveries"), &awssqs.QueueProps{
		// Six times the consumer's timeout, as Lambda advises.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * deliver.Timeout.Seconds())),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		RemovalPolicy:     removal,
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: s.DeadLetters, MaxReceiveCount: jsii.Number(DeliveryAttempts)},
	})
	notify := newFunction(s, o, authz.FunctionNotify, perms[authz.FunctionNotify], settings[authz.FunctionNotify],
		map[string]*string{"TABLE_NAME": s.Table.TableName(), "QUEUE_URL": s.Deliveries.QueueUrl()})
	s.Deliveries.GrantSendMessages(notify)
	s.Functions[authz.FunctionNotify] = notify
	s.Schedule = awsevents.NewRule(s.Stack, jsii.String("NotifySchedule"), &awsevents.RuleProps{
		Description: jsii.String("apikeys: expiry notices and due webhook deliveries"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(NotifyEvery))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(notify, &awseventstargets.LambdaFunctionProps{RetryAttempts: jsii.Number(0)})},
	})
	fn := newFunction(s, o, authz.FunctionDeliver, perms[authz.FunctionDeliver], deliver,
		map[string]*string{"TABLE_NAME": s.Table.TableName()})
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.Deliveries, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	s.Functions[authz.FunctionDeliver] = fn
}

// AuthorizerCacheIdentity lists the identity sources added to the
// Authorization header when the authorizer's cache is on.
func AuthorizerCacheIdentity() []*string {
	return []*string{
		awsapigateway.IdentitySource_Context(jsii.String("httpMethod")),
		awsapigateway.IdentitySource_Context(jsii.String("resourcePath")),
		awsapigateway.IdentitySource_Context(jsii.String("path")),
		awsapigateway.IdentitySource_Context(jsii.String("identity.sourceIp")),
	}
}

// LeakThrottle is the steady rate and burst of each leak report route.
const LeakThrottleRate, LeakThrottleBurst = 5, 10

// leakThrottles limits every route of the leaks function.
func leakThrottles() *map[string]*awsapigateway.MethodDeploymentOptions {
	m := map[string]*awsapigateway.MethodDeploymentOptions{}
	for _, r := range authz.NewRoutes().ForFunction(authz.FunctionLeaks) {
		m[r.Pattern+"/"+r.Method] = &awsapigateway.MethodDeploymentOptions{
			ThrottlingRateLimit:  jsii.Number(LeakThrottleRate),
			ThrottlingBurstLimit: jsii.Number(LeakThrottleBurst),
		}
	}
	return &m
}

// newFunction builds one function with its own role and log group.
func newFunction(s *Stack, o Options, f authz.Function, access iam.Access, cfg FunctionConfig, env map[string]*string) awslambda.Function {
	id := camel(string(f))
	removal := awscdk.RemovalPolicy_RETAIN
	if o.Throwaway {
		removal = awscdk.RemovalPolicy_DESTROY
	}
	logs := awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: removal,
	})
	// An explicit role: no AWSLambdaBasicExecutionRole (logs on `*`), only
	// writes to this function's log group and its DynamoDB actions.
	role := awsiam.NewRole(s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("apikeys " + string(f) + " function"),
	})
	logs.GrantWrite(role)
	resources := []*string{s.Table.TableArn()}
	for _, index := range access.Indexes {
		resources = append(resources, awscdk.Fn_Join(jsii.String(""), &[]*string{s.Table.TableArn(), jsii.String("/index/" + index)}))
	}
	if len(access.Actions) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(slices.Clone(access.Actions)...),
			Resources: &resources,
		}))
	}
	// Each scoped grant is a statement of its own on the table, limited to
	// the partitions it names (dynamodb:LeadingKeys).
	for _, sc := range access.Scoped {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(slices.Clone(sc.Actions)...),
			Resources: &[]*string{s.Table.TableArn()},
			Conditions: &map[string]any{
				"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": slices.Clone(sc.Partitions)},
			},
		}))
	}
	if access.DeletesNotices {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(iam.DeleteItem),
			Resources: &[]*string{s.Table.TableArn()},
			Conditions: &map[string]any{
				"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{iam.NoticeKeys}},
			},
		}))
	}
	fn := awslambda.NewFunction(s.Stack, jsii.String(id+"Function"), &awslambda.FunctionProps{
		Description:  jsii.String("apikeys " + string(f)),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(o.AssetsDir, string(f))), nil),
		MemorySize:   jsii.Number(float64(cfg.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(cfg.Timeout.Seconds())),
		Environment:  &env,
		Role:         role,
		LogGroup:     logs,
	})
	awscdk.Tags_Of(fn).Add(jsii.String(FunctionTag), jsii.String(string(f)), nil)
	return fn
}

// localAPIURL is the API's stage URL in LocalStack's host-based form.
func localAPIURL(api awsapigateway.RestApi, o Options) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("http://"), api.RestApiId(), jsii.String(".execute-api." + o.LocalEndpoint + "/" + o.StageName),
	})
}

func ifLocal(local bool, v string) *string {
	if local {
		return jsii.String(v)
	}
	return nil
}

// camel turns "DEFAULT_4XX" or "directory" into "Default4xx" or "Directory".
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.ToLower(s), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// dashboardHeaders is the response headers policy of the dashboard's
// distribution: the security headers the single binary's dashboard sends
// (web/headers), plus HSTS. The API's origin, https://<id>.execute-api.
// <region>.amazonaws.com, cannot be named in connect-src without a cycle
// (the API's CORS names the distribution), so connect-src admits the
// region's execute-api hosts.
func dashboardHeaders(s *Stack) awscloudfront.ResponseHeadersPolicy {
	apiHosts := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://*.execute-api."), awscdk.Aws_REGION(), jsii.String(".amazonaws.com")})
	return awscloudfront.NewResponseHeadersPolicy(s.Stack, jsii.String("DashboardHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String("apikeys dashboard: the security headers of web/headers"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{
				ContentSecurityPolicy: jsii.String(headers.ContentSecurityPolicy(*apiHosts)), Override: jsii.Bool(true),
			},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions:       &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ReferrerPolicy:     &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(365)), IncludeSubdomains: jsii.Bool(true), Override: jsii.Bool(true),
			},
		},
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{
			{Header: jsii.String("Cross-Origin-Opener-Policy"), Value: jsii.String(headers.OpenerPolicy), Override: jsii.Bool(true)},
			{Header: jsii.String("Permissions-Policy"), Value: jsii.String(headers.PermissionsPolicy), Override: jsii.Bool(true)},
		}},
	})
}
