package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
)

// KeyItem is the item CreateKey would write for k, without the gate (for
// tests that store broken items).
func KeyItem(k *keys.Key) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(newKeyRecord(k))
}

// NodeItem is the item CreateNode would write for n, without the gate.
func NodeItem(n *directory.Node) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(newNodeRecord(n))
}
