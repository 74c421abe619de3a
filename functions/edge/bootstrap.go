package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/dotenv/apikeys/functions/wiring"
)

// bootstrap creates a new organization with an allow-all owner key and
// prints one JSON object with its token on stdout, nothing else there.
func bootstrap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var org *string
	sf, logger, err := parseFlags("bootstrap", args, stderr, func(fs *flag.FlagSet) {
		org = fs.String("organization", "My organization", "name of the new organization")
	})
	if err != nil {
		return err
	}
	st, _, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	d := wiring.NewDeps(st, wiring.Options{Logger: logger})
	o, owner, err := d.Keys.Bootstrap(ctx, *org)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	logger.Info("organization bootstrapped", "organization_id", o.ID, "key_id", owner.Key.ID)
	return json.NewEncoder(stdout).Encode(map[string]string{
		"organization_id": o.ID, "key_id": owner.Key.ID, "token": owner.Token,
	})
}
