package secretscan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxMatches bounds the matches one report may carry; GitHub batches
// matches, and a larger report is refused as a whole.
const MaxMatches = 1000

// Match is one secret GitHub found: the token as found, the type name
// registered with GitHub, where it was found and on what (e.g. "content",
// "commit", "npm").
type Match struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// ParseReport reads a report's body: a JSON array of matches.
func ParseReport(body []byte) ([]Match, error) {
	var ms []Match
	if err := json.Unmarshal(body, &ms); err != nil {
		return nil, fmt.Errorf("secretscan: report: %w", err)
	}
	if ms == nil {
		return nil, errors.New("secretscan: report: not a JSON array")
	}
	if len(ms) > MaxMatches {
		return nil, fmt.Errorf("secretscan: report: %d matches, at most %d", len(ms), MaxMatches)
	}
	return ms, nil
}

// Labels a service gives each match in its answer.
const (
	// TruePositive: the token is (or was) one of ours and live.
	TruePositive = "true_positive"
	// FalsePositive: not a token of ours, or not live.
	FalsePositive = "false_positive"
)

// Feedback is one element of the protocol's optional answer. It names the
// token by its SHA-256 (hex), never by its raw value.
type Feedback struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// FeedbackFor labels a match.
func FeedbackFor(m Match, live bool) Feedback {
	sum := sha256.Sum256([]byte(m.Token))
	label := FalsePositive
	if live {
		label = TruePositive
	}
	return Feedback{TokenHash: hex.EncodeToString(sum[:]), TokenType: m.Type, Label: label}
}
