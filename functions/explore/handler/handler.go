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
	"net/netip"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/wiring"
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

// scrubSlack is read past MaxResponseBytes so that a token (even escaped)
// crossing the cut is scrubbed whole; the slack is then cut off.
const scrubSlack = 4 << 10

// callTimeout bounds one explored call when the client sets none.
const callTimeout = 10 * time.Second

// Services are the services of Deps the explore function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Keys, wiring.Directory} }

// Handlers returns the explore function's handlers by operation.
func Handlers(d wiring.Deps, cfg Config) authz.Handlers {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: callTimeout}
	}
	// Never follow redirects: a redirect could lead off this API.
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e := &explorer{d: d, cfg: cfg, client: &client, paths: newPathMatcher(d.Routes), lists: listPermissions(d.Routes)}
	return authz.Handlers{"exploreKey": d.Serve(e.serve)}
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
	// AccessHidden summarizes, per level, the nodes left out of Access
	// because the explored key may not list them.
	AccessHidden []AccessHidden `json:"access_hidden"`
	// Network says whether the explored key may be used from the address
	// the explorer was called from.
	Network Network `json:"network"`
}

// Network is the explored key's network allowlist applied to the address
// the explorer's caller comes from (as the guard reads it, trusted proxies
// included).
type Network struct {
	// ClientIP is that address, null when it is unknown.
	ClientIP *string `json:"client_ip"`
	// Allowed: the key may be used from it (always, without allowlist).
	Allowed bool `json:"allowed"`
}

type explorer struct {
	d      wiring.Deps
	cfg    Config
	client *http.Client
	paths  *pathMatcher
	// lists is the permission that lists each level's nodes.
	lists map[authz.Level]string
}

func (e *explorer) serve(w http.ResponseWriter, r *http.Request, caller authz.Principal) (int, any, error) {
	id := r.PathValue("id")
	req, err := httpapi.Decode[Request](w, r)
	if err != nil {
		// The token is not known yet: scrub anything shaped like a token
		// of this key (an unknown field could be named after it).
		return 0, nil, keyScrubber(id).Error(err)
	}
	sc := newScrubber(req.Token)
	res, err := e.explore(r.Context(), caller, id, req, sc, e.d.Gate.RequestAddr(r))
	if err != nil {
		return 0, nil, keyScrubber(id).Error(sc.Error(err))
	}
	return http.StatusOK, res, nil
}

func (e *explorer) explore(ctx context.Context, caller authz.Principal, id string, req Request, sc scrubber, from netip.Addr) (Result, error) {
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
	access, hidden, err := e.accessMap(ctx, auth.Key.OrganizationID, auth.Key.Access)
	if err != nil {
		return Result{}, err
	}
	call, dur, err := e.call(ctx, method, path, headers, req.Token, req.Body, sc)
	if err != nil {
		return Result{}, err
	}
	// Everything below is echoed: the token is replaced by Placeholder in
	// the path, the header values and the body, and so in the snippets.
	path = sc.String(path)
	body := sc.JSON(nonNull(req.Body))
	for k, v := range headers {
		headers[k] = sc.String(v)
	}
	shown := map[string]string{"Authorization": "Bearer " + Placeholder}
	for k, v := range headers {
		shown[k] = v
	}
	snippets := NewSnippets(e.cfg.BaseURL, method, path, headers, body)
	for _, s := range []*string{&snippets.Curl, &snippets.Go, &snippets.JavaScript, &snippets.Python} {
		*s = sc.String(*s)
	}
	return Result{
		Request:      CallRequest{Method: method, URL: strings.TrimRight(e.cfg.BaseURL, "/") + path, Path: path, Headers: shown, Body: body},
		Response:     call,
		DurationMS:   float64(dur.Microseconds()) / 1000,
		Snippets:     snippets,
		Access:       access,
		AccessHidden: hidden,
		Network:      networkOf(auth.Key.Access, from),
	}, nil
}

// networkOf applies a key's allowlist to the address from.
func networkOf(a authz.Access, from netip.Addr) Network {
	n := Network{Allowed: a.AllowsAddr(from)}
	if from.IsValid() {
		s := from.Unmap().String()
		n.ClientIP = &s
	}
	return n
}

func nonNull(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	return b
}

