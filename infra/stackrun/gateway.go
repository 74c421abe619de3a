package stackrun

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dotenv/apikeys/shared/lambdatest"
)

// Invoker invokes one Lambda function with an event and returns its answer;
// an error answer of the function is a *lambdatest.FunctionError.
// *lambdatest.Emulator is one.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
}

// How the gateway dealt with a request's authorizer, in an Exchange.
const (
	// AuthNone: the method has no authorizer (AuthorizationType NONE).
	AuthNone = "none"
	// AuthInvoked: the authorizer function was invoked.
	AuthInvoked = "invoked"
	// AuthCached: a cached decision was used (TTL > 0, same identity).
	AuthCached = "cached"
	// AuthIdentityMissing: an identity source was missing or empty, so
	// the gateway answered 401 without invoking the authorizer.
	AuthIdentityMissing = "identity-missing"
)

// Exchange records what the gateway did with one request.
type Exchange struct {
	// RequestID is the x-amzn-RequestId the answer carries.
	RequestID string
	// Method, Path (without the stage) and Resource (the matched
	// resource's path template; "" when none matched).
	Method, Path, Resource string
	// Auth is one of the Auth* constants ("" before the method was found).
	Auth string
	// Effect is the authorizer policy's decision for the method ARN:
	// "Allow", "Deny", or "" when there was none.
	Effect string
	// Function is the logical id of the Lambda function the request was
	// integrated with ("" when the gateway answered by itself).
	Function string
	// GatewayResponse is the response type the gateway answered with
	// ("" when the integration answered).
	GatewayResponse string
	// Status is the answer's status.
	Status int
}

// Gateway serves a template's REST API: one stage, its resources and
// methods, REQUEST authorizers, AWS_PROXY and MOCK integrations, gateway
// responses. It is an http.Handler for the stage's host.
type Gateway struct {
	res       *Resolver
	fns       map[string]Invoker // function logical id → invoker
	stage     string
	apiID     string
	account   string
	region    string
	root      *node
	auths     map[string]authorizer
	responses map[string]map[string]any // response type → properties
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]cached
	trace map[string]Exchange
}

type node struct {
	part     string // "v1", "{id}"
	path     string // "/v1/api-keys/{id}"
	children []*node
	methods  map[string]map[string]any // HTTP method → Method properties
}

type authorizer struct {
	id       string
	function string
	typ      string
	identity []string
	ttl      time.Duration
}

type cached struct {
	resp    events.APIGatewayCustomAuthorizerResponse
	expires time.Time
}

// GatewayConfig is what NewGateway needs.
type GatewayConfig struct {
	// Template is the stack's template; Resolver resolves its references.
	Template Template
	Resolver *Resolver
	// Site is the one Resolver was made for (API id, account, region).
	Site Site
	// Functions invokes each Lambda function by logical id.
	Functions map[string]Invoker
	// Now is the clock of the authorizer cache (default time.Now).
	Now func() time.Time
}

