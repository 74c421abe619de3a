// Package schema is the DynamoDB table's definition as plain data: the
// attribute names of its key schema, its indexes and its TTL. It imports
// nothing of the domain, so the CDK stack (infra/) builds the table from it
// without linking the store (docs/dynamodb.md describes the items).
package schema

// Attribute names of the table's key schema, its indexes and its TTL. They
// are the single definition that the store, its tests, `edge --create-table`
// and the CDK stack share (docs/dynamodb.md describes the items).
const (
	// AttrPK is the table's partition key (string).
	AttrPK = "PK"
	// AttrSK is the table's sort key (string).
	AttrSK = "SK"
	// AttrGSI1PK and AttrGSI1SK key GSI1: an organization's keys by
	// creation (newest first) and its nodes of one level (oldest first).
	AttrGSI1PK = "GSI1PK"
	AttrGSI1SK = "GSI1SK"
	// AttrGSI2PK and AttrGSI2SK key GSI2: the children of one node (or
	// the teams of the organization) by creation.
	AttrGSI2PK = "GSI2PK"
	AttrGSI2SK = "GSI2SK"
	// AttrTTL holds an expiring key's expiry in epoch seconds; the table's
	// TTL is enabled on it.
	AttrTTL = "ttl"
)

// Index names.
const (
	// IndexGSI1 is the by-organization listing index (keys, nodes by level).
	IndexGSI1 = "GSI1"
	// IndexGSI2 is the by-parent listing index (children of a node).
	IndexGSI2 = "GSI2"
)

// GSISpec describes one global secondary index: string partition and sort
// keys, all attributes projected.
type GSISpec struct {
	Name         string
	PartitionKey string
	SortKey      string
}

// TableSpec is the table's definition as plain data, for the store and for
// the CDK stack: string partition and sort keys, the global secondary
// indexes (projection ALL), the TTL attribute, on-demand billing.
type TableSpec struct {
	PartitionKey string
	SortKey      string
	GSIs         []GSISpec
	TTLAttribute string
}

// Spec returns the table's definition.
func Spec() TableSpec {
	return TableSpec{
		PartitionKey: AttrPK,
		SortKey:      AttrSK,
		GSIs: []GSISpec{
			{Name: IndexGSI1, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK},
			{Name: IndexGSI2, PartitionKey: AttrGSI2PK, SortKey: AttrGSI2SK},
		},
		TTLAttribute: AttrTTL,
	}
}
