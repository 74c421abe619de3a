package dynamo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/usage"
	"github.com/dotenv/apikeys/shared/verify"
)

// seed writes items with raw PutItems, exactly as the store encodes them
// but without its transactions, so that the read path can be measured on a
// server that has no TransactWriteItems (dynalite) as well as on moto.
func seed(t *testing.T, b *dynamotest.Backend, items ...map[string]types.AttributeValue) {
	t.Helper()
	for _, item := range items {
		if _, err := b.Client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(b.Table), Item: item}); err != nil {
			t.Fatalf("seed PutItem: %v", err)
		}
	}
}

// seededKey stores a key for org (with a previous token in its grace
// period) and returns it with its current and previous tokens.
func seededKey(t *testing.T, b *dynamotest.Backend, org string, at time.Time) (k *keys.Key, current, previous string) {
	t.Helper()
	gen := token.NewGenerator()
	prev, err := gen.New()
	if err != nil {
		t.Fatal(err)
	}
	next, err := gen.WithSelector(prev.Parsed.Selector)
	if err != nil {
		t.Fatal(err)
	}
	k = testKey(org, at)
	k.ID, k.SecretDigest, k.RotatedAt = prev.KeyID(), next.Digest(), at
	k.Previous = &keys.PreviousToken{Digest: prev.Digest(), Hint: "dotenv_prev…ious", ExpiresAt: at.Add(time.Hour)}
	item, err := dynamo.KeyItem(k)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, b, item)
	return k, next.Token, prev.Token
}

// TestReadCallsOnEveryServer counts the SDK calls of the read and
// non-transactional paths (verification, listings, usage) on every server,
// dynalite included: the items are seeded with raw PutItems, so these
// figures in docs/dynamodb.md's "dynalite" column are measured, not
// assumed. TestCallsPerOperation measures the transactional writes (moto).
func TestReadCallsOnEveryServer(t *testing.T) {
	each(t, func(t *testing.T, b *dynamotest.Backend) {
		rec := &recorder{}
		s := dynamo.New(client(t, b, rec.option), b.Table)
		ctx := t.Context()
		at := time.Now().UTC().Truncate(time.Millisecond)
		org := ids("org_")
		k, current, previous := seededKey(t, b, org, at)
		team := &directory.Node{ID: ids("team_"), OrganizationID: org, Name: "t", CreatedAt: at, UpdatedAt: at}
		team.Path.Team = team.ID
		prj := &directory.Node{ID: ids("prj_"), OrganizationID: org, Name: "p", CreatedAt: at, UpdatedAt: at}
		prj.Path = authz.Node{Team: team.ID, Project: prj.ID}
		for _, n := range []*directory.Node{team, prj} {
			item, err := dynamo.NodeItem(n)
			if err != nil {
				t.Fatal(err)
			}
			seed(t, b, item)
		}
		lostCondition := []string{"UpdateItem"}
		if !returnsOldItem(t, b) {
			lostCondition = []string{"UpdateItem", "GetItem"}
		}
		verifier := verify.New(s, s, authz.NewCatalog(), func() time.Time { return at }, nil)
		day := usage.Date(at)
		steps := []callStep{
			{"Ping", []string{"GetItem"}, func() error { return s.Ping(ctx) }},
			{"verify (current token)", []string{"GetItem"}, func() error {
				res, err := verifier.Authenticate(ctx, current)
				if err == nil && (res.Code != verify.CodeOK || res.Previous) {
					err = fmt.Errorf("code %s, previous %v; want ok, current", res.Code, res.Previous)
				}
				return err
			}},
			{"verify (previous token, in its grace period)", []string{"GetItem"}, func() error {
				res, err := verifier.Authenticate(ctx, previous)
				if err == nil && (res.Code != verify.CodeOK || !res.Previous) {
					err = fmt.Errorf("code %s, previous %v; want ok, previous", res.Code, res.Previous)
				}
				return err
			}},
			{"GetKey (missing)", []string{"GetItem"}, func() error {
				if _, err := s.GetKey(ctx, ids("key_")); err == nil {
					return fmt.Errorf("a missing key was found")
				}
				return nil
			}},
			{"CountKeys (quota)", []string{"Query"}, func() error {
				n, err := s.CountKeys(ctx, org, 1000)
				if err == nil && n != 1 {
					err = fmt.Errorf("CountKeys = %d, want 1", n)
				}
				return err
			}},
			{"ListKeys", []string{"Query"}, func() error {
				page, err := s.ListKeys(ctx, org, directory.ListOptions{})
				if err == nil && (len(page.Items) != 1 || page.Items[0].ID != k.ID) {
					err = fmt.Errorf("listed %d keys, want the seeded one", len(page.Items))
				}
				return err
			}},
			{"GetNode", []string{"GetItem"}, func() error { _, err := s.GetNode(ctx, org, prj.ID); return err }},
			{"ListNodes (level)", []string{"Query"}, func() error {
				page, err := s.ListNodes(ctx, org, authz.LevelProject, "", directory.ListOptions{})
				if err == nil && len(page.Items) != 1 {
					err = fmt.Errorf("listed %d projects, want 1", len(page.Items))
				}
				return err
			}},
			{"ListNodes (children)", []string{"Query"}, func() error {
				page, err := s.ListNodes(ctx, org, authz.LevelProject, team.ID, directory.ListOptions{})
				if err == nil && len(page.Items) != 1 {
					err = fmt.Errorf("listed %d children, want 1", len(page.Items))
				}
				return err
			}},
			{"TouchKey (due last-used)", []string{"UpdateItem"}, func() error {
				ok, err := s.TouchKey(ctx, k.ID, time.Time{}, at)
				if err == nil && !ok {
					err = fmt.Errorf("TouchKey did not write")
				}
				return err
			}},
			{"TouchKey (lost race)", lostCondition, func() error {
				ok, err := s.TouchKey(ctx, k.ID, time.Time{}, at)
				if err == nil && ok {
					err = fmt.Errorf("TouchKey wrote over a newer last-used")
				}
				return err
			}},
			{"AddUsage (one day, one last use)", []string{"UpdateItem", "UpdateItem"}, func() error {
				return s.AddUsage(ctx, usage.Batch{
					Days:     []usage.DayDelta{{KeyID: k.ID, Date: day, Counts: usage.Counts{Allowed: 3}}},
					LastUses: []usage.LastUseDelta{{KeyID: k.ID, LastUse: usage.LastUse{At: at.Add(time.Second), IP: "192.0.2.1"}}},
				})
			}},
			{"KeyUsage", []string{"Query"}, func() error {
				days, err := s.KeyUsage(ctx, k.ID, day, day)
				if err == nil && (len(days) != 1 || days[0].Allowed != 3) {
					err = fmt.Errorf("KeyUsage = %+v, want one day with 3 allowed", days)
				}
				return err
			}},
		}
		runCallSteps(t, rec, "read calls on "+b.Name, steps)
	})
}