// NewGateway reads the template's one REST API, its stage, resources,
// methods, authorizers and gateway responses.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	t := cfg.Template
	apis := t.OfType("AWS::ApiGateway::RestApi")
	if len(apis) != 1 {
		return nil, fmt.Errorf("stackrun: want one AWS::ApiGateway::RestApi, found %d", len(apis))
	}
	var apiID string
	for id := range apis {
		apiID = id
	}
	g := &Gateway{res: cfg.Resolver, fns: cfg.Functions, apiID: cfg.Site.APIID, account: cfg.Site.Account, region: cfg.Site.Region,
		auths: map[string]authorizer{}, responses: map[string]map[string]any{}, now: cfg.Now,
		cache: map[string]cached{}, trace: map[string]Exchange{}}
	if g.now == nil {
		g.now = time.Now
	}
	stages := t.OfType("AWS::ApiGateway::Stage")
	if len(stages) != 1 {
		return nil, fmt.Errorf("stackrun: want one AWS::ApiGateway::Stage, found %d", len(stages))
	}
	for _, st := range stages {
		g.stage, _ = st["StageName"].(string)
	}
	// The resource tree, from the root through ParentId.
	res := t.OfType("AWS::ApiGateway::Resource")
	nodes := map[string]*node{apiID + "Root": {path: "/", methods: map[string]map[string]any{}}}
	var nodeOf func(id string, depth int) (*node, error)
	nodeOf = func(id string, depth int) (*node, error) {
		if n, ok := nodes[id]; ok {
			return n, nil
		}
		p, ok := res[id]
		if !ok || depth > 64 {
			return nil, fmt.Errorf("stackrun: API resource %q not in the template", id)
		}
		parentID, err := g.res.String(p["ParentId"])
		if err != nil {
			return nil, fmt.Errorf("stackrun: resource %s: %w", id, err)
		}
		parent, err := nodeOf(parentID, depth+1)
		if err != nil {
			return nil, err
		}
		part, _ := p["PathPart"].(string)
		n := &node{part: part, path: strings.TrimSuffix(parent.path, "/") + "/" + part, methods: map[string]map[string]any{}}
		parent.children = append(parent.children, n)
		nodes[id] = n
		return n, nil
	}
	for id := range res {
		if _, err := nodeOf(id, 0); err != nil {
			return nil, err
		}
	}
	g.root = nodes[apiID+"Root"]
	for id, m := range t.OfType("AWS::ApiGateway::Method") {
		rid, err := g.res.String(m["ResourceId"])
		if err != nil {
			return nil, fmt.Errorf("stackrun: method %s: %w", id, err)
		}
		n, ok := nodes[rid]
		if !ok {
			return nil, fmt.Errorf("stackrun: method %s: resource %q not in the template", id, rid)
		}
		verb, _ := m["HttpMethod"].(string)
		n.methods[verb] = m
	}
	for id, a := range t.OfType("AWS::ApiGateway::Authorizer") {
		au := authorizer{id: id, ttl: 300 * time.Second} // API Gateway's default TTL when unset
		au.typ, _ = a["Type"].(string)
		if v, ok := a["AuthorizerResultTtlInSeconds"].(float64); ok {
			au.ttl = time.Duration(v) * time.Second
		}
		if s, _ := a["IdentitySource"].(string); s != "" {
			for _, src := range strings.Split(s, ",") {
				au.identity = append(au.identity, strings.TrimSpace(src))
			}
		}
		fn, err := g.lambdaOf(a["AuthorizerUri"])
		if err != nil {
			return nil, fmt.Errorf("stackrun: authorizer %s: %w", id, err)
		}
		au.function = fn
		g.auths[id] = au
	}
	for _, r := range t.OfType("AWS::ApiGateway::GatewayResponse") {
		typ, _ := r["ResponseType"].(string)
		g.responses[typ] = r
	}
	return g, nil
}

// lambdaOf returns the logical id of the function a Lambda integration
// URI invokes.
func (g *Gateway) lambdaOf(uri any) (string, error) {
	return functionOf(g.res, slices.Collect(maps.Keys(g.fns)), uri)
}

// functionOf returns which of the functions (logical ids) an API Gateway
// Lambda URI (arn:…:apigateway:…:lambda:path/2015-03-31/functions/<ARN>/invocations)
// invokes.
func functionOf(res *Resolver, ids []string, uri any) (string, error) {
	s, err := res.String(uri)
	if err != nil {
		return "", err
	}
	_, after, ok := strings.Cut(s, ":lambda:path/2015-03-31/functions/")
	fnArn, ok2 := strings.CutSuffix(after, "/invocations")
	if !ok || !ok2 {
		return "", fmt.Errorf("stackrun: %q is not a Lambda invocation URI", s)
	}
	for _, id := range ids {
		if arn, _ := res.String(map[string]any{"Fn::GetAtt": []any{id, "Arn"}}); arn == fnArn {
			return id, nil
		}
	}
	return "", fmt.Errorf("stackrun: no function of the template has the ARN %s", fnArn)
}