// call makes the real request to this API with the key's token; the
// answer comes back with the token scrubbed (a route may reflect its input).
func (e *explorer) call(ctx context.Context, method, path string, headers map[string]string, tok string, body json.RawMessage, sc scrubber) (CallResponse, time.Duration, error) {
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
	// Read a little past the cap, so that a token straddling it is
	// scrubbed before the answer is cut.
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+scrubSlack))
	dur := time.Since(start)
	if err != nil {
		return CallResponse{}, 0, fault.Wrap(err, fault.CodeUnavailable, "the explored call's answer could not be read")
	}
	out := CallResponse{Status: resp.StatusCode, Headers: map[string]string{}}
	for _, h := range []string{"Content-Type", "Cache-Control", "ETag", "Location", "Allow", "WWW-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			out.Headers[h] = sc.String(v)
		}
	}
	var parsed any
	switch {
	case len(raw) > MaxResponseBytes:
		text := sc.String(string(raw))
		out.Body, out.Truncated = text[:min(len(text), MaxResponseBytes)], true
	case json.Unmarshal(raw, &parsed) == nil:
		out.Body = sc.Value(parsed)
	case len(raw) > 0:
		out.Body = sc.String(string(raw))
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

// AccessHidden summarizes the nodes of one level that the access map leaves
// out because the explored key may not list them: how many there are and,
// per permission, on how many of them the key is allowed or not. It names
// no node.
type AccessHidden struct {
	// Level is the level of the nodes left out.
	Level string `json:"level"`
	// Count is how many nodes of the level are left out.
	Count int `json:"count"`
	// ListPermission is the permission that lists nodes of the level
	// (the one the key lacks on them).
	ListPermission string `json:"list_permission"`
	// Permissions holds, for each permission that can be scoped to the
	// level, on how many of the hidden nodes the key is allowed or not.
	Permissions []AccessHiddenPermission `json:"permissions"`
}

// AccessHiddenPermission counts the hidden nodes of one level on which the key
// is allowed a permission, and those on which it is not.
type AccessHiddenPermission struct {
	Permission string `json:"permission"`
	Allowed    int    `json:"allowed"`
	Denied     int    `json:"denied"`
}

// maxMapNodes bounds the nodes the access map covers.
const maxMapNodes = 200

// accessMap decides every permission of the catalog on the organization and
// on each node of its hierarchy (down to the deepest level the permission
// can be scoped to), with the same Access.Allows that verification uses.
// A node is named only when the explored key may list it: when it reaches
// the node with the permission of the route that lists the node's level,
// as the directory's list routes decide (Access.Reaches). The other nodes
// are only counted, per level.
func (e *explorer) accessMap(ctx context.Context, org string, a authz.Access) ([]AccessCell, []AccessHidden, error) {
	nodes, names, err := e.hierarchy(ctx, org)
	if err != nil {
		return nil, nil, err
	}
	var shown []authz.Node
	listed := map[string]bool{}
	hidden := map[authz.Level][]authz.Node{}
	for _, n := range nodes {
		if perm := e.lists[n.Level()]; perm != "" && a.Reaches(e.d.Catalog, perm, n) {
			shown = append(shown, n)
			listed[n.ID()] = true
		} else {
			hidden[n.Level()] = append(hidden[n.Level()], n)
		}
	}
	var out []AccessCell
	for _, g := range e.d.Catalog.Groups() {
		for _, p := range g.Permissions {
			out = append(out, AccessCell{Permission: p.Name, Node: AccessNode{Level: "organization", ID: org, Path: ""}, Allowed: a.Allows(e.d.Catalog, p.Name, authz.Node{})})
			for _, n := range shown {
				if n.Level() > p.MaxLevel {
					continue
				}
				out = append(out, AccessCell{Permission: p.Name,
					Node:    AccessNode{Level: n.Level().String(), ID: n.ID(), Path: pathName(n, names, listed)},
					Allowed: a.Allows(e.d.Catalog, p.Name, n)})
			}
		}
	}
	summary := []AccessHidden{}
	for _, l := range authz.ScopeLevels() {
		ns := hidden[l]
		if len(ns) == 0 {
			continue
		}
		h := AccessHidden{Level: l.String(), Count: len(ns), ListPermission: e.lists[l], Permissions: []AccessHiddenPermission{}}
		for _, g := range e.d.Catalog.Groups() {
			for _, p := range g.Permissions {
				if l > p.MaxLevel {
					continue
				}
				hp := AccessHiddenPermission{Permission: p.Name}
				for _, n := range ns {
					if a.Allows(e.d.Catalog, p.Name, n) {
						hp.Allowed++
					} else {
						hp.Denied++
					}
				}
				h.Permissions = append(h.Permissions, hp)
			}
		}
		summary = append(summary, h)
	}
	return out, summary, nil
}

// listPermissions finds, in the route table, the permission of the route
// that lists each level's nodes: the GET route checked by reach whose
// pattern, followed by the level's path parameter, is a route too
// (GET /v1/teams lists what GET /v1/teams/{team} reads).
func listPermissions(routes authz.Routes) map[authz.Level]string {
	patterns := map[string]bool{}
	for _, r := range routes {
		patterns[r.Pattern] = true
	}
	out := map[authz.Level]string{}
	for _, r := range routes {
		if r.Method != http.MethodGet || r.Check != authz.CheckReach {
			continue
		}
		for _, l := range authz.ScopeLevels() {
			if patterns[r.Pattern+"/{"+l.String()+"}"] {
				out[l] = r.Permission
			}
		}
	}
	return out
}

// hierarchy lists the organization's nodes, root first, up to maxMapNodes,
// with their names by id.
func (e *explorer) hierarchy(ctx context.Context, org string) ([]authz.Node, map[string]string, error) {
	all, err := e.d.Directory.Hierarchy(ctx, org, maxMapNodes)
	if err != nil {
		return nil, nil, fmt.Errorf("explore: %w", err)
	}
	nodes := make([]authz.Node, 0, len(all))
	names := make(map[string]string, len(all))
	for _, n := range all {
		nodes = append(nodes, n.Path)
		names[n.ID] = n.Name
	}
	return nodes, names, nil
}

// pathName names a node as the rest of the API does: the team alone, or
// the names from the project down. An ancestor the key may not list is
// shown by its id, which the node's own listing carries anyway, never by
// its name.
func pathName(n authz.Node, names map[string]string, listed map[string]bool) string {
	l := n.Level()
	if l == authz.LevelTeam {
		return names[n.Team]
	}
	var parts []string
	for lv := authz.LevelProject; lv <= l; lv++ {
		id := n.At(lv)
		if listed[id] {
			parts = append(parts, names[id])
		} else {
			parts = append(parts, id)
		}
	}
	return strings.Join(parts, " / ")
}
