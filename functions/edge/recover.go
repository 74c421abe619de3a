package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/wiring"
)

// recoverKey mints a new allow-all, never-expiring "Recovery key" for an
// existing organization and prints one JSON object with its token on
// stdout, as bootstrap does. It needs access to the store, never an API
// token: it is the way back in when every key of the organization is lost,
// deleted or locked out.
func recoverKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var org *string
	sf, logger, err := parseFlags("recover", "edge recover --organization org_… [--data ./data] [store flags]", args, stdout, stderr, func(fs *flag.FlagSet) {
		org = fs.String("organization", "", "id of the organization (org_…) that needs a new key")
	})
	if err != nil {
		return err
	}
	if *org == "" {
		return usageErrorf("recover", "--organization org_… is required (the id is in the dashboard's header and in GET /v1/organization)")
	}
	st, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	d := wiring.NewDeps(st, wiring.Options{Logger: logger})
	c, err := d.Keys.Recover(ctx, *org)
	var f *fault.Error
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return fmt.Errorf("no organization %s in this store: check the id and the store flags (--data, or --store dynamodb --table)", *org)
	case errors.As(err, &f) && len(f.Fields) > 0:
		return usageErrorf("recover", "--organization: %s", f.Fields[0].Message)
	case err != nil:
		return err
	}
	logger.Info("recovery key created", "organization_id", *org, "key_id", c.Key.ID)
	return printKey(stdout, *org, c)
}
