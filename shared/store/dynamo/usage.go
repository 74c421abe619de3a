package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/usage"
)

// Usage items and attributes (docs/dynamodb.md, "Items").
const (
	usageSKPrefix = "USAGE#"
	typeUsage     = "usage"
	attrAllowed   = "allowed"
	// attrDeniedPrefix + reason counts a denied reason.
	attrDeniedPrefix = "denied_"
	attrTTL          = "ttl"
	attrType         = "type"
)

// flushParallelism bounds the UpdateItems one AddUsage has in flight.
const flushParallelism = 8

func usageSK(date string) string { return usageSKPrefix + date }

// AddUsage adds each day's counts with one UpdateItem `ADD` on the usage
// item (KEY#id / USAGE#day; atomic, never read-modify-write), setting its
// ttl to the day's end + usage.Retention, and stores each last use with one
// UpdateItem on the key item, conditional on the key existing and its
// stored last use being absent or older (never backwards; version
// untouched). Up to flushParallelism writes are in flight; every write is
// tried and the failures are returned together.
func (s *Store) AddUsage(ctx context.Context, b usage.Batch) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, flushParallelism)
	)
	run := func(f func() error) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for _, d := range b.Days {
		run(func() error { return s.addDay(ctx, d) })
	}
	for _, l := range b.LastUses {
		run(func() error { return s.storeLastUse(ctx, l) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// addDay is one UpdateItem ADD on the key's usage item for d's day.
func (s *Store) addDay(ctx context.Context, d usage.DayDelta) error {
	end, err := usage.DayEnd(d.Date)
	if err != nil {
		return err
	}
	up := expression.Set(expression.Name(attrTTL), expression.Value(end.Add(usage.Retention).Unix())).
		Set(expression.Name(attrType), expression.Value(typeUsage))
	if d.Allowed != 0 {
		up = up.Add(expression.Name(attrAllowed), expression.Value(d.Allowed))
	}
	for i, r := range usage.Reasons {
		if d.Denied[i] != 0 {
			up = up.Add(expression.Name(attrDeniedPrefix+string(r)), expression.Value(d.Denied[i]))
		}
	}
	expr, err := expression.NewBuilder().WithUpdate(up).Build()
	if err != nil {
		return fmt.Errorf("dynamo: build usage update: %w", err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       primaryKey(keyPK(d.KeyID), usageSK(d.Date)),
		UpdateExpression:          expr.Update(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return s.fail("add usage of key "+d.KeyID+" on "+d.Date, err)
	}
	return nil
}

// storeLastUse is one conditional UpdateItem of the key item's last-use
// attributes (prev_ ones for the previous token). A lost condition (missing
// key, or a stored last use as recent) is not an error.
func (s *Store) storeLastUse(ctx context.Context, l usage.LastUseDelta) error {
	at := l.At.UTC().Truncate(time.Millisecond)
	if err := checkTime("key", l.KeyID, "last_used_at", at); err != nil {
		return err
	}
	prefix := ""
	if l.Previous {
		prefix = "prev_"
	}
	last := expression.Name(prefix + attrLastUsed)
	up := expression.Set(last, expression.Value(formatTime(at)))
	for _, f := range []struct{ name, value string }{{prefix + "last_used_ip", l.IP}, {prefix + "last_used_ua", l.UserAgent}} {
		if f.value == "" {
			up = up.Remove(expression.Name(f.name))
		} else {
			up = up.Set(expression.Name(f.name), expression.Value(f.value))
		}
	}
	cond := expression.AttributeExists(expression.Name(AttrPK)).
		And(expression.AttributeNotExists(last).Or(last.LessThan(expression.Value(formatTime(at)))))
	if l.Previous {
		// Only while the key's previous token is still the one verified.
		cond = cond.And(expression.Name(attrPrevDigest).Equal(expression.Value(l.PreviousDigest[:])))
	}
	expr, err := expression.NewBuilder().WithUpdate(up).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("dynamo: build last use: %w", err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       primaryKey(keyPK(l.KeyID), keySK),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if failed, _ := conditionFailed(err); failed {
		return nil
	}
	if err != nil {
		return s.fail("store last use of key "+l.KeyID, err)
	}
	return nil
}

// KeyUsage is one strongly consistent Query of the key's partition, from
// the key item (SK "KEY", which sorts before "USAGE#") to the day to: the
// key item tells whether the key exists, the usage items before from
// (kept until their ttl passes) are skipped.
func (s *Store) KeyUsage(ctx context.Context, id, from, to string) ([]usage.Day, error) {
	names := []expression.NameBuilder{expression.Name(AttrSK), expression.Name(attrAllowed)}
	for _, r := range usage.Reasons {
		names = append(names, expression.Name(attrDeniedPrefix+string(r)))
	}
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(AttrPK).Equal(expression.Value(keyPK(id))).
			And(expression.Key(AttrSK).Between(expression.Value(keySK), expression.Value(usageSK(to))))).
		WithProjection(expression.NamesList(names[0], names[1:]...)).
		Build()
	if err != nil {
		return nil, fmt.Errorf("dynamo: build usage query: %w", err)
	}
	var (
		days  []usage.Day
		found bool
		start map[string]types.AttributeValue
	)
	for {
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 s.table,
			KeyConditionExpression:    expr.KeyCondition(),
			ProjectionExpression:      expr.Projection(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, s.fail("key usage "+id, err)
		}
		for _, item := range out.Items {
			sk := stringAttr(item, AttrSK)
			if sk == keySK {
				found = true
				continue
			}
			date, ok := strings.CutPrefix(sk, usageSKPrefix)
			if !ok || date < from {
				continue
			}
			day := usage.Day{Date: date, Counts: usage.Counts{Allowed: numberAttr(item, attrAllowed)}}
			for i, r := range usage.Reasons {
				day.Denied[i] = numberAttr(item, attrDeniedPrefix+string(r))
			}
			days = append(days, day)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	if !found {
		return nil, errKeyNotFound(id)
	}
	return days, nil
}
