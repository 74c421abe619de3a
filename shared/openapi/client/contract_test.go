package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/dotenv/apikeys/shared/openapi/client"
	"github.com/dotenv/apikeys/shared/openapi/schematest"
)

// documentPath is docs/openapi.json from this package.
const documentPath = "../../../docs/openapi.json"

// offContractHeader marks a request the test sends off the contract on
// purpose (a missing field, no token, a malformed query) to see the
// server refuse it. The contract strips it before sending, and fails
// the test when such a request does validate: the mark must be deserved.
const offContractHeader = "X-Test-Off-Contract"

// offContract marks a request as deliberately off the contract.
func offContract(why string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set(offContractHeader, why)
		return nil
	}
}

// contract is an http.RoundTripper that holds every request the
// generated client sends and every answer it gets to docs/openapi.json.
// kin-openapi's openapi3filter routes the request to its operation and
// checks its path, query and header parameters and security, and the
// answer's status (a documented one) and headers (the required ones
// present, each value of its schema). Bodies, both ways, are validated by
// schematest as JSON Schema 2020-12, OpenAPI 3.1's dialect (kin-openapi
// falls back to OpenAPI 3.0 rules for schemas with $refs, where a schema
// without a type refuses null): the Content-Type must be documented and
// the body of its schema, and there is no body where the document has
// none. It records the operationId of every call. Its failures name the
// operation and status; tokens and signing secrets in the validators'
// messages are masked.
type contract struct {
	t      *testing.T
	doc    *openapi3.T
	schema *schematest.Document
	router routers.Router
	mu     sync.Mutex
	n      int
	called map[string]bool
}

// newContract loads and validates the document and routes requests to
// base by its paths.
func newContract(t *testing.T, base string) *contract {
	t.Helper()
	doc := loadKinDocument(t)
	// The document's one server is "/" (this deployment): the router
	// matches the running binary's address instead.
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("routing docs/openapi.json: %v", err)
	}
	schema, err := schematest.Load(documentPath)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, doc: doc, schema: schema, router: router, called: map[string]bool{}}
}

// loadKinDocument loads docs/openapi.json with kin-openapi and validates
// it as OpenAPI 3.1.
func loadKinDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(documentPath)
	if err != nil {
		t.Fatalf("loading docs/openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("docs/openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("docs/openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// count reports how many calls went through the contract.
func (c *contract) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// operations returns the operationIds called, sorted.
func (c *contract) operations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id := range c.called {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// documented returns every operationId of the document, sorted.
func (c *contract) documented() []string {
	var out []string
	for _, item := range c.doc.Paths.Map() {
		for _, op := range item.Operations() {
			out = append(out, op.OperationID)
		}
	}
	slices.Sort(out)
	return out
}

// secrets matches tokens and signing secrets, masked in failures.
var secrets = regexp.MustCompile(`(dotenv_|whsec_)[A-Za-z0-9+/=_-]+`)

func (c *contract) fail(format string, args ...any) {
	c.t.Helper()
	c.t.Error(secrets.ReplaceAllString(fmt.Sprintf(format, args...), "${1}…"))
}

// RoundTrip validates req, sends it, validates the answer and returns it.
func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	off := req.Header.Get(offContractHeader)
	req.Header.Del(offContractHeader)
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	c.mu.Lock()
	c.n++
	c.mu.Unlock()

	at := req.Method + " " + req.URL.Path
	route, params, err := c.router.FindRoute(req)
	var in *openapi3filter.RequestValidationInput
	if err != nil {
		c.fail("contract: %s matches no operation of the document: %v", at, err)
	} else {
		at = route.Operation.OperationID
		c.mu.Lock()
		c.called[at] = true
		c.mu.Unlock()
		probe := req.Clone(req.Context())
		probe.Body = io.NopCloser(bytes.NewReader(reqBody))
		in = &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
			Options: &openapi3filter.Options{MultiError: true, SkipSettingDefaults: true, ExcludeRequestBody: true, AuthenticationFunc: bearer}}
		err := errors.Join(openapi3filter.ValidateRequest(req.Context(), in), c.body(route.Path, req.Method, 0, req.Header, reqBody))
		switch {
		case off == "" && err != nil:
			c.fail("contract: %s request: %v", at, err)
		case off != "" && err == nil:
			c.fail("contract: %s request marked off the contract (%s) validates", at, off)
		}
	}

	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if in == nil {
		return res, nil
	}
	at = fmt.Sprintf("%s %d", at, res.StatusCode)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true, ExcludeResponseBody: true}}
	if err := errors.Join(openapi3filter.ValidateResponse(req.Context(), out), c.body(route.Path, req.Method, res.StatusCode, res.Header, body)); err != nil {
		c.fail("contract: %s answer: %v", at, err)
	}
	return res, nil
}

// body validates a request body (status 0) or an answer's body against
// the schema of its Content-Type.
func (c *contract) body(path, method string, status int, h http.Header, body []byte) error {
	var content any
	if status == 0 {
		content, _ = c.schema.Get("#/paths/" + schematest.Escape(path) + "/" + strings.ToLower(method) + "/requestBody/content")
	} else {
		content, _ = c.schema.Get(fmt.Sprintf("#/paths/%s/%s/responses/%d/content", schematest.Escape(path), strings.ToLower(method), status))
	}
	if content == nil {
		if len(body) != 0 {
			return errors.New("a body where the document has none")
		}
		return nil
	}
	if len(body) == 0 && status == 0 {
		return nil // the document says whether the body is required: kin-openapi checked
	}
	mediaType, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	mediaType = strings.TrimSpace(mediaType)
	var pointer string
	if status == 0 {
		pointer = c.schema.RequestSchema(path, method, mediaType)
	} else {
		pointer = c.schema.ResponseSchema(path, method, status, mediaType)
	}
	if pointer == "" {
		return fmt.Errorf("Content-Type %q is not documented", mediaType)
	}
	var v any = string(body)
	if mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") {
		var err error
		if v, err = schematest.Decode(body); err != nil {
			return fmt.Errorf("the %s body is not JSON: %w", mediaType, err)
		}
	}
	if err := c.schema.Validate(pointer, v); err != nil {
		return fmt.Errorf("the body does not match %s: %w", pointer, err)
	}
	return nil
}

// bearer is the document's one security scheme (HTTP bearer): the
// request carries "Authorization: Bearer <token>".
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not HTTP bearer", in.SecuritySchemeName)
	}
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return errors.New("no Authorization: Bearer token")
	}
	return nil
}
