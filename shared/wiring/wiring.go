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

// Service adds one service to Deps, built on st with opt. Each handler
// package names the services its operation uses (its Services function):
// a Lambda function hands them to lambdamain, which constructs only those,
// so a function links no service its operation does not call. The base
// every route needs (catalog, routes, verifier, gate, clock, logger) is
// always built.
type Service func(d *Deps, st store.Store, opt Options)

// Keys builds Deps.Keys: the key service, each stored key change announced
// to the webhooks subscribed to it (a pending notice written with the
// change).
func Keys(d *Deps, st store.Store, opt Options) {
	d.Keys = keys.NewService(st, st, d.Catalog, opt.Tokens, opt.Now, keys.Limits{MaxKeysPerOrganization: opt.MaxKeysPerOrganization},
		keys.WithPublisher(webhook.NewPublisher(webhook.NewDispatcher(st, webhook.DispatcherOptions{Now: opt.Now}), opt.Logger)))
}

// Directory builds Deps.Directory: the organization's teams and projects.
func Directory(d *Deps, st store.Store, opt Options) {
	d.Directory = directory.NewService(st, d.Catalog, opt.Tokens, keys.ValidateName, opt.Now)
}

// Audit builds Deps.Audit: the audit trail's reader.
func Audit(d *Deps, st store.Store, _ Options) { d.Audit = st }

// Webhooks builds Deps.Webhooks: the webhook endpoints, whose URLs
// opt.Webhooks checks.
func Webhooks(d *Deps, st store.Store, opt Options) {
	d.Webhooks = webhook.NewService(st, opt.Webhooks.CheckURL, opt.Tokens, rand.Reader, opt.Now)
}

// Usage builds Deps.Usage: the usage counted per key, read.
func Usage(d *Deps, st store.Store, _ Options) { d.Usage = st }

// All is every service: what the single binary and the tests build.
func All() []Service { return []Service{Keys, Directory, Audit, Webhooks, Usage} }

// NewDeps builds the handlers' dependencies on one store, every service
// included (New with All).
func NewDeps(st store.Store, opt Options) Deps { return New(st, opt, All()...) }

// New builds the base every route needs and the services given, on one
// store; the other services stay nil.
func New(st store.Store, opt Options, services ...Service) Deps {
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
	d := Deps{
		Verifier:     verifier,
		Catalog:      catalog,
		Routes:       routes,
		Logger:       opt.Logger,
		Now:          opt.Now,
		Ping:         st.Ping,
		Gate:         gate.New(verifier, routes, limiter).WithTrustedProxies(opt.TrustedProxies),
		AuthFailures: limiter,
	}
	for _, add := range services {
		add(&d, st, opt)
	}
	return d
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
