package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/dotenv/apikeys/shared/audit"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/dotenv/apikeys/functions/edge/api"
	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	leakshandler "github.com/dotenv/apikeys/functions/leaks/handler"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/retention"
	"github.com/dotenv/apikeys/shared/safehttp"
	"github.com/dotenv/apikeys/shared/secretscan"
	"github.com/dotenv/apikeys/shared/store"
	keyusage "github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/webhook"
	"github.com/dotenv/apikeys/shared/wiring"
	"github.com/dotenv/apikeys/web"
)

// UsageFlushInterval is how often serve writes the usage it counted
// (verifications per key and day, last uses) to the store.
const UsageFlushInterval = 10 * time.Second

// serve runs the API and the dashboard until ctx ends, then shuts down
// gracefully. It binds its address before it touches the store, so a taken
// port leaves the store alone. On an embedded store that is not initialized
// yet (new, or whose first start was interrupted) it creates an
// organization and prints the owner token once: printed first, then stored
// with the initialization marker in one transaction, so whenever the
// process dies either the token it printed works or the next start prints
// a new one.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var addr, baseURL, githubKeys *string
	var webhooksLoopback bool
	webhooksInterval := time.Minute
	limits := ratelimit.DefaultConfig()
	maxKeys := keys.DefaultMaxKeysPerOrganization
	var trusted networkFlag
	sf, logger, err := parseFlags("serve", "edge serve [--addr 127.0.0.1:8080] [--data ./data] [--trusted-proxy CIDR]... [store flags]", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.Var(&trusted, "trusted-proxy", "network (CIDR or address) of a reverse proxy whose X-Forwarded-For gives the client address for keys' network allowlists; repeatable (default: none, the connection's address)")
		fs.IntVar(&maxKeys, "max-keys-per-organization", maxKeys, "keys an organization may hold, at least 1 (409 key_quota_exceeded beyond)")
		addr = fs.String("addr", "127.0.0.1:8080", "address to listen on")
		baseURL = fs.String("api-base-url", "", "this API's own base URL, which the explorer calls (default http://<addr>)")
		fs.Float64Var(&limits.Rate, "auth-failure-rate", limits.Rate, "failed authentications per second a client address regains (0: no limit)")
		fs.IntVar(&limits.Burst, "auth-failure-burst", limits.Burst, "failed authentications a client address may make in a row before 429 (0: no limit)")
		githubKeys = fs.String("github-keys", secretscan.GitHubKeysURL, "GitHub's secret-scanning public keys, which authenticate POST /v1/leaks/github: a URL (refreshed hourly) or a file")
		fs.BoolVar(&webhooksLoopback, "webhooks-allow-loopback", false, "development only: let webhook endpoints be http:// loopback addresses (never in production)")
		fs.DurationVar(&webhooksInterval, "webhooks-interval", webhooksInterval, "how often the expiry sweep and the webhook deliveries run (1s to 1h)")
	})
	if err != nil {
		return err
	}
	if maxKeys < 1 {
		return &usageError{cmd: "serve", err: fmt.Errorf("--max-keys-per-organization must be at least 1 (got %d)", maxKeys)}
	}
	if webhooksInterval < time.Second || webhooksInterval > time.Hour {
		return &usageError{cmd: "serve", err: fmt.Errorf("--webhooks-interval must be from 1s to 1h (got %s)", webhooksInterval)}
	}
	now, err := clockFromEnv(os.Getenv)
	if err != nil {
		return &usageError{cmd: "serve", err: err}
	}
	ln, err := net.Listen("tcp", *addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listening on %s: the address is in use, maybe by another `edge serve` or `make run`: stop it, or pass another --addr (make run ADDR=127.0.0.1:8081): %w", *addr, err)
	}
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	defer ln.Close()
	if *baseURL == "" {
		*baseURL = "http://" + ln.Addr().String()
	}
	st, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	// Audit events and webhook deliveries past retention: at start, then
	// hourly (DynamoDB expires them through its TTL instead).
	var prune []retention.Job
	if p, ok := st.(audit.Pruner); ok {
		prune = append(prune, retention.Job{Name: "audit events", Retention: sf.auditRetention(), Prune: p.PruneEvents})
	}
	if p, ok := st.(webhook.Pruner); ok {
		prune = append(prune, retention.Job{Name: "webhook deliveries", Retention: webhook.DeliveryRetention, Prune: p.PruneDeliveries})
	}
	go retention.Keep(ctx, prune, retention.Interval, time.Now, logger)
	// Usage is counted in memory and written every UsageFlushInterval; the
	// deferred Close drains it after the server has shut down and before
	// the store closes.
	rec := keyusage.NewRecorder(st, logger, UsageFlushInterval, nil)
	rec.Start()
	defer rec.Close()
	safe := safehttp.Options{AllowLoopback: webhooksLoopback}
	if webhooksLoopback {
		logger.Warn("webhooks: --webhooks-allow-loopback is on: endpoints may be http:// loopback addresses (development only)")
	}
	d := wiring.NewDeps(st, wiring.Options{Logger: logger, Usage: rec, AuthFailures: limits, MaxKeysPerOrganization: maxKeys, TrustedProxies: trusted, Webhooks: safe, Now: now})
	if marker, ok := st.(store.Initializer); ok {
		if err := firstStart(ctx, d.Keys, marker, stdout); err != nil {
			return err
		}
	}
	githubSource := secretscan.SourceFor(*githubKeys, &http.Client{Timeout: 5 * time.Second})
	leaks := leakshandler.Config{GitHubKeys: secretscan.NewKeySet(githubSource, time.Hour, d.Now, logger)}
	apiRouter, err := api.Router(d, explorehandler.Config{BaseURL: *baseURL, Client: &http.Client{Timeout: 10 * time.Second}}, api.WithLeaks(leaks))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", apiRouter)
	mux.Handle("/healthz", apiRouter)
	mux.Handle("/", web.Handler(web.Dist(), web.Config{}))

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	loopCtx, stopLoop := context.WithCancel(ctx)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		runWebhooks(loopCtx, webhook.NewDispatcher(st, webhook.DispatcherOptions{Safe: safe, Now: now, Logger: logger}), webhooksInterval, logger)
	}()
	defer func() { stopLoop(); <-loopDone }()
	logger.Info("serving", "addr", ln.Addr().String(), "dashboard", "http://"+ln.Addr().String()+"/dashboard/organizations/api-keys")
	fmt.Fprintf(stdout, "Listening on http://%s (dashboard: http://%s/dashboard/organizations/api-keys)\n", ln.Addr(), ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// firstStart initializes a store that is not initialized yet and prints the
// owner token, in one write, before the store commits it.
func firstStart(ctx context.Context, svc *keys.Service, marker store.Initializer, stdout io.Writer) error {
	done, err := marker.Initialized(ctx)
	if err != nil {
		return fmt.Errorf("reading the store's initialization marker: %w", err)
	}
	if done {
		return nil
	}
	_, _, err = svc.Initialize(ctx, marker, "My organization", func(o *directory.Organization, owner keys.Created) error {
		_, err := fmt.Fprintf(stdout, "New store: created organization %s.\nOwner API key (allow-all, never expires), shown only this once:\n\n    %s\n\nStore it in a secrets manager; sign in to the dashboard with it.\n\n", o.ID, owner.Token)
		return err
	})
	if err != nil {
		return fmt.Errorf("first start: the owner key was not stored, so any token printed above does not work; start again for a new one: %w", err)
	}
	return nil
}
