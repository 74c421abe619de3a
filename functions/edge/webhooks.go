package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dotenv/apikeys/shared/webhook"
)

// EnvTestClockOffset shifts the single binary's clock by a Go duration
// ("96h"): a hidden switch for end-to-end tests of time-driven behaviour
// (expiry notices) without waiting days. It is read by `edge serve` only,
// is not a flag, and must never be set in production.
const EnvTestClockOffset = "APIKEYS_TEST_CLOCK_OFFSET"

// clockFromEnv returns the process clock: time.Now, shifted by
// EnvTestClockOffset when set.
func clockFromEnv(getenv func(string) string) (func() time.Time, error) {
	v := getenv(EnvTestClockOffset)
	if v == "" {
		return time.Now, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q is not a Go duration: %w", EnvTestClockOffset, v, err)
	}
	return func() time.Time { return time.Now().Add(d) }, nil
}

// runWebhooks is the single binary's webhook loop: every interval it runs
// the expiry sweep and sends the due deliveries, until ctx ends. Its state
// is all in the store (notices have derived ids, attempts are claimed and
// recorded there), so a restart neither loses nor double-sends a notice;
// an attempt cut by a crash is sent again under the same webhook-id.
func runWebhooks(ctx context.Context, d *webhook.Dispatcher, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		webhookPass(ctx, d, logger)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// webhookPass is one sweep and one drain of the due deliveries.
func webhookPass(ctx context.Context, d *webhook.Dispatcher, logger *slog.Logger) {
	if n, err := d.Sweep(ctx); err != nil {
		logger.Error("webhooks: expiry sweep failed", "error", err)
	} else if n > 0 {
		logger.Info("webhooks: expiry notices queued", "count", n)
	}
	if _, err := d.RunDue(ctx); err != nil {
		logger.Error("webhooks: delivery pass failed", "error", err)
	}
}
