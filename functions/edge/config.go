package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/dotenv/apikeys/shared/audit"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/store/dynamo"
)

// lockTimeout is how long opening the embedded store waits for another
// process to let go of the file: long enough for a restart, short enough
// that a second `make run` says at once what is wrong.
const lockTimeout = time.Second

// storeFlags select and open the store.
type storeFlags struct {
	data        string
	engine      string
	table       string
	createTable bool
	logLevel    string
	// keyCacheMiB bounds the embedded store's decoded keys in memory.
	keyCacheMiB int
	// auditRetentionDays is how long audit events are kept.
	auditRetentionDays int
}

// maxAuditRetentionDays bounds --audit-retention-days (100 years).
const maxAuditRetentionDays = 36500

// auditRetention is --audit-retention-days as a duration.
func (f *storeFlags) auditRetention() time.Duration {
	return time.Duration(f.auditRetentionDays) * 24 * time.Hour
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data directory of the embedded store")
	fs.StringVar(&f.engine, "store", "bolt", "store engine: bolt or dynamodb")
	fs.StringVar(&f.table, "table", "", "DynamoDB table name (with --store dynamodb)")
	fs.BoolVar(&f.createTable, "create-table", false, "create the DynamoDB table and enable TTL when missing")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.IntVar(&f.keyCacheMiB, "key-cache-mib", bolt.DefaultKeyCacheBytes>>20, "MiB of decoded keys the embedded store keeps in memory (0: none)")
	fs.IntVar(&f.auditRetentionDays, "audit-retention-days", int(audit.DefaultRetention/(24*time.Hour)), "days audit events are kept, 1 to 36500 (the embedded store prunes older ones hourly; DynamoDB expires them by TTL)")
}

func (f *storeFlags) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// maxKeyCacheMiB bounds --key-cache-mib (1 TiB): a larger value is a typo,
// and its byte count would overflow.
const maxKeyCacheMiB = 1 << 20

// check refuses store flags that cannot work.
func (f *storeFlags) check() error {
	if f.keyCacheMiB < 0 || f.keyCacheMiB > maxKeyCacheMiB {
		return fmt.Errorf("--key-cache-mib must be from 0 to %d (got %d)", maxKeyCacheMiB, f.keyCacheMiB)
	}
	if f.auditRetentionDays < 1 || f.auditRetentionDays > maxAuditRetentionDays {
		return fmt.Errorf("--audit-retention-days must be from 1 to %d (got %d)", maxAuditRetentionDays, f.auditRetentionDays)
	}
	switch strings.ToLower(f.engine) {
	case "bolt", "":
		if strings.TrimSpace(f.data) == "" {
			return errors.New("--data must name a folder for the embedded store (it would otherwise write into the current folder)")
		}
	case "dynamodb":
		if f.table == "" {
			return errors.New("--store dynamodb needs --table NAME")
		}
	default:
		return fmt.Errorf("--store: unknown engine %q (bolt or dynamodb)", f.engine)
	}
	return nil
}

// parseFlags parses a command's arguments: the store flags, and the
// command's own ones that extra registers. synopsis is the command's usage
// line. --help prints the command's usage on stdout and answers errHelp;
// a wrong command line (unknown flag, bad value, extra argument) answers a
// usageError, which run prints once. It returns the flags and the logger
// they ask for.
func parseFlags(name, synopsis string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (*storeFlags, *slog.Logger, error) {
	fs := newFlagSet(name)
	sf := &storeFlags{}
	sf.register(fs)
	extra(fs)
	if err := parse(fs, synopsis, args, stdout); err != nil {
		return nil, nil, err
	}
	if err := sf.check(); err != nil {
		return nil, nil, &usageError{cmd: name, err: err}
	}
	logger, err := sf.logger(stderr)
	if err != nil {
		return nil, nil, &usageError{cmd: name, err: err}
	}
	return sf, logger, nil
}

// newFlagSet returns a flag set that prints nothing by itself: errors are
// printed once, by run.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args into fs, refusing positional arguments; --help prints
// synopsis and the flags on stdout.
func parse(fs *flag.FlagSet, synopsis string, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "usage: %s\n\nflags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return errHelp
	case err != nil:
		return &usageError{cmd: fs.Name(), err: err}
	case fs.NArg() > 0:
		return &usageError{cmd: fs.Name(), err: fmt.Errorf("unexpected argument %q (every option is a --flag)", fs.Arg(0))}
	}
	return nil
}

// open opens the chosen store. AWS settings (region, credentials,
// endpoint) come from the SDK's standard configuration: AWS_REGION,
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, profiles.
func (f *storeFlags) open(ctx context.Context, logger *slog.Logger) (store.Store, error) {
	if strings.ToLower(f.engine) == "dynamodb" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading AWS configuration: %w", err)
		}
		client := dynamodb.NewFromConfig(cfg)
		if f.createTable {
			if err := dynamo.EnsureTable(ctx, client, f.table, logger); err != nil {
				return nil, fmt.Errorf("creating table %s: %w", f.table, err)
			}
		}
		return dynamo.New(client, f.table, dynamo.WithLogger(logger), dynamo.WithAuditRetention(f.auditRetention())), nil
	}
	path := filepath.Join(f.data, "apikeys.db")
	s, err := bolt.Open(path, bolt.WithLockTimeout(lockTimeout), bolt.WithKeyCacheBytes(int64(f.keyCacheMiB)<<20), bolt.WithLogger(logger), bolt.WithAuditRetention(f.auditRetention()))
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("the data folder %s is in use by another edge process (a running `edge serve` or `make run`): stop it first, or pass another --data folder (%w)", f.data, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return s, nil
}

// networkFlag is a repeatable flag of networks (--trusted-proxy), each a
// CIDR or a single address, read by authz.ParseNetwork.
type networkFlag []netip.Prefix

func (f *networkFlag) String() string {
	if f == nil {
		return ""
	}
	return authz.FormatNetworks(*f)
}

// Set adds one network; a value that is not one is a command-line error.
func (f *networkFlag) Set(s string) error {
	p, err := authz.ParseNetwork(s)
	if err != nil {
		return err
	}
	*f = append(*f, p)
	return nil
}
