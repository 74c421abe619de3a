// Package wiring builds every runtime's handlers the same way: the shared
// dependencies from one store, and a router over the routes of some
// functions with the handlers their packages export. It links no handler
// package: each Lambda hands in its own operation's handlers, and the single
// binary (functions/edge/api) all of them.
package wiring

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/gate"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/safehttp"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/shared/webhook"
)

// Options tune Deps.
type Options struct {
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Usage counts verifications per key and records last uses
	// (usage.Recorder; nil records none).
	Usage verify.UsageRecorder
	// Tokens generates tokens and ids (crypto/rand when nil).
	Tokens *token.Generator
	// MaxKeysPerOrganization is the key quota of an organization (0:
	// keys.DefaultMaxKeysPerOrganization).
	MaxKeysPerOrganization int
	// AuthFailures is the budget of failed authentications per client
	// address (on the clock Now). The zero value limits nothing, as the
	// Lambda functions need (API Gateway and the WAF limit them); the
	// single binary passes ratelimit.DefaultConfig or its flags.
	AuthFailures ratelimit.Config
	// TrustedProxies are the networks of the reverse proxies whose
	// X-Forwarded-For the guard believes for keys' network allowlists
	// (gate.ClientAddr); none by default. The Lambda functions need none:
	// API Gateway's sourceIp is the client's.
	TrustedProxies []netip.Prefix
	// Webhooks says which destinations webhook endpoints may have
	// (safehttp: https on public addresses; AllowLoopback is the
	// development switch, never set in production).
	Webhooks safehttp.Options
}

// NewDeps builds the handlers' dependencies on one store.
func NewDeps(st store.Store, opt Options) Deps {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Tokens == nil {
		opt.Tokens = token.NewGenerator()
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	catalog := authz.NewCatalog()
	verifier := verify.New(st, st, catalog, opt.Now, opt.Usage)
	routes := authz.NewRoutes()
	// The limiter lives as long as these Deps: one per process.
	limiter := ratelimit.New(opt.AuthFailures, opt.Now)
	webhooks := webhook.NewService(st, opt.Webhooks.CheckURL, opt.Tokens, rand.Reader, opt.Now)
	return Deps{
		// Every stored key change is announced to the webhooks subscribed to it.
		Keys: keys.NewService(st, st, catalog, opt.Tokens, opt.Now, keys.Limits{MaxKeysPerOrganization: opt.MaxKeysPerOrganization},
			keys.WithPublisher(webhook.NewPublisher(webhook.NewDispatcher(st, webhook.DispatcherOptions{Now: opt.Now}), opt.Logger))),
		Directory:    directory.NewService(st, catalog, opt.Tokens, keys.ValidateName, opt.Now),
		Audit:        st,
		Webhooks:     webhooks,
		Verifier:     verifier,
		Catalog:      catalog,
		Routes:       routes,
		Logger:       opt.Logger,
		Now:          opt.Now,
		Ping:         st.Ping,
		Gate:         gate.New(verifier, routes, limiter).WithTrustedProxies(opt.TrustedProxies),
		AuthFailures: limiter,
		Usage:        st,
	}
}

// Router mounts the routes of the given functions with their handlers
// (each function's handler package exports them keyed by operation). Every
// route of fs needs a handler and every handler a route of fs.
func Router(d Deps, handlers authz.Handlers, fs ...authz.Function) (*httpapi.Router, error) {
	var routes authz.Routes
	for _, f := range fs {
		routes = append(routes, d.Routes.ForFunction(f)...)
	}
	r, err := httpapi.NewRouter(routes, handlers, d.Gate.Guard(d.Logger), d.Logger)
	if err != nil {
		return nil, fmt.Errorf("wiring: %w", err)
	}
	return r, nil
}
