// Package lambdahttp runs the service's net/http handlers on AWS Lambda
// behind an API Gateway REST API: proxy events (payload v1) become
// *http.Request through aws-lambda-go-api-proxy, the REST API's REQUEST
// authorizer is answered from the same verification code, and the caller the
// authorizer verified reaches the handlers as the same authz.Principal the
// single binary's middleware builds.
//
// The caller is read only from the API Gateway request context that the
// adapter's ProxyWithContext puts in the request's context, never from the
// X-GoLambdaProxy-* headers: the adapter does not drop such headers when a
// client sends them, so every incoming one is stripped before the handler
// runs. When no authorizer ran for the route, no principal is set and the
// handlers' guard verifies the bearer token itself: a request is never
// anonymous.
package lambdahttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
)

// ProxyHeaderPrefix starts the headers aws-lambda-go-api-proxy uses to carry
// the API Gateway context in its header mode. Incoming headers with this
// prefix are forgeries and are stripped (compared case-insensitively).
const ProxyHeaderPrefix = "X-GoLambdaProxy-"

// AuthorizeFunc answers a REST API REQUEST authorizer event.
type AuthorizeFunc func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// Handler is a Lambda handler for API Gateway REST proxy events and,
// when it has an authorizer, REQUEST authorizer events too. It implements
// lambda.Handler.
type Handler struct {
	adapter   *httpadapter.HandlerAdapter
	authorize AuthorizeFunc
	logger    *slog.Logger
}

// Option configures a Handler.
type Option func(*Handler)

// WithLogger sets the logger for events that cannot be handled and
// authorizer contexts that cannot be read (default: discarded).
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) {
		if l != nil {
			h.logger = l
		}
	}
}

// WithAuthorizer makes the handler answer REST API REQUEST authorizer events
// with a, as well as proxy events (the verify function).
func WithAuthorizer(a AuthorizeFunc) Option {
	return func(h *Handler) { h.authorize = a }
}

// NewHandler returns a Handler serving h. Proxy events reach h with the
// X-GoLambdaProxy-* headers removed and, when the authorizer context carries
// a caller, that caller in the request context (authz.FromContext).
func NewHandler(h http.Handler, opts ...Option) *Handler {
	out := &Handler{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(out)
	}
	out.adapter = httpadapter.New(principalMiddleware(h, out.logger))
	return out
}

// StartHandler runs an already built Handler with aws-lambda-go; it never
// returns.
func StartHandler(h *Handler) {
	lambda.Start(h)
}

// Proxy answers one REST API proxy event (payload v1).
func (h *Handler) Proxy(ctx context.Context, event events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	resp, err := h.adapter.ProxyWithContext(ctx, event)
	if err != nil {
		return resp, fmt.Errorf("lambdahttp: proxy %s %s: %w", event.HTTPMethod, event.Resource, err)
	}
	return resp, nil
}

// eventKind holds the fields that tell an authorizer event from a proxy
// event.
type eventKind struct {
	Type      string `json:"type"`
	MethodArn string `json:"methodArn"`
}

// Invoke implements lambda.Handler: it decodes the event, dispatches it
// (a REQUEST authorizer event has "type": "REQUEST" and a methodArn; anything
// else is read as a proxy event) and encodes the answer. An authorizer error
// is returned as is, so that "Unauthorized" reaches API Gateway unchanged.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var kind eventKind
	if err := json.Unmarshal(payload, &kind); err != nil {
		return nil, fmt.Errorf("lambdahttp: the event is not a JSON object: %w", err)
	}
	if kind.Type == "REQUEST" && kind.MethodArn != "" {
		if h.authorize == nil {
			return nil, errors.New("lambdahttp: this function is not an authorizer")
		}
		var req events.APIGatewayCustomAuthorizerRequestTypeRequest
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, fmt.Errorf("lambdahttp: decoding the authorizer event: %w", err)
		}
		resp, err := h.authorize(ctx, req)
		if err != nil {
			return nil, err
		}
		return marshal(resp)
	}
	var event events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &event); err != nil {
		return nil, fmt.Errorf("lambdahttp: decoding the proxy event: %w", err)
	}
	if event.HTTPMethod == "" {
		return nil, errors.New("lambdahttp: the event is neither a REST API proxy event nor a REQUEST authorizer event")
	}
	resp, err := h.Proxy(ctx, event)
	if err != nil {
		return nil, err
	}
	return marshal(resp)
}

// marshal encodes an answer without HTML escaping (as aws-lambda-go does).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("lambdahttp: encoding the answer: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// principalMiddleware strips forged adapter headers and puts the caller of
// the authorizer context, if any, into the request context.
func principalMiddleware(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		StripProxyHeaders(r.Header)
		p, ok, err := PrincipalFromContext(r.Context())
		if err != nil {
			// A context that claims a caller but cannot be read is a
			// deployment fault; never fall back to anything weaker.
			httpapi.WriteError(w, r, logger, fault.Wrap(err, fault.CodeInternal, "internal error"))
			return
		}
		if ok {
			r = r.WithContext(authz.WithPrincipal(r.Context(), p))
		}
		// The audit source: RemoteAddr is requestContext.identity.sourceIp
		// (set by the proxy adapter), the request id API Gateway's
		// (requestContext.requestId, also in its x-amzn-RequestId answer
		// header), answered in X-Request-Id as by the single binary.
		var requestID string
		if gw, found := core.GetAPIGatewayContextFromContext(r.Context()); found {
			requestID = gw.RequestID
		}
		src := audit.SourceOf(r, requestID)
		w.Header().Set(audit.RequestIDHeader, src.RequestID)
		r = r.WithContext(audit.WithSource(r.Context(), src))
		next.ServeHTTP(w, r)
	})
}

// StripProxyHeaders removes every header whose name starts with
// ProxyHeaderPrefix, in any letter case.
func StripProxyHeaders(h http.Header) {
	for name := range h {
		if len(name) >= len(ProxyHeaderPrefix) && strings.EqualFold(name[:len(ProxyHeaderPrefix)], ProxyHeaderPrefix) {
			delete(h, name)
		}
	}
}

// PrincipalFromContext returns the caller of the API Gateway authorizer
// context that ProxyWithContext stored in ctx. ok is false when ctx holds no
// API Gateway context or its authorizer context carries no caller; err is
// set when it carries one that cannot be read.
func PrincipalFromContext(ctx context.Context) (p authz.Principal, ok bool, err error) {
	gw, found := core.GetAPIGatewayContextFromContext(ctx)
	if !found || gw.Authorizer == nil {
		return authz.Principal{}, false, nil
	}
	p, err = DecodePrincipal(gw.Authorizer)
	if errors.Is(err, ErrNoPrincipal) {
		return authz.Principal{}, false, nil
	}
	if err != nil {
		return authz.Principal{}, false, err
	}
	return p, true, nil
}
