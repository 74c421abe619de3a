package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	explorehandler "github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/functions/wiring"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/verify"
	"github.com/dotenv/apikeys/web"
)

// serve runs the API and the dashboard until ctx ends, then shuts down
// gracefully. On a new embedded store it bootstraps an organization and
// prints the owner token once.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var addr, baseURL *string
	limits := ratelimit.DefaultConfig()
	sf, logger, err := parseFlags("serve", args, stderr, func(fs *flag.FlagSet) {
		addr = fs.String("addr", "127.0.0.1:8080", "address to listen on")
		baseURL = fs.String("api-base-url", "", "this API's own base URL, which the explorer calls (default http://<addr>)")
		fs.Float64Var(&limits.Rate, "auth-failure-rate", limits.Rate, "failed authentications per second a client address regains (0: no limit)")
		fs.IntVar(&limits.Burst, "auth-failure-burst", limits.Burst, "failed authentications a client address may make in a row before 429 (0: no limit)")
	})
	if err != nil {
		return err
	}
	st, fresh, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	if *baseURL == "" {
		*baseURL = "http://" + ln.Addr().String()
	}

	usage := verify.NewAsyncUsage(st, logger)
	defer usage.Close()
	d := wiring.NewDeps(st, wiring.Options{Logger: logger, Usage: usage, AuthFailures: limits})
	if fresh {
		o, owner, err := d.Keys.Bootstrap(ctx, "My organization")
		if err != nil {
			return fmt.Errorf("bootstrapping the new store: %w", err)
		}
		fmt.Fprintf(stdout, "New store: created organization %s.\nOwner API key (allow-all, never expires), shown only this once:\n\n    %s\n\nStore it in a secrets manager; sign in to the dashboard with it.\n\n", o.ID, owner.Token)
	}
	api, err := wiring.Router(d, explorehandler.Config{BaseURL: *baseURL, Client: &http.Client{Timeout: 10 * time.Second}}, authz.Functions()...)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/healthz", api)
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
