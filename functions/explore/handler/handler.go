// Package handler serves POST /v1/api-keys/{id}/explore, the API Explorer's
// backend: it makes one real call to this deployment's own API with the
// explored key's token, and answers the call's outcome, code snippets that
// never contain the token, and the key's access map. It is not a proxy: the
// path must be a route of this API and the call goes only to BaseURL.
package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/verify"
)

// Config is what the explorer needs beyond the shared dependencies.
type Config struct {
	// BaseURL is this deployment's own API base URL; the explorer calls
	// nothing else.
	BaseURL string
	// Client makes the calls; its Timeout bounds each call.
	Client *http.Client
}

// MaxResponseBytes caps how much of the called route's answer is kept.
const MaxResponseBytes = 256 << 10

// callTimeout bounds one explored call when the client sets none.
const callTimeout = 10 * time.Second

// Handlers returns the explore function's handlers by operation.
func Handlers(d httpapi.Deps, cfg Config) map[string]http.Handler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: callTimeout}
	}
	// Never follow redirects: a redirect could lead off this API.
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e := &explorer{d: d, cfg: cfg, client: &client, paths: newPathMatcher(d.Routes)}
	return map[string]http.Handler{"exploreKey": d.Serve(e.serve)}
}

// Request is the body of an explore call.
type Request struct {
	Token   string            `json:"token" required:"true"`
	Method  string            `json:"method" required:"true"`
	Path    string            `json:"path" required:"true"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// CallRequest echoes what was sent, with the token replaced.
type CallRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// CallResponse is what the called route answered.
type CallResponse struct {
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      any               `json:"body"`
	Truncated bool              `json:"truncated"`
}

// Result is the answer of the explore route.
type Result struct {
	Request    CallRequest  `json:"request"`
	Response   CallResponse `json:"response"`
	DurationMS float64      `json:"duration_ms"`
	Snippets   Snippets     `json:"snippets"`
	Access     []AccessCell `json:"access"`
}

type explorer struct {
	d      httpapi.Deps
	cfg    Config
	client *http.Client
	paths  *pathMatcher
}

func (e *explorer) serve(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
	req, err := httpapi.Decode[Request](w, r)
	if err != nil {
		return 0, nil, err
	}
	res, err := e.explore(r.Context(), caller, r.PathValue("id"), req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}

func (e *explorer) explore(ctx context.Context, caller authz.Principal, id string, req Request) (Result, error) {
	k, err := e.d.Keys.Get(ctx, caller, id)
	if err != nil {
		return Result{}, err
	}
	method, path, headers, err := e.validate(req)
	if err != nil {
		return Result{}, err
	}
	auth, err := e.d.Verifier.Authenticate(ctx, req.Token)
	if err != nil {
		return Result{}, err
	}
	if auth.Code != verify.CodeOK || auth.Key.ID != k.ID {
		return Result{}, &fault.Error{Code: fault.CodeForbidden, Message: "the token does not belong to this key, or is no longer valid",
			Fields: []fault.FieldError{{Field: "token", Code: fault.FieldForbidden, Message: "paste a current token of key " + k.ID}}}
	}
	access, err := e.accessMap(ctx, auth.Key.OrganizationID, auth.Key.Access)
	if err != nil {
		return Result{}, err
	}
	call, dur, err := e.call(ctx, method, path, headers, req.Token, req.Body)
	if err != nil {
		return Result{}, err
	}
	shown := map[string]string{"Authorization": "Bearer $DOTENV_API_KEY"}
	for k, v := range headers {
		shown[k] = v
	}
	return Result{
		Request:    CallRequest{Method: method, URL: strings.TrimRight(e.cfg.BaseURL, "/") + path, Path: path, Headers: shown, Body: nonNull(req.Body)},
		Response:   call,
		DurationMS: float64(dur.Microseconds()) / 1000,
		Snippets:   NewSnippets(e.cfg.BaseURL, method, path, headers, nonNull(req.Body)),
		Access:     access,
	}, nil
}

func nonNull(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	return b
}

// call makes the real request to this API with the key's token.
func (e *explorer) call(ctx context.Context, method, path string, headers map[string]string, tok string, body json.RawMessage) (CallResponse, time.Duration, error) {
	var rd io.Reader
	if b := nonNull(body); b != nil {
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(e.cfg.BaseURL, "/")+path, rd)
	if err != nil {
		return CallResponse{}, 0, fault.Invalid("path", "is not a valid request path")
	}
	for k, v := range headers {
		hreq.Header.Set(k, v)
	}
	if rd != nil && hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hreq.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	resp, err := e.client.Do(hreq)
	if err != nil {
		// The error text may hold the URL but never the token.
		return CallResponse{}, 0, fault.Wrap(errors.New("explored call failed"), fault.CodeUnavailable, "the API did not answer the explored call in time")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	dur := time.Since(start)
	if err != nil {
		return CallResponse{}, 0, fault.Wrap(err, fault.CodeUnavailable, "the explored call's answer could not be read")
	}
	out := CallResponse{Status: resp.StatusCode, Headers: map[string]string{}}
	if len(raw) > MaxResponseBytes {
		raw, out.Truncated = raw[:MaxResponseBytes], true
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "ETag", "Location", "Allow", "WWW-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			out.Headers[h] = v
		}
	}
	var parsed any
	if !out.Truncated && json.Unmarshal(raw, &parsed) == nil {
		out.Body = parsed
	} else if len(raw) > 0 {
		out.Body = string(raw)
	}
	return out, dur, nil
}

// AccessCell says whether the key may use a permission on one node.
type AccessCell struct {
	Permission string     `json:"permission"`
	Node       AccessNode `json:"node"`
	Allowed    bool       `json:"allowed"`
}

// AccessNode is a node of the hierarchy in the access map.
type AccessNode struct {
	Level string `json:"level"`
	ID    string `json:"id"`
	Path  string `json:"path"`
}

// maxMapNodes bounds the nodes the access map covers.
const maxMapNodes = 200

// accessMap decides every permission of the catalog on the organization and
// on each node of its hierarchy (down to the deepest level the permission
// can be scoped to), with the same Access.Allows that verification uses.
func (e *explorer) accessMap(ctx context.Context, org string, a authz.Access) ([]AccessCell, error) {
	nodes, names, err := e.hierarchy(ctx, org)
	if err != nil {
		return nil, err
	}
	var out []AccessCell
	for _, g := range e.d.Catalog.Groups() {
		for _, p := range g.Permissions {
			out = append(out, AccessCell{Permission: p.Name, Node: AccessNode{Level: "organization", ID: org, Path: ""}, Allowed: a.Allows(e.d.Catalog, p.Name, authz.Node{})})
			for _, n := range nodes {
				if n.Level() > p.MaxLevel {
					continue
				}
				out = append(out, AccessCell{Permission: p.Name,
					Node:    AccessNode{Level: n.Level().String(), ID: n.ID(), Path: pathName(n, names)},
					Allowed: a.Allows(e.d.Catalog, p.Name, n)})
			}
		}
	}
	return out, nil
}

// hierarchy lists the organization's nodes, root first, up to maxMapNodes.
func (e *explorer) hierarchy(ctx context.Context, org string) ([]authz.Node, map[string]string, error) {
	var nodes []authz.Node
	names := map[string]string{}
	st := e.d.Directory.Store()
	for _, l := range authz.ScopeLevels() {
		cursor := ""
		for len(nodes) < maxMapNodes {
			page, err := st.ListNodes(ctx, org, l, "", listOpts(cursor))
			if err != nil {
				return nil, nil, fmt.Errorf("explore: listing %ss: %w", l, err)
			}
			for _, n := range page.Items {
				nodes = append(nodes, n.Path)
				names[n.ID] = n.Name
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	if len(nodes) > maxMapNodes {
		nodes = nodes[:maxMapNodes]
	}
	return nodes, names, nil
}

// pathName names a node as the rest of the API does: the team alone, or
// the names from the project down.
func pathName(n authz.Node, names map[string]string) string {
	l := n.Level()
	if l == authz.LevelTeam {
		return names[n.Team]
	}
	var parts []string
	for lv := authz.LevelProject; lv <= l; lv++ {
		parts = append(parts, names[n.At(lv)])
	}
	return strings.Join(parts, " / ")
}
