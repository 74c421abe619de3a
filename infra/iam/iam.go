// Package iam is the least-privilege map of the functions: exactly the
// DynamoDB and SQS actions each one calls. The CDK stack builds every role
// from it, the synth tests hold the template to it, and the Lambda tests
// hold every call each function makes under the emulator to it.
package iam

import (
	"slices"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/store/dynamo/schema"
)

// Access is what one function may do on the table: the DynamoDB actions it
// calls and the global secondary indexes it queries, which its role names
// one by one (`<table ARN>/index/GSI1`); a function may Query the table
// alone, as leaks does for the webhooks.
type Access struct {
	// Actions are full IAM action names, e.g. "dynamodb:GetItem", sorted.
	Actions []string
	// Indexes are the indexes the function queries (schema.IndexGSI1,
	// schema.IndexGSI2), sorted.
	Indexes []string
	// DeletesNotices grants DeleteItem on the pending webhook notices only
	// (a statement of its own, conditioned on dynamodb:LeadingKeys
	// NoticeKeys): the functions that store key changes delete the notice
	// they queued, notify the ones its sweep queued, and none of them may
	// delete anything else through it.
	DeletesNotices bool
	// Scoped are statements of their own on the table alone, each
	// conditioned on dynamodb:LeadingKeys: their Actions reach only the
	// items whose partition key matches one of their Partitions. A
	// function whose every action is scoped has no unconditioned
	// statement (Actions empty).
	Scoped []Scoped
}

// Scoped is one conditioned statement of a role: Actions on the items
// whose partition key matches one of Partitions (IAM's StringLike
// patterns: `*` any run of characters, `?` one character).
type Scoped struct {
	Actions    []string
	Partitions []string
}

// Allows reports whether the statement allows action on an item of
// partition pk.
func (s Scoped) Allows(action, pk string) bool {
	if !slices.Contains(s.Actions, action) {
		return false
	}
	return slices.ContainsFunc(s.Partitions, func(p string) bool { return Like(p, pk) })
}

