package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/wiring"
)

// bootstrap creates a new organization with an allow-all owner key and
// prints one JSON object with its token on stdout, nothing else there. On
// an embedded store that is not initialized yet, the organization is the
// store's first one: it is written with the initialization marker, so a
// later `serve` does not create another.
func bootstrap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var org *string
	sf, logger, err := parseFlags("bootstrap", "edge bootstrap [--organization NAME] [--data ./data] [store flags]", args, stdout, stderr, func(fs *flag.FlagSet) {
		org = fs.String("organization", "My organization", "name of the new organization")
	})
	if err != nil {
		return err
	}
	st, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	d := wiring.NewDeps(st, wiring.Options{Logger: logger})
	if marker, ok := st.(store.Initializer); ok {
		done, err := marker.Initialized(ctx)
		if err != nil {
			return fmt.Errorf("reading the store's initialization marker: %w", err)
		}
		if !done {
			o, owner, err := d.Keys.Initialize(ctx, marker, *org, func(o *directory.Organization, owner keys.Created) error {
				return printKey(stdout, o.ID, owner)
			})
			if err != nil {
				return fmt.Errorf("the key printed above (if any) was not stored: %w", err)
			}
			logger.Info("store initialized", "organization_id", o.ID, "key_id", owner.Key.ID)
			return nil
		}
	}
	o, owner, err := d.Keys.Bootstrap(ctx, *org)
	if err != nil {
		return err
	}
	logger.Info("organization bootstrapped", "organization_id", o.ID, "key_id", owner.Key.ID)
	return printKey(stdout, o.ID, owner)
}

// printKey prints a new key as the one JSON object on stdout.
func printKey(stdout io.Writer, org string, c keys.Created) error {
	return json.NewEncoder(stdout).Encode(map[string]string{
		"organization_id": org, "key_id": c.Key.ID, "token": c.Token,
	})
}