// Exchange returns what the gateway did with the request that was
// answered with x-amzn-RequestId id.
func (g *Gateway) Exchange(id string) (Exchange, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.trace[id]
	return e, ok
}

// match finds the resource for a path (without the stage): literal path
// parts before {param} ones, as API Gateway does.
func (g *Gateway) match(p string) (*node, map[string]string) {
	params := map[string]string{}
	n := g.root
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if p == "/" || p == "" {
		return n, params
	}
	for _, part := range parts {
		var next *node
		for _, c := range n.children {
			if c.part == part {
				next = c
				break
			}
		}
		if next == nil {
			for _, c := range n.children {
				if strings.HasPrefix(c.part, "{") && strings.HasSuffix(c.part, "}") && !strings.HasSuffix(c.part, "+}") && part != "" {
					next = c
					params[strings.Trim(c.part, "{}")] = part
					break
				}
			}
		}
		if next == nil {
			return nil, nil
		}
		n = next
	}
	return n, params
}

// ServeHTTP answers one request as the stage would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	ex := Exchange{RequestID: hex.EncodeToString(rnd[:]), Method: r.Method}
	defer func() {
		g.mu.Lock()
		g.trace[ex.RequestID] = ex
		g.mu.Unlock()
	}()
	w.Header().Set("x-amzn-RequestId", ex.RequestID)
	p, ok := strings.CutPrefix(r.URL.Path, "/"+g.stage)
	if !ok || (p != "" && !strings.HasPrefix(p, "/")) {
		g.gatewayResponse(w, &ex, "MISSING_AUTHENTICATION_TOKEN")
		return
	}
	if p == "" {
		p = "/"
	}
	ex.Path = p
	n, params := g.match(p)
	if n == nil {
		g.gatewayResponse(w, &ex, "MISSING_AUTHENTICATION_TOKEN")
		return
	}
	ex.Resource = n.path
	m, ok := n.methods[r.Method]
	if !ok {
		m, ok = n.methods["ANY"]
	}
	if !ok {
		g.gatewayResponse(w, &ex, "MISSING_AUTHENTICATION_TOKEN")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20+1))
	if err != nil || len(body) > 10<<20 {
		g.gatewayResponse(w, &ex, "REQUEST_TOO_LARGE")
		return
	}
	ctx := r.Context()
	var authCtx map[string]any
	switch at, _ := m["AuthorizationType"].(string); at {
	case "NONE", "":
		ex.Auth = AuthNone
	case "CUSTOM":
		aid, err := g.res.String(m["AuthorizerId"])
		au, ok := g.auths[aid]
		if err != nil || !ok || au.typ != "REQUEST" {
			g.gatewayResponse(w, &ex, "AUTHORIZER_CONFIGURATION_ERROR")
			return
		}
		var answered bool
		authCtx, answered = g.authorize(ctx, w, &ex, au, r, n, params)
		if answered {
			return
		}
	default:
		// AWS_IAM and COGNITO_USER_POOLS are not emulated.
		g.gatewayResponse(w, &ex, "AUTHORIZER_CONFIGURATION_ERROR")
		return
	}
	integ, _ := m["Integration"].(map[string]any)
	switch typ, _ := integ["Type"].(string); typ {
	case "MOCK":
		g.mock(w, &ex, integ)
	case "AWS_PROXY":
		fn, err := g.lambdaOf(integ["Uri"])
		if err != nil {
			g.gatewayResponse(w, &ex, "INTEGRATION_FAILURE")
			return
		}
		ex.Function = fn
		g.proxy(ctx, w, &ex, fn, g.proxyEvent(r, &ex, n, params, body, authCtx))
	default:
		g.gatewayResponse(w, &ex, "INTEGRATION_FAILURE")
	}
}

func (g *Gateway) methodArn(method, p string) string {
	return "arn:aws:execute-api:" + g.region + ":" + g.account + ":" + g.apiID + "/" + g.stage + "/" + method + p
}

