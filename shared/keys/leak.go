package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/token"
)

// ReasonLeaked is the revocation reason of a key whose token was reported
// as exposed (docs/security.md, "Leaked tokens").
const ReasonLeaked = "leaked"

// Revocation records why and when a key was revoked. A revoked key stays
// listed; its tokens fail verification with code revoked until it is
// rotated (which clears the revocation) or deleted.
type Revocation struct {
	At     time.Time
	Reason string
	// Reporter says who reported the leak: "github" (secret scanning) or
	// "self_report".
	Reporter string
	// URL and Source are what the report said: where the token was found
	// and on what (may be empty). They are shown to the key's owners, so
	// they are bounded and stripped of control characters.
	URL    string
	Source string
}

// The reporters of a leak.
const (
	ReporterGitHub = "github"
	ReporterSelf   = "self_report"
)

// Limits on what a leak report may record on a key.
const (
	maxLeakURL    = 2048
	maxLeakSource = 64
)

// LeakReport is a report that a token was exposed.
type LeakReport struct {
	Token    string
	Reporter string
	URL      string
	Source   string
}

// LeakOutcome is what a report did.
type LeakOutcome int

// The outcomes of a report. Only LeakRevoked wrote anything.
const (
	// LeakNotOurs: malformed, unknown, or not the key's token (no store
	// write; a malformed token costs no store read either).
	LeakNotOurs LeakOutcome = iota
	// LeakDead: the token was the key's but it had expired (not live: no
	// write).
	LeakDead
	// LeakAlreadyRevoked: the key was revoked before (no write).
	LeakAlreadyRevoked
	// LeakRevoked: the key was live and is now revoked.
	LeakRevoked
)

// Ours reports whether the token named a key of this service (the
// protocol's true positive).
func (o LeakOutcome) Ours() bool { return o != LeakNotOurs }

// ReportLeak revokes the key whose live token (current, or previous during
// a grace period) was reported. It answers the
// same way for every token that is not a live one and writes nothing for
// those; the caller decides what (not) to tell the reporter. Concurrent
// reports and changes are resolved by the key's version: the revocation is
// re-applied to the newest version, so it is never lost.
func (s *Service) ReportLeak(ctx context.Context, r LeakReport) (LeakOutcome, *Key, error) {
	p, err := token.Parse(r.Token)
	if err != nil {
		return LeakNotOurs, nil, nil
	}
	for attempt := 1; ; attempt++ {
		cur, err := s.keys.GetKey(ctx, p.KeyID())
		var unreadable *UnreadableError
		if errors.Is(err, fault.ErrNotFound) || errors.As(err, &unreadable) {
			return LeakNotOurs, nil, nil
		}
		if err != nil {
			return LeakNotOurs, nil, fmt.Errorf("keys: reading reported key: %w", err)
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		if !reportedTokenOf(p.Digest(), cur, now) {
			return LeakNotOurs, nil, nil
		}
		switch {
		case cur.Revoked != nil:
			return LeakAlreadyRevoked, cur, nil
		case cur.Expired(now):
			return LeakDead, cur, nil
		}
		k := cur.Clone()
		k.Revoked = &Revocation{
			At: now, Reason: ReasonLeaked, Reporter: r.Reporter,
			URL: cleanReported(r.URL, maxLeakURL), Source: cleanReported(r.Source, maxLeakSource),
		}
		k.UpdatedAt, k.Version = now, cur.Version+1
		ev, err := audit.New(ctx, s.tokens, now, k.OrganizationID, audit.KeyRevoked, audit.System(r.Reporter), keyTarget(k))
		if err != nil {
			return LeakNotOurs, nil, fmt.Errorf("keys: %w", err)
		}
		keyChanges(&ev, cur, k)
		if err := s.announce(ctx, &ev, k); err != nil {
			return LeakNotOurs, nil, err
		}
		err = s.keys.UpdateKey(ctx, k, cur.Version, ev)
		switch {
		case errors.Is(err, fault.ErrConflict) && attempt < maxAttempts:
			continue // changed meanwhile: revoke the newer version
		case errors.Is(err, fault.ErrNotFound):
			return LeakNotOurs, nil, nil // deleted meanwhile
		case err != nil:
			return LeakNotOurs, nil, fmt.Errorf("keys: revoking reported key: %w", err)
		}
		k.LastUsedAt = cur.LastUsedAt
		s.published(ctx, ev)
		return LeakRevoked, k, nil
	}
}

// reportedTokenOf reports whether d is the digest of k's current token or
// of its previous token while the grace period runs (a leaked previous
// token revokes the key as well: both stop at once). Constant-time
// compares.
func reportedTokenOf(d token.Digest, k *Key, now time.Time) bool {
	if d.Equal(k.SecretDigest) {
		return true
	}
	prev := k.PreviousAt(now)
	return prev != nil && d.Equal(prev.Digest)
}

// cleanReported keeps what a reporter said displayable, and quotes no token
// (token.Redact: a self-report's URL may hold the reported token): valid UTF-8, no
// control or format characters (a bidirectional override could disguise
// the url), at most max bytes (cut at a rune boundary).
func cleanReported(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(token.Redact(s), ""))
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return strings.TrimSpace(s)
}
