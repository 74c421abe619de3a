package lambdatest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dotenv/apikeys/infra/iam"
	"github.com/dotenv/apikeys/shared/authz"
)

// The IAM check: every function reaches DynamoDB (and the event functions
// SQS) through a recording proxy of its own, and after the tests every call
// each one made must be allowed by its role as the CDK stack builds it
// (infra/iam). DynamoDB-compatible
// servers do not enforce IAM, so without this a call the role lacks (a
// Query of an index, a DeleteItem) would pass every local test and fail
// only on AWS.

// need is what one DynamoDB call requires of the caller's role.
type need struct {
	action string // the IAM action, e.g. "dynamodb:Query"
	index  string // the index it reads ("" for the table)
	pk     string // the item's partition key, for conditioned statements
}

func (n need) String() string {
	s := n.action
	if n.index != "" {
		s += " on index " + n.index
	}
	if n.pk != "" {
		s += " of " + strings.SplitN(n.pk, "#", 2)[0]
		if strings.Contains(n.pk, "#") {
			s += "#…"
		}
	}
	return s
}

// callLog is what each function asked of DynamoDB.
type callLog struct {
	mu    sync.Mutex
	needs map[authz.Function]map[need]bool
}

// proxy returns the address f's DynamoDB client is given: a reverse proxy
// to target that records each call's needs.
func (l *callLog) proxy(f authz.Function, target string) (*httptest.Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		target := r.Header.Get("X-Amz-Target")
		op := target[strings.LastIndex(target, ".")+1:]
		if strings.HasPrefix(target, "AmazonSQS.") {
			l.record(f, []need{{action: sqsAction(op)}})
		} else {
			l.record(f, needsOf(op, body))
		}
		rp.ServeHTTP(w, r)
	})), nil
}

func (l *callLog) record(f authz.Function, ns []need) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.needs == nil {
		l.needs = map[authz.Function]map[need]bool{}
	}
	if l.needs[f] == nil {
		l.needs[f] = map[need]bool{}
	}
	for _, n := range ns {
		l.needs[f][n] = true
	}
}

// attr is a DynamoDB attribute value as JSON (only S is read).
type attr struct {
	S string `json:"S"`
}

type item struct {
	Key  map[string]attr `json:"Key"`
	Item map[string]attr `json:"Item"`
}

// needsOf reads what one call of op with this JSON body requires: a
// transaction needs each of its writes' actions.
func needsOf(op string, body []byte) []need {
	var in struct {
		IndexName     string `json:"IndexName"`
		TransactItems []struct {
			Put            *item `json:"Put"`
			Update         *item `json:"Update"`
			Delete         *item `json:"Delete"`
			ConditionCheck *item `json:"ConditionCheck"`
		} `json:"TransactItems"`
		item
	}
	_ = json.Unmarshal(body, &in)
	pk := func(it item) string { return it.Key["PK"].S + it.Item["PK"].S }
	switch op {
	case "TransactWriteItems":
		var out []need
		for _, t := range in.TransactItems {
			switch {
			case t.Put != nil:
				out = append(out, need{action: "dynamodb:PutItem", pk: pk(*t.Put)})
			case t.Update != nil:
				out = append(out, need{action: "dynamodb:UpdateItem", pk: pk(*t.Update)})
			case t.Delete != nil:
				out = append(out, need{action: iam.DeleteItem, pk: pk(*t.Delete)})
			case t.ConditionCheck != nil:
				out = append(out, need{action: "dynamodb:ConditionCheckItem", pk: pk(*t.ConditionCheck)})
			}
		}
		return out
	case "Query", "Scan":
		return []need{{action: "dynamodb:" + op, index: in.IndexName}}
	case "DeleteItem", "GetItem", "UpdateItem", "PutItem":
		// Single-item calls name their partition, for the statements
		// conditioned on dynamodb:LeadingKeys.
		return []need{{action: "dynamodb:" + op, pk: pk(in.item)}}
	}
	return []need{{action: "dynamodb:" + op}}
}

// sqsAction is the IAM action an SQS call needs (a batch call is
// authorized as its single form).
func sqsAction(op string) string {
	return "sqs:" + strings.TrimSuffix(op, "Batch")
}

// allowed reports whether a role built from a and queue (the function's
// SQS actions) allows n.
func allowed(a iam.Access, queue []string, n need) bool {
	if strings.HasPrefix(n.action, "sqs:") {
		return slices.Contains(queue, n.action)
	}
	if n.action == iam.DeleteItem && a.DeletesNotices && strings.HasPrefix(n.pk, strings.TrimSuffix(iam.NoticeKeys, "*")) {
		return true
	}
	if n.index == "" && slices.ContainsFunc(a.Scoped, func(sc iam.Scoped) bool { return sc.Allows(n.action, n.pk) }) {
		return true
	}
	return slices.Contains(a.Actions, n.action) && (n.index == "" || slices.Contains(a.Indexes, n.index))
}

// violations lists the calls a function made that its role would refuse.
func (l *callLog) violations(perms map[authz.Function]iam.Access) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	queues := iam.QueueActions()
	for f, ns := range l.needs {
		a, ok := perms[f]
		for n := range ns {
			if !ok || !allowed(a, queues[f], n) {
				out = append(out, fmt.Sprintf("the %s function calls %s, which its role (infra/iam) does not allow", f, n))
			}
		}
	}
	sort.Strings(out)
	// Calls on different items of one partition prefix read the same.
	return slices.Compact(out)
}

