// Package api composes the single binary's API: every operation's handlers
// on the whole route table. It is the only package that links every handler
// package; each Lambda function links its own (functions/<op>/main.go).
package api

import (
	"fmt"

	audithandler "github.com/dotenv/apikeys/functions/audit/handler"
	createhandler "github.com/dotenv/apikeys/functions/create/handler"
	deletehandler "github.com/dotenv/apikeys/functions/delete/handler"
	directoryhandler "github.com/dotenv/apikeys/functions/directory/handler"
	edithandler "github.com/dotenv/apikeys/functions/edit/handler"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	leakshandler "github.com/dotenv/apikeys/functions/leaks/handler"
	rotatehandler "github.com/dotenv/apikeys/functions/rotate/handler"
	showhandler "github.com/dotenv/apikeys/functions/show/handler"
	verifyhandler "github.com/dotenv/apikeys/functions/verify/handler"
	webhookshandler "github.com/dotenv/apikeys/functions/webhooks/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wiring"
)

// Option configures the functions that need more than Deps.
type Option func(*options)

type options struct{ leaks leakshandler.Config }

// WithLeaks configures the leak report routes (without it GitHub's reports
// are refused as unauthenticated: no key set).
func WithLeaks(c leakshandler.Config) Option { return func(o *options) { o.leaks = c } }

// Handlers returns every operation's handler, keyed by operation; explore
// configures the explorer.
func Handlers(d wiring.Deps, explore explorehandler.Config, opts ...Option) (authz.Handlers, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	all := authz.Handlers{}
	for _, hs := range []authz.Handlers{
		createhandler.Handlers(d),
		showhandler.Handlers(d),
		edithandler.Handlers(d),
		rotatehandler.Handlers(d),
		deletehandler.Handlers(d),
		verifyhandler.Handlers(d),
		explorehandler.Handlers(d, explore),
		audithandler.Handlers(d),
		directoryhandler.Handlers(d),
		leakshandler.Handlers(d, o.leaks),
		webhookshandler.Handlers(d),
	} {
		for op, h := range hs {
			if _, dup := all[op]; dup {
				return nil, fmt.Errorf("api: two handlers for operation %s", op)
			}
			all[op] = h
		}
	}
	return all, nil
}

// Router mounts every route of the route table with its handler.
func Router(d wiring.Deps, explore explorehandler.Config, opts ...Option) (*httpapi.Router, error) {
	hs, err := Handlers(d, explore, opts...)
	if err != nil {
		return nil, err
	}
	r, err := wiring.Router(d, hs, authz.Functions()...)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return r, nil
}
