package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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

// open opens the chosen store. AWS settings (region, credentials,
// endpoint) come from the SDK's standard configuration: AWS_REGION,
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, profiles.
func (f *storeFlags) open(ctx context.Context, logger *slog.Logger) (store.Store, error) {
	switch strings.ToLower(f.engine) {
	case "bolt", "":
		path := filepath.Join(f.data, "apikeys.db")
		s, err := bolt.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		return s, nil
	case "dynamodb":
		if f.table == "" {
			return nil, errors.New("--store dynamodb needs --table NAME")
		}
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
		return dynamo.New(client, f.table), nil
	}
	return nil, fmt.Errorf("--store: unknown engine %q (bolt or dynamodb)", f.engine)
}