func headerMaps(h http.Header) (map[string]string, map[string][]string) {
	single, multi := map[string]string{}, map[string][]string{}
	for k, vs := range h {
		if len(vs) > 0 {
			single[k] = vs[len(vs)-1]
			multi[k] = vs
		}
	}
	return single, multi
}

func queryMaps(r *http.Request) (map[string]string, map[string][]string) {
	q := r.URL.Query()
	if len(q) == 0 {
		return nil, nil
	}
	single, multi := map[string]string{}, map[string][]string{}
	for k, vs := range q {
		single[k] = vs[len(vs)-1]
		multi[k] = vs
	}
	return single, multi
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (g *Gateway) requestContext(r *http.Request, ex *Exchange, n *node) events.APIGatewayProxyRequestContext {
	return events.APIGatewayProxyRequestContext{
		AccountID: g.account, ResourceID: n.path, Stage: g.stage, RequestID: ex.RequestID,
		Identity:     events.APIGatewayRequestIdentity{SourceIP: sourceIP(r), UserAgent: r.UserAgent()},
		ResourcePath: n.path, HTTPMethod: r.Method, APIID: g.apiID,
		Path: "/" + g.stage + ex.Path, DomainName: r.Host, Protocol: "HTTP/1.1",
		RequestTimeEpoch: g.now().UnixMilli(),
	}
}

// identity evaluates an authorizer's identity sources for r; ok is false
// when one is missing or empty.
func (g *Gateway) identity(au authorizer, r *http.Request, ex *Exchange, n *node) (string, bool) {
	var vals []string
	for _, src := range au.identity {
		var v string
		switch {
		case strings.HasPrefix(src, "method.request.header."):
			v = r.Header.Get(strings.TrimPrefix(src, "method.request.header."))
		case strings.HasPrefix(src, "method.request.querystring."):
			v = r.URL.Query().Get(strings.TrimPrefix(src, "method.request.querystring."))
		case src == "context.httpMethod":
			v = r.Method
		case src == "context.resourcePath":
			v = n.path
		case src == "context.path":
			v = "/" + g.stage + ex.Path
		case src == "context.identity.sourceIp":
			v = sourceIP(r)
		default:
			return "", false // stage variables and other context values: none here
		}
		if v == "" {
			return "", false
		}
		vals = append(vals, v)
	}
	return strings.Join(vals, "\x00"), true
}

// authorize runs a REQUEST authorizer; answered reports that the gateway
// already answered (401, 403, 500).
func (g *Gateway) authorize(ctx context.Context, w http.ResponseWriter, ex *Exchange, au authorizer, r *http.Request, n *node, params map[string]string) (map[string]any, bool) {
	ident, ok := g.identity(au, r, ex, n)
	if !ok {
		ex.Auth = AuthIdentityMissing
		g.gatewayResponse(w, ex, "UNAUTHORIZED")
		return nil, true
	}
	arn := g.methodArn(r.Method, ex.Path)
	key := au.id + "\x00" + ident
	var resp events.APIGatewayCustomAuthorizerResponse
	g.mu.Lock()
	c, hit := g.cache[key]
	g.mu.Unlock()
	if au.ttl > 0 && hit && g.now().Before(c.expires) {
		ex.Auth = AuthCached
		resp = c.resp
	} else {
		ex.Auth = AuthInvoked
		headers, multi := headerMaps(r.Header)
		query, multiQuery := queryMaps(r)
		rc := g.requestContext(r, ex, n)
		ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type: "REQUEST", MethodArn: arn, Resource: n.path, Path: ex.Path, HTTPMethod: r.Method,
			Headers: headers, MultiValueHeaders: multi, QueryStringParameters: query, MultiValueQueryStringParameters: multiQuery,
			PathParameters: params, StageVariables: map[string]string{},
			RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
				Path: rc.Path, AccountID: rc.AccountID, ResourceID: rc.ResourceID, Stage: rc.Stage, RequestID: rc.RequestID,
				Identity:     events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: rc.Identity.SourceIP},
				ResourcePath: rc.ResourcePath, HTTPMethod: rc.HTTPMethod, APIID: rc.APIID,
			},
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			g.gatewayResponse(w, ex, "AUTHORIZER_FAILURE")
			return nil, true
		}
		inv, ok := g.fns[au.function]
		if !ok {
			g.gatewayResponse(w, ex, "AUTHORIZER_CONFIGURATION_ERROR")
			return nil, true
		}
		out, err := inv.Invoke(ctx, raw)
		var fe *lambdatest.FunctionError
		if errors.As(err, &fe) && fe.Message == "Unauthorized" {
			g.gatewayResponse(w, ex, "UNAUTHORIZED")
			return nil, true
		}
		if err != nil || json.Unmarshal(out, &resp) != nil || resp.PrincipalID == "" {
			g.gatewayResponse(w, ex, "AUTHORIZER_FAILURE")
			return nil, true
		}
		if au.ttl > 0 {
			g.mu.Lock()
			g.cache[key] = cached{resp: resp, expires: g.now().Add(au.ttl)}
			g.mu.Unlock()
		}
	}
	ex.Effect = evaluate(resp.PolicyDocument, arn)
	if ex.Effect != "Allow" {
		g.gatewayResponse(w, ex, "ACCESS_DENIED")
		return nil, true
	}
	ctxVals := map[string]any{"principalId": resp.PrincipalID}
	for k, v := range resp.Context {
		ctxVals[k] = fmt.Sprint(v) // REST APIs hand the context on as strings
	}
	return ctxVals, false
}