// AllActions lists every DynamoDB action a grants, scoped or not, sorted
// and without repeats (DeletesNotices' DeleteItem included).
func (a Access) AllActions() []string {
	out := slices.Clone(a.Actions)
	for _, s := range a.Scoped {
		out = append(out, s.Actions...)
	}
	if a.DeletesNotices {
		out = append(out, DeleteItem)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Like reports whether s matches pattern as IAM's StringLike operator
// matches: `*` stands for any run of characters (none included), `?` for
// exactly one, everything else for itself (case-sensitive).
func Like(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if Like(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && Like(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && Like(pattern[1:], s[1:])
}

// The partitions the verify function reaches (shared/store/dynamo): a
// key's partition (KEY#<id>: the key item it verifies and whose last use
// it writes, the usage days it adds to), an organization's partition
// (ORG#<org>: the directory nodes the authorizer resolves a request's path
// with) and the health check's absent item (PING). Audit events
// (AUDIT#<org>#<month>), webhook deliveries, notices and the due queue
// have partitions of their own that no pattern here matches.
const (
	KeyPartitions = "KEY#*"
	OrgPartitions = "ORG#*"
	PingPartition = "PING"
)

// NoticeKeys is the partition key pattern of the pending webhook notices
// (shared/store/dynamo: NOTICE#<event id>), the only items DeletesNotices
// reaches.
const NoticeKeys = "NOTICE#*"

// QueueActions are the SQS actions each function may call, all on the
// webhook deliveries queue and nowhere else: notify sends to it (what
// Queue.GrantSendMessages grants), deliver consumes it (what the SQS event
// source grants). The synth tests hold the template to it.
func QueueActions() map[authz.Function][]string {
	return map[authz.Function][]string{
		authz.FunctionNotify:  {"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"},
		authz.FunctionDeliver: {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
	}
}

// The indexes, spelled once.
var (
	gsi1 = []string{schema.IndexGSI1}
	gsi2 = []string{schema.IndexGSI2}
	both = []string{schema.IndexGSI1, schema.IndexGSI2}
)

// DeleteItem is the action DeletesNotices grants on the pending notices.
const DeleteItem = "dynamodb:DeleteItem"

// DynamoDB actions, spelled once.
const (
	getItem    = "dynamodb:GetItem"
	putItem    = "dynamodb:PutItem"
	updateItem = "dynamodb:UpdateItem"
	deleteItem = DeleteItem
	query      = "dynamodb:Query"
	// conditionCheck is a ConditionCheck inside a TransactWriteItems.
	conditionCheck = "dynamodb:ConditionCheckItem"
)

// Permissions is the least-privilege map: exactly the DynamoDB actions each
// function calls. The stack builds every role from it and the synth tests
// hold the synthesized template to it; change it here and nowhere else.
// Every function reads directory nodes for path resolution (GetItem). A
// change is one TransactWriteItems with its audit event, which IAM
// authorizes as the Put/Update/Delete of each item: every writer also needs
// PutItem (the event). The audit reader cannot write.
func Permissions() map[authz.Function]Access {
	m := map[authz.Function]Access{
		// verify also serves as the REQUEST authorizer, in front of every
		// request: nothing unconditioned. GetItem of a key (the token's),
		// of a directory node (the path the authorizer resolves) and of
		// the health check's item; UpdateItem only in a key's partition,
		// the usage flush (ADD on a key's usage day, the conditional
		// last-use write on the key item). It can reach no audit event,
		// delivery or notice; the organization's partition also holds its
		// webhook endpoints (docs/security.md, "Least privilege").
		authz.FunctionVerify: {Scoped: []Scoped{
			{Actions: []string{getItem}, Partitions: []string{KeyPartitions, OrgPartitions, PingPartition}},
			{Actions: []string{updateItem}, Partitions: []string{KeyPartitions}},
		}},
		// create, edit, rotate and delete also announce the change to the
		// organization's webhooks: the pending notice is written in the
		// change's transaction (PutItem), then queued: Query of the
		// organization's partition (no index) for the endpoints, PutItem
		// of one delivery per subscribed endpoint, DeleteItem of the
		// notice (DeletesNotices).
		// create: PutItem of the key, GetItem for scope lookups, a Query
		// of the listing index (GSI1, Select=COUNT) for the organization's
		// key quota.
		authz.FunctionCreate: {Actions: []string{putItem, getItem, query}, Indexes: gsi1, DeletesNotices: true},
		// show: GetItem of one key, Query of the listing index (GSI1) and
		// of a key's partition for its usage days (on the table).
		authz.FunctionShow: {Actions: []string{getItem, query}, Indexes: gsi1},
		// edit and delete: a change that takes an owner key away lists
		// the organization's keys (Query of GSI1) for another owner and
		// names it as the write's witness (ConditionCheckItem in the
		// change's transaction). rotate never takes an owner away.
		authz.FunctionEdit:   {Actions: []string{conditionCheck, getItem, updateItem, putItem, query}, Indexes: gsi1, DeletesNotices: true},
		authz.FunctionRotate: {Actions: []string{getItem, updateItem, putItem, query}, DeletesNotices: true},
		authz.FunctionDelete: {Actions: []string{conditionCheck, getItem, deleteItem, putItem, query}, Indexes: gsi1, DeletesNotices: true},
		// explore calls the API over HTTP and reads directory nodes (by
		// level: GSI1).
		authz.FunctionExplore: {Actions: []string{getItem, query}, Indexes: gsi1},
		// leaks: GetItem of the reported token's key, UpdateItem to
		// revoke it (conditional on its version), PutItem of its event; its
		// key.revoked webhook: the organization's endpoints (Query of its
		// partition, no index), one delivery per subscribed endpoint
		// (PutItem), the notice's deletion.
		authz.FunctionLeaks: {Actions: []string{getItem, updateItem, putItem, query}, DeletesNotices: true},
		// directory: nodes by level (GSI1) and by parent (GSI2).
		authz.FunctionDirectory: {
			Actions: []string{getItem, putItem, updateItem, deleteItem, query},
			Indexes: both,
		},
		// audit: Query of the event partitions and of GSI1 (the key
		// filter); GetItem only for the health check. No write.
		authz.FunctionAudit: {Actions: []string{getItem, query}, Indexes: gsi1},
		// webhooks: endpoints are read and written whole (GetItem,
		// PutItem, DeleteItem; each change one TransactWriteItems with the
		// PutItem of its audit event), listed by a Query of the
		// organization's partition; deliveries are listed through GSI1.
		authz.FunctionWebhooks: {Actions: []string{getItem, putItem, deleteItem, query}, Indexes: gsi1},
		// notify: the expiry index, the pending notices and the due queue
		// (GSI2 Queries), the endpoints (Query), new deliveries
		// (conditional PutItem), the notices it queued (DeletesNotices).
		// Its queue permission (sqs:SendMessage) is granted on the queue.
		authz.FunctionNotify: {Actions: []string{putItem, query}, Indexes: gsi2, DeletesNotices: true},
		// deliver: one delivery and its endpoint (GetItem), the claim and
		// the outcome (conditional PutItem). The queue's event source
		// grants it the receive and delete of messages.
		authz.FunctionDeliver: {Actions: []string{getItem, putItem}},
	}
	for f, a := range m {
		slices.Sort(a.Actions)
		m[f] = a
	}
	return m
}
