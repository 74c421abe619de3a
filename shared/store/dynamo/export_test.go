package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/webhook"
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

// WebhookItem is the item CreateWebhook would write for e, without the
// checks.
func WebhookItem(e *webhook.Endpoint) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(newWebhookRecord(e))
}

// DeliveryItem is the item CreateDelivery would write for d, without the
// checks.
func DeliveryItem(d *webhook.Delivery) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(newDeliveryRecord(d))
}
