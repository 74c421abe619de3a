package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CountKeys counts the organization's keys with a Query of GSI1 (the
// organization's key listing) that returns counts only (Select COUNT), page
// by page, stopping once atMost is reached. Each page evaluates at most the
// keys still to count, so the read is bounded by atMost.
func (s *Store) CountKeys(ctx context.Context, org string, atMost int) (int, error) {
	if atMost <= 0 {
		return 0, nil
	}
	kc, err := expression.NewBuilder().WithKeyCondition(expression.Key(AttrGSI1PK).Equal(expression.Value(keysGSI1PK(org)))).Build()
	if err != nil {
		return 0, fmt.Errorf("dynamo: build key condition: %w", err)
	}
	n := 0
	var start map[string]types.AttributeValue
	for n < atMost {
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 s.table,
			IndexName:                 aws.String(IndexGSI1),
			KeyConditionExpression:    kc.KeyCondition(),
			ExpressionAttributeNames:  kc.Names(),
			ExpressionAttributeValues: kc.Values(),
			Select:                    types.SelectCount,
			ExclusiveStartKey:         start,
			Limit:                     aws.Int32(int32(atMost - n)),
		})
		if err != nil {
			return 0, s.fail("count keys of "+org, err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	return min(n, atMost), nil
}
