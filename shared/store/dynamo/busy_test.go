package dynamo_test

import (
	"errors"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/store/dynamo"
	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
	"github.com/dotenv/apikeys/shared/store/storetest"
)

// conflicter answers every TransactWriteItems as DynamoDB does when another
// transaction is changing one of its items: cancelled, the first write's
// reason TransactionConflict, the others None.
func conflicter(w http.ResponseWriter, r *http.Request) {
	body := []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled",` +
		`"CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"},{"Code":"None"},{"Code":"None"},{"Code":"None"}]}`)
	status := http.StatusBadRequest
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
		status, body = http.StatusOK, []byte(`{}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// TestTransactionConflictIsBusy: a write cancelled because a concurrent
// transaction held one of its items answers a conflict the caller may
// retry ("at the same moment"), from every transactional write alike
// (transact decides it once), never a not-found or an internal error.
// moto serves one request at a time, so only a server answering the
// cancellation itself can show it.
func TestTransactionConflictIsBusy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(conflicter))
	defer srv.Close()
	c, err := dynamotest.NewClient(t.Context(), srv.URL, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 1 })
	})
	if err != nil {
		t.Fatal(err)
	}
	s := dynamo.New(c, "t")
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	k := testKey("org_busy", at)
	team := &directory.Node{ID: "team_busy", OrganizationID: "org_busy", Name: "t", CreatedAt: at, UpdatedAt: at}
	team.Path = authz.Node{Team: team.ID}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"CreateKey", func() error { return s.CreateKey(ctx, k, storetest.Event()) }},
		{"UpdateKey", func() error { return s.UpdateKey(ctx, k, 1, storetest.Event()) }},
		{"DeleteKey", func() error { return s.DeleteKey(ctx, k.ID, 1, storetest.Event()) }},
		{"CreateNode", func() error { return s.CreateNode(ctx, team, storetest.Event()) }},
		{"CreateOrganization", func() error {
			return s.CreateOrganization(ctx, &directory.Organization{ID: "org_busy", Name: "b", CreatedAt: at, UpdatedAt: at}, storetest.Event())
		}},
	} {
		err := tc.run()
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.CodeConflict || !strings.Contains(err.Error(), "at the same moment") {
			t.Errorf("%s: %v, want the busy conflict", tc.name, err)
		}
	}
}