// evaluate applies an authorizer's policy to a method ARN: an explicit
// Deny wins, then an Allow, else Deny.
func evaluate(doc events.APIGatewayCustomAuthorizerPolicy, arn string) string {
	allowed := false
	for _, st := range doc.Statement {
		actionOK := false
		for _, a := range st.Action {
			actionOK = actionOK || a == "execute-api:Invoke" || a == "execute-api:*" || a == "*"
		}
		resOK := false
		for _, res := range st.Resource {
			resOK = resOK || globMatch(res, arn)
		}
		if !actionOK || !resOK {
			continue
		}
		switch st.Effect {
		case "Deny":
			return "Deny"
		case "Allow":
			allowed = true
		}
	}
	if allowed {
		return "Allow"
	}
	return "Deny"
}

// globMatch matches an IAM resource pattern: * stands for any characters
// ('/' included), ? for one.
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	ok, _ := regexp.MatchString(b.String(), s)
	return ok
}

func (g *Gateway) proxyEvent(r *http.Request, ex *Exchange, n *node, params map[string]string, body []byte, authCtx map[string]any) events.APIGatewayProxyRequest {
	headers, multi := headerMaps(r.Header)
	query, multiQuery := queryMaps(r)
	rc := g.requestContext(r, ex, n)
	rc.Authorizer = authCtx
	if len(params) == 0 {
		params = nil
	}
	return events.APIGatewayProxyRequest{
		Resource: n.path, Path: ex.Path, HTTPMethod: r.Method, Headers: headers, MultiValueHeaders: multi,
		QueryStringParameters: query, MultiValueQueryStringParameters: multiQuery, PathParameters: params,
		RequestContext: rc, Body: string(body),
	}
}

// proxy invokes the integration's function; a function error or an answer
// that is not a proxy response is a 502, as API Gateway answers.
func (g *Gateway) proxy(ctx context.Context, w http.ResponseWriter, ex *Exchange, fn string, ev events.APIGatewayProxyRequest) {
	inv, ok := g.fns[fn]
	raw, err := json.Marshal(ev)
	if !ok || err != nil {
		g.gatewayResponse(w, ex, "INTEGRATION_FAILURE")
		return
	}
	out, err := inv.Invoke(ctx, raw)
	var resp events.APIGatewayProxyResponse
	if err != nil || json.Unmarshal(out, &resp) != nil || resp.StatusCode == 0 {
		ex.Status = http.StatusBadGateway
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amzn-ErrorType", "InternalServerErrorException")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, `{"message": "Internal server error"}`)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			g.gatewayResponse(w, ex, "INTEGRATION_FAILURE")
			return
		}
	}
	ex.Status = resp.StatusCode
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(b)
}

