package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dotenv/apikeys/shared/store"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/store/dynamo"
)

// storeFlags select and open the store.
type storeFlags struct {
	data        string
	engine      string
	table       string
	createTable bool
	logLevel    string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data directory of the embedded store")
	fs.StringVar(&f.engine, "store", "bolt", "store engine: bolt or dynamodb")
	fs.StringVar(&f.table, "table", "", "DynamoDB table name (with --store dynamodb)")
	fs.BoolVar(&f.createTable, "create-table", false, "create the DynamoDB table and enable TTL when missing")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

func (f *storeFlags) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// parseFlags parses a command's arguments: the store flags, and the
// command's own ones that extra registers. It returns the flags and the
// logger they ask for.
func parseFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*storeFlags, *slog.Logger, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := &storeFlags{}
	sf.register(fs)
	extra(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	logger, err := sf.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	return sf, logger, nil
}

// open opens the chosen store and reports whether it is new: an embedded
// store whose file did not exist yet. AWS settings (region, credentials,
// endpoint) come from the SDK's standard configuration: AWS_REGION,
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, profiles.
func (f *storeFlags) open(ctx context.Context, logger *slog.Logger) (st store.Store, created bool, err error) {
	switch strings.ToLower(f.engine) {
	case "bolt", "":
		path := filepath.Join(f.data, "apikeys.db")
		_, statErr := os.Stat(path)
		s, err := bolt.Open(path)
		if err != nil {
			return nil, false, fmt.Errorf("opening %s: %w", path, err)
		}
		return s, errors.Is(statErr, os.ErrNotExist), nil
	case "dynamodb":
		if f.table == "" {
			return nil, false, errors.New("--store dynamodb needs --table NAME")
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("loading AWS configuration: %w", err)
		}
		client := dynamodb.NewFromConfig(cfg)
		if f.createTable {
			if err := dynamo.EnsureTable(ctx, client, f.table, logger); err != nil {
				return nil, false, fmt.Errorf("creating table %s: %w", f.table, err)
			}
		}
		return dynamo.New(client, f.table), false, nil
	}
	return nil, false, fmt.Errorf("--store: unknown engine %q (bolt or dynamodb)", f.engine)
}