// TestIAMCheck: the check reads what each call needs (a transaction's
// writes one by one, a Query's index, a DeleteItem's partition) and
// refuses what a role lacks.
func TestIAMCheck(t *testing.T) {
	perms := iam.Permissions()
	for _, tc := range []struct {
		f        authz.Function
		op, body string
		ok       bool
	}{
		{authz.FunctionCreate, "TransactWriteItems", `{"TransactItems":[{"Put":{"Item":{"PK":{"S":"KEY#key_1"}}}},{"Put":{"Item":{"PK":{"S":"NOTICE#evt_1"}}}}]}`, true},
		{authz.FunctionCreate, "Query", `{"IndexName":"GSI1"}`, true},
		{authz.FunctionCreate, "Query", `{"IndexName":"GSI2"}`, false},
		{authz.FunctionCreate, "DeleteItem", `{"Key":{"PK":{"S":"NOTICE#evt_1"}}}`, true},
		{authz.FunctionCreate, "DeleteItem", `{"Key":{"PK":{"S":"KEY#key_1"}}}`, false},
		{authz.FunctionCreate, "TransactWriteItems", `{"TransactItems":[{"Delete":{"Key":{"PK":{"S":"KEY#key_1"}}}}]}`, false},
		{authz.FunctionDelete, "TransactWriteItems", `{"TransactItems":[{"Delete":{"Key":{"PK":{"S":"KEY#key_1"}}}},{"ConditionCheck":{"Key":{"PK":{"S":"KEY#key_2"}}}}]}`, true},
		{authz.FunctionEdit, "Query", `{"IndexName":"GSI1"}`, true},
		{authz.FunctionRotate, "TransactWriteItems", `{"TransactItems":[{"ConditionCheck":{"Key":{"PK":{"S":"KEY#key_2"}}}}]}`, false},
		{authz.FunctionVerify, "Query", `{}`, false},
		// verify reaches the token's key, its usage days, the nodes the
		// authorizer resolves and the health check's item; no audit
		// event, by any call.
		{authz.FunctionVerify, "GetItem", `{"Key":{"PK":{"S":"KEY#key_1"},"SK":{"S":"KEY"}}}`, true},
		{authz.FunctionVerify, "UpdateItem", `{"Key":{"PK":{"S":"KEY#key_1"},"SK":{"S":"USAGE#2026-11-30"}}}`, true},
		{authz.FunctionVerify, "GetItem", `{"Key":{"PK":{"S":"ORG#org_1"},"SK":{"S":"NODE#team_1"}}}`, true},
		{authz.FunctionVerify, "GetItem", `{"Key":{"PK":{"S":"PING"},"SK":{"S":"PING"}}}`, true},
		{authz.FunctionVerify, "GetItem", `{"Key":{"PK":{"S":"AUDIT#org_1#2026-11"},"SK":{"S":"2026-11-30T01:00:00.000000000Z#evt_1"}}}`, false},
		{authz.FunctionVerify, "UpdateItem", `{"Key":{"PK":{"S":"AUDIT#org_1#2026-11"},"SK":{"S":"x"}}}`, false},
		{authz.FunctionVerify, "UpdateItem", `{"Key":{"PK":{"S":"ORG#org_1"},"SK":{"S":"ORG"}}}`, false},
		{authz.FunctionVerify, "GetItem", `{"Key":{"PK":{"S":"NOTICE#evt_1"},"SK":{"S":"NOTICE"}}}`, false},
		{authz.FunctionAudit, "PutItem", `{"Item":{"PK":{"S":"AUDIT#x"}}}`, false},
		{authz.FunctionNotify, "Query", `{"IndexName":"GSI2"}`, true},
		{authz.FunctionNotify, "Scan", `{}`, false},
		{authz.FunctionNotify, "sqs SendMessageBatch", ``, true},
		{authz.FunctionDeliver, "sqs SendMessageBatch", ``, false},
		{authz.FunctionCreate, "sqs SendMessage", ``, false},
	} {
		var l callLog
		if op, ok := strings.CutPrefix(tc.op, "sqs "); ok {
			l.record(tc.f, []need{{action: sqsAction(op)}})
		} else {
			l.record(tc.f, needsOf(tc.op, []byte(tc.body)))
		}
		if v := l.violations(perms); (len(v) == 0) != tc.ok {
			t.Errorf("%s %s %s: violations %v, want allowed %v", tc.f, tc.op, tc.body, v, tc.ok)
		}
	}
}

// TestIAMCheckSeesDroppedCondition: the refusal of verify's GetItem of an
// audit event comes from its statements' partition conditions; with them
// dropped (the actions granted on the whole table, as before) the same
// call passes, and the check would no longer catch it.
func TestIAMCheckSeesDroppedCondition(t *testing.T) {
	audit := []byte(`{"Key":{"PK":{"S":"AUDIT#org_1#2026-11"},"SK":{"S":"x"}}}`)
	var l callLog
	l.record(authz.FunctionVerify, needsOf("GetItem", audit))
	perms := iam.Permissions()
	if v := l.violations(perms); len(v) != 1 || !strings.Contains(v[0], "dynamodb:GetItem of AUDIT#…") {
		t.Fatalf("verify's GetItem of an audit event: violations %v, want it refused", v)
	}
	dropped := perms[authz.FunctionVerify]
	dropped.Actions = dropped.AllActions()
	dropped.Scoped = nil
	perms[authz.FunctionVerify] = dropped
	if v := l.violations(perms); len(v) != 0 {
		t.Errorf("without the conditions: violations %v, want none (the conditions are what refuse it)", v)
	}
}