// mock answers a MOCK integration with its first integration response's
// status and static header values (the CORS preflights).
func (g *Gateway) mock(w http.ResponseWriter, ex *Exchange, integ map[string]any) {
	resps := list(integ["IntegrationResponses"])
	if len(resps) == 0 {
		g.gatewayResponse(w, ex, "INTEGRATION_FAILURE")
		return
	}
	ir, _ := resps[0].(map[string]any)
	params, _ := ir["ResponseParameters"].(map[string]any)
	for k, v := range params {
		name, ok := strings.CutPrefix(k, "method.response.header.")
		s, err := g.res.String(v)
		if !ok || err != nil {
			g.gatewayResponse(w, ex, "INTEGRATION_FAILURE")
			return
		}
		if val, static := unquote(s); static {
			w.Header().Set(name, val)
		}
	}
	code, _ := strconv.Atoi(fmt.Sprint(ir["StatusCode"]))
	if code == 0 {
		code = http.StatusOK
	}
	ex.Status = code
	w.WriteHeader(code)
}

// defaultResponses are API Gateway's own answers where the template does
// not customize a response type: status, x-amzn-ErrorType and body.
var defaultResponses = map[string]struct {
	status    int
	errorType string
	body      string
}{
	"UNAUTHORIZED":                   {401, "UnauthorizedException", `{"message":"Unauthorized"}`},
	"ACCESS_DENIED":                  {403, "AccessDeniedException", `{"Message":"User is not authorized to access this resource"}`},
	"MISSING_AUTHENTICATION_TOKEN":   {403, "MissingAuthenticationTokenException", `{"message":"Missing Authentication Token"}`},
	"REQUEST_TOO_LARGE":              {413, "RequestTooLargeException", `{"message":"Request Too Long"}`},
	"AUTHORIZER_FAILURE":             {500, "AuthorizerFailureException", `{"message":null}`},
	"AUTHORIZER_CONFIGURATION_ERROR": {500, "AuthorizerConfigurationException", `{"message":null}`},
	"INTEGRATION_FAILURE":            {504, "InternalServerErrorException", `{"message":"Internal server error"}`},
}

// gatewayResponse answers a response type as the template customizes it
// (the type's own GatewayResponse, else DEFAULT_4XX or DEFAULT_5XX), or
// as API Gateway does by default.
func (g *Gateway) gatewayResponse(w http.ResponseWriter, ex *Exchange, typ string) {
	ex.GatewayResponse = typ
	def := defaultResponses[typ]
	status, body := def.status, def.body
	w.Header().Set("x-amzn-ErrorType", def.errorType)
	w.Header().Set("Content-Type", "application/json")
	custom, ok := g.responses[typ]
	if !ok {
		fallback := "DEFAULT_4XX"
		if status >= 500 {
			fallback = "DEFAULT_5XX"
		}
		custom, ok = g.responses[fallback]
	}
	if ok {
		if s, err := strconv.Atoi(fmt.Sprint(custom["StatusCode"])); err == nil {
			status = s
		}
		params, _ := custom["ResponseParameters"].(map[string]any)
		for k, v := range params {
			name, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			s, err := g.res.String(v)
			if !ok || err != nil {
				continue
			}
			if val, static := unquote(s); static {
				w.Header().Set(name, val)
			}
		}
		if tpls, _ := custom["ResponseTemplates"].(map[string]any); tpls["application/json"] != nil {
			body = strings.ReplaceAll(fmt.Sprint(tpls["application/json"]), "$context.requestId", ex.RequestID)
		}
	}
	ex.Status = status
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
