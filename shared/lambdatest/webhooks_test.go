package lambdatest_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/safehttp"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/webhook"
)

// scheduledEvent is an EventBridge scheduled event exactly as AWS sends it
// to a rule's target.
const scheduledEvent = `{
  "version": "0",
  "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  "source": "aws.events",
  "account": "123456789012",
  "time": %q,
  "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/apikeys-notify"],
  "detail": {}
}`

// sqsRecord is one record of an SQS event as Lambda's event source mapping
// sends it.
const sqsRecord = `{
  "messageId": %q,
  "receiptHandle": %q,
  "body": %q,
  "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764446400000", "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1764446400001"},
  "messageAttributes": {},
  "md5OfBody": "",
  "eventSource": "aws:sqs",
  "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhook-deliveries",
  "awsRegion": "us-east-1"
}`

// TestNotifyAndDeliverUnderTheEmulator: the notify function, invoked with a
// real scheduled event, stores a key.expiring notice for a key expiring in
// 3 days and queues it on SQS; the deliver function, invoked with the SQS
// event of the messages received from that queue, sends it signed (checked
// by the Standard Webhooks library) to a loopback receiver. The receiver
// answers 500 first: a failed HTTP attempt is recorded and rescheduled, not
// a failed message; a malformed message is a batch item failure.
func TestNotifyAndDeliverUnderTheEmulator(t *testing.T) {
	ctx := t.Context()
	var (
		mu       sync.Mutex
		got      []error
		ids      []string
		statuses = []int{http.StatusInternalServerError, http.StatusNoContent}
		secret   string
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		got = append(got, err)
		ids = append(ids, r.Header.Get("webhook-id"))
		w.WriteHeader(statuses[min(len(got)-1, len(statuses)-1)])
	}))
	defer recv.Close()

	owner := authz.Principal{OrganizationID: env.org, KeyID: env.ownerKey, Access: authz.Access{AllowAll: true}}
	svc := webhook.NewService(env.store, safehttp.Options{AllowLoopback: true}.CheckURL, nil, rand.Reader, time.Now)
	url, events := recv.URL+"/hook", []string{webhook.EventKeyExpiring}
	hook, err := svc.Create(ctx, owner, webhook.Spec{URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = svc.Delete(ctx, owner, hook.ID) }()
	mu.Lock()
	secret = string(hook.Secret)
	mu.Unlock()
	name, preset, in3d := "expires soon", "read-only", time.Now().Add(72*time.Hour)
	k, err := env.deps.Keys.Create(ctx, owner, keys.Spec{Name: &name, Preset: &preset, ExpiresAt: &in3d})
	if err != nil {
		t.Fatal(err)
	}

	notify := func() map[string]int { return runNotify(t, ctx) }
	receive := func() []string {
		t.Helper()
		out, err := env.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(env.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		var recs []string
		for _, m := range out.Messages {
			recs = append(recs, fmt.Sprintf(sqsRecord, aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle), aws.ToString(m.Body)))
		}
		return recs
	}
	deliver := func(recs []string) map[string][]map[string]string {
		t.Helper()
		out, err := env.fn[authz.FunctionDeliver].Invoke(ctx, []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`))
		if err != nil {
			t.Fatalf("deliver: %v\n%s", err, env.fn[authz.FunctionDeliver].Logs())
		}
		var res map[string][]map[string]string
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("deliver answered %s", out)
		}
		return res
	}

	if res := notify(); res["notices"] < 1 || res["enqueued"] < 1 {
		t.Fatalf("notify = %v, want the notice stored and queued", res)
	}
	recs := receive()
	if len(recs) == 0 {
		t.Fatal("nothing on the deliveries queue")
	}
	if res := deliver(recs); len(res["batchItemFailures"]) != 0 {
		t.Fatalf("deliver reported failures %v for a 500 (an HTTP failure is retried from the store)", res)
	}
	ds, _, err := svc.Deliveries(ctx, owner, hook.ID, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %d, %v", len(ds), err)
	}
	d := ds[0]
	if d.State != webhook.StatePending || len(d.Attempts) != 1 || d.Attempts[0].Status != 500 || !strings.Contains(string(d.Payload), k.Key.ID) {
		t.Fatalf("after a 500: %+v", d)
	}
	// A second run before the backoff passes queues nothing new for it,
	// and a message for it (received twice) sends nothing.
	if res := notify(); res["notices"] != 0 {
		t.Fatalf("second notify stored %d notices, want 0", res["notices"])
	}
	// The retry by hand makes it due now; the next run queues it and
	// deliver sends it (a 204 this time) under the same webhook-id.
	if _, err := svc.Retry(ctx, owner, hook.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if res := notify(); res["enqueued"] < 1 {
		t.Fatalf("notify after a retry = %v", res)
	}
	if res := deliver(receive()); len(res["batchItemFailures"]) != 0 {
		t.Fatalf("deliver: %v", res)
	}
	d, _ = env.store.GetDelivery(ctx, hook.ID, d.ID)
	if d.State != webhook.StateDelivered {
		t.Fatalf("after a 204: %+v", d)
	}
	mu.Lock()
	for i, err := range got {
		if err != nil {
			t.Errorf("attempt %d: the Standard Webhooks library refused it: %v", i, err)
		}
		if ids[i] != d.ID {
			t.Errorf("attempt %d: webhook-id %q, want %q", i, ids[i], d.ID)
		}
	}
	if len(got) != 2 {
		t.Errorf("receiver got %d requests, want 2", len(got))
	}
	mu.Unlock()

	bad := fmt.Sprintf(sqsRecord, "m-bad", "rh-bad", "not json")
	if res := deliver([]string{bad}); len(res["batchItemFailures"]) != 1 || res["batchItemFailures"][0]["itemIdentifier"] != "m-bad" {
		t.Fatalf("a malformed message answered %v, want it as the one batch item failure", res)
	}
}

// crashedRequest is a publisher whose request died right after the
// change committed: the notice is stored with it and never queued by it.
type crashedRequest struct{ webhook.Publisher }

func (crashedRequest) Published(context.Context, audit.Event) {}

// TestNotifyQueuesALostChangeNotice: a key change whose request died after
// its commit left its notice pending in the table; the notify function,
// invoked with a real scheduled event, queues it for the endpoint (once:
// a second run adds nothing) and clears it.
func TestNotifyQueuesALostChangeNotice(t *testing.T) {
	ctx := t.Context()
	owner := authz.Principal{OrganizationID: env.org, KeyID: env.ownerKey, KeyName: "Owner key", Access: authz.Access{AllowAll: true}}
	earlier := func(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(-d) } }
	svc := webhook.NewService(env.store, safehttp.Options{AllowLoopback: true}.CheckURL, nil, rand.Reader, earlier(2*time.Minute))
	url, events := "https://hooks.example.com/lost", []string{webhook.EventKeyCreated}
	hook, err := svc.Create(ctx, owner, webhook.Spec{URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = svc.Delete(ctx, owner, hook.ID) }()
	crashing := keys.NewService(env.store, env.store, authz.NewCatalog(), token.NewGenerator(), earlier(time.Minute), keys.Limits{},
		keys.WithPublisher(crashedRequest{webhook.NewPublisher(webhook.NewDispatcher(env.store, webhook.DispatcherOptions{}), slog.New(slog.DiscardHandler))}))
	name, preset, exp := "lost notice", "read-only", "30d"
	k, err := crashing.Create(ctx, owner, keys.Spec{Name: &name, Preset: &preset, Expiration: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if ds, _, _ := env.store.ListDeliveries(ctx, hook.ID, 10); len(ds) != 0 {
		t.Fatalf("the crashed request queued %d deliveries", len(ds))
	}
	notify := func() map[string]int { return runNotify(t, ctx) }
	if res := notify(); res["notices"] < 1 {
		t.Fatalf("notify = %v, want the lost notice queued", res)
	}
	ds, _, err := env.store.ListDeliveries(ctx, hook.ID, 10)
	if err != nil || len(ds) != 1 || ds[0].EventType != webhook.EventKeyCreated || !strings.Contains(string(ds[0].Payload), k.Key.ID) {
		t.Fatalf("deliveries %+v (%v), want the key.created of %s", ds, err, k.Key.ID)
	}
	notify()
	if again, _, _ := env.store.ListDeliveries(ctx, hook.ID, 10); len(again) != 1 {
		t.Fatalf("a second run left %d deliveries, want the one", len(again))
	}
	if pending, _ := env.store.PendingNotices(ctx, time.Now(), webhook.Position{}, 100); len(pending.Items) != 0 {
		t.Fatalf("%d notices left pending", len(pending.Items))
	}
}

// runNotify invokes the notify function under the emulator with a real
// EventBridge scheduled event and returns its result counts.
func runNotify(t *testing.T, ctx context.Context) map[string]int {
	t.Helper()
	out, err := env.fn[authz.FunctionNotify].Invoke(ctx, fmt.Appendf(nil, scheduledEvent, time.Now().UTC().Format(time.RFC3339)))
	if err != nil {
		t.Fatalf("notify: %v\n%s", err, env.fn[authz.FunctionNotify].Logs())
	}
	var res map[string]int
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("notify answered %s", out)
	}
	return res
}
