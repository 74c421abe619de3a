package dynamo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dotenv/apikeys/shared/store/dynamo/schema"
)

// The table's definition lives in shared/store/dynamo/schema (no domain
// imports, so the CDK stack links it without the store); these names keep
// the store's own.
const (
	// AttrPK is the table's partition key (string).
	AttrPK = schema.AttrPK
	// AttrSK is the table's sort key (string).
	AttrSK = schema.AttrSK
	// AttrGSI1PK and AttrGSI1SK key GSI1 (schema.AttrGSI1PK).
	AttrGSI1PK = schema.AttrGSI1PK
	AttrGSI1SK = schema.AttrGSI1SK
	// AttrGSI2PK and AttrGSI2SK key GSI2 (schema.AttrGSI2PK).
	AttrGSI2PK = schema.AttrGSI2PK
	AttrGSI2SK = schema.AttrGSI2SK
	// AttrTTL holds an expiring key's expiry in epoch seconds.
	AttrTTL = schema.AttrTTL
	// IndexGSI1 is the by-organization listing index.
	IndexGSI1 = schema.IndexGSI1
	// IndexGSI2 is the by-parent listing index.
	IndexGSI2 = schema.IndexGSI2
)

// GSISpec describes one global secondary index (schema.GSISpec).
type GSISpec = schema.GSISpec

// TableSpec is the table's definition as plain data (schema.TableSpec).
type TableSpec = schema.TableSpec

// Spec returns the table's definition (schema.Spec).
func Spec() TableSpec { return schema.Spec() }

// CreateTableInput returns the CreateTable request for a table called name:
// on-demand billing, the key schema and the GSIs of Spec. TTL cannot be set
// by CreateTable; EnsureTable enables it afterwards.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	spec := Spec()
	attrs := []string{spec.PartitionKey, spec.SortKey}
	var gsis []types.GlobalSecondaryIndex
	for _, g := range spec.GSIs {
		attrs = append(attrs, g.PartitionKey, g.SortKey)
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(g.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(g.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(g.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	defs := make([]types.AttributeDefinition, 0, len(attrs))
	for _, a := range attrs {
		defs = append(defs, types.AttributeDefinition{AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS})
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: defs,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(spec.PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(spec.SortKey), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: gsis,
	}
}

// EnsureTable creates the table called name when it is missing, waits until
// it is ACTIVE, checks that an existing table has the key schema and indexes
// of Spec, and enables TTL on Spec().TTLAttribute. A server without the TTL
// operations (dynalite) is tolerated: EnsureTable logs that TTL is
// unsupported there and returns nil. It is for local use and tests; on AWS
// the CDK stack owns the table.
func EnsureTable(ctx context.Context, client *dynamodb.Client, name string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		_, err = client.CreateTable(ctx, CreateTableInput(name))
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("dynamo: create table %s: %w", name, err)
		}
		logger.Info("dynamodb table created", "table", name)
	case err != nil:
		return fmt.Errorf("dynamo: describe table %s: %w", name, err)
	default:
		if err := checkSchema(desc.Table); err != nil {
			return fmt.Errorf("dynamo: table %s: %w", name, err)
		}
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 5*time.Minute); err != nil {
		return fmt.Errorf("dynamo: wait for table %s to be active: %w", name, err)
	}
	return ensureTTL(ctx, client, name, logger)
}

// ensureTTL enables TTL on the TTL attribute unless it already is.
func ensureTTL(ctx context.Context, client *dynamodb.Client, name string, logger *slog.Logger) error {
	attr := Spec().TTLAttribute
	got, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if unsupported(err) {
		logger.Warn("dynamodb server does not support TTL (DescribeTimeToLive); expired keys stay until deleted, reads still check expires_at", "table", name, "error", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamo: describe TTL of %s: %w", name, err)
	}
	if d := got.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attr &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attr),
			Enabled:       aws.Bool(true),
		},
	})
	if unsupported(err) {
		logger.Warn("dynamodb server does not support UpdateTimeToLive; expired keys stay until deleted, reads still check expires_at", "table", name, "error", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamo: enable TTL on %s.%s: %w", name, attr, err)
	}
	logger.Info("dynamodb TTL enabled", "table", name, "attribute", attr)
	return nil
}

// unsupported reports whether err says the server does not know the
// operation (dynalite answers UnknownOperationException).
func unsupported(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "UnknownOperationException"
}

// checkSchema compares an existing table with Spec.
func checkSchema(t *types.TableDescription) error {
	if t == nil {
		return errors.New("no table description")
	}
	spec := Spec()
	if !sameKeys(t.KeySchema, spec.PartitionKey, spec.SortKey) {
		return fmt.Errorf("key schema differs from %s/%s", spec.PartitionKey, spec.SortKey)
	}
	for _, g := range spec.GSIs {
		i := slices.IndexFunc(t.GlobalSecondaryIndexes, func(d types.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(d.IndexName) == g.Name
		})
		if i < 0 {
			return fmt.Errorf("index %s is missing", g.Name)
		}
		if !sameKeys(t.GlobalSecondaryIndexes[i].KeySchema, g.PartitionKey, g.SortKey) {
			return fmt.Errorf("index %s is not keyed on %s/%s", g.Name, g.PartitionKey, g.SortKey)
		}
	}
	return nil
}

func sameKeys(ks []types.KeySchemaElement, pk, sk string) bool {
	var gotPK, gotSK string
	for _, k := range ks {
		switch k.KeyType {
		case types.KeyTypeHash:
			gotPK = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			gotSK = aws.ToString(k.AttributeName)
		}
	}
	return gotPK == pk && gotSK == sk
}
