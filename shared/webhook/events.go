package webhook

// EventOfAction maps an audit trail action to the webhook event it is
// announced as, and reports whether it is announced at all: the key
// changes are, the directory's and the organization's are not (docs/design.md,
// "Webhooks").
func EventOfAction(action string) (string, bool) {
	switch action {
	case EventKeyCreated, EventKeyUpdated, EventKeyRotated, EventKeyDeleted, EventKeyRevoked:
		return action, true
	case "key.previous_token_revoked":
		// Ending a rotation's grace early changes which tokens work.
		return EventKeyUpdated, true
	}
	return "", false
}
