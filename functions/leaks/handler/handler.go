// Package handler serves the two ways a leaked token reaches the service
// (docs/security.md, "Leaked tokens"): POST /v1/leaks/github, GitHub's
// secret scanning partner endpoint (authenticated by GitHub's signature),
// and POST /v1/leaks, a self-report anyone holding a token may send
// (possession is the proof). Neither takes an API key. A live reported token
// revokes its key at once.
package handler

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/secretscan"
	"github.com/dotenv/apikeys/shared/wiring"
)

// The operations this package serves.
const (
	OpReportLeak       authz.Operation = "reportLeak"
	OpReportGitHubLeak authz.Operation = "reportGitHubLeaks"
)

// The headers of GitHub's partner protocol.
const (
	HeaderKeyIdentifier = "Github-Public-Key-Identifier"
	HeaderKeySignature  = "Github-Public-Key-Signature"
)

// MaxGitHubBody bounds a GitHub report's body (up to secretscan.MaxMatches
// matches).
const MaxGitHubBody = 1 << 20

// Config is what the leaks function needs beyond the shared dependencies.
type Config struct {
	// GitHubKeys verifies GitHub's reports; nil refuses every GitHub
	// report as unauthenticated (no key set configured).
	GitHubKeys *secretscan.KeySet
}

// Services are the services of Deps the leaks function's handlers call: a
// Lambda function constructs only these (see wiring.Service).
func Services() []wiring.Service { return []wiring.Service{wiring.Keys} }

// Handlers returns the leaks function's handlers by operation.
func Handlers(d wiring.Deps, cfg Config) authz.Handlers {
	return authz.Handlers{OpReportLeak: SelfReport(d), OpReportGitHubLeak: GitHub(d, cfg)}
}

// SelfReportBody is the body of POST /v1/leaks.
type SelfReportBody struct {
	Token  *string `json:"token" required:"true"`
	URL    *string `json:"url,omitempty"`
	Source *string `json:"source,omitempty"`
}

// Received is the answer to every well-formed self-report, whatever the
// token's state, so the route tells nothing about tokens.
type Received struct {
	Status string `json:"status"`
}

// received is the one answer of a self-report.
var received = Received{Status: "received"}

// maxReportedToken bounds the token of a self-report: longer is not a
// token of ours (and is not parsed).
const maxReportedToken = 256

// SelfReport answers 202 for every well-formed report. Every report spends
// the sender's budget of failed authentications (the gate's limiter), so
// the route cannot be used to probe tokens faster than the verify route.
func SelfReport(d wiring.Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if wait := d.Gate.RetryAfter(r.RemoteAddr); wait > 0 {
			httpapi.WriteRateLimited(w, r, d.Logger, wait)
			return
		}
		in, err := httpapi.Decode[SelfReportBody](w, r)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, err)
			return
		}
		d.AuthFailures.Failed(r.RemoteAddr)
		if len(*in.Token) <= maxReportedToken {
			report := keys.LeakReport{Token: *in.Token, Reporter: keys.ReporterSelf, URL: deref(in.URL), Source: deref(in.Source)}
			if out, k, err := d.Keys.ReportLeak(r.Context(), report); err != nil {
				httpapi.WriteError(w, r, d.Logger, err)
				return
			} else if out == keys.LeakRevoked {
				logRevoked(r, d.Logger, k, keys.ReporterSelf)
			}
		}
		httpapi.WriteJSON(w, http.StatusAccepted, received)
	}
}

// GitHub answers a signed report with the protocol's optional feedback: one
// entry per match, naming the token by its SHA-256, labelled true_positive
// when it was a token of ours. An unsigned, wrongly signed or unknown-key
// report is answered 401 and nothing in it is looked at.
func GitHub(d wiring.Deps, cfg Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if wait := d.Gate.RetryAfter(r.RemoteAddr); wait > 0 {
			httpapi.WriteRateLimited(w, r, d.Logger, wait)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			httpapi.WriteError(w, r, d.Logger, fault.New(fault.CodeUnsupportedMediaType, "send the report as application/json"))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxGitHubBody))
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, fault.New(fault.CodePayloadTooLarge, "a report holds at most %d bytes", MaxGitHubBody))
			return
		}
		if err := verifySignature(r, cfg, body); err != nil {
			d.AuthFailures.Failed(r.RemoteAddr)
			if errors.Is(err, secretscan.ErrUnauthenticated) {
				httpapi.WriteError(w, r, d.Logger, fault.New(fault.CodeUnauthenticated, "the report is not signed by a GitHub secret scanning key"))
				return
			}
			httpapi.WriteError(w, r, d.Logger, fault.Wrap(err, fault.CodeUnavailable, "GitHub's public keys cannot be read now: send the report again later"))
			return
		}
		matches, err := secretscan.ParseReport(body)
		if err != nil {
			httpapi.WriteError(w, r, d.Logger, fault.New(fault.CodeMalformedJSON, "the report must be a JSON array of at most %d matches", secretscan.MaxMatches))
			return
		}
		feedback := make([]secretscan.Feedback, 0, len(matches))
		for _, m := range matches {
			out := keys.LeakNotOurs
			if len(m.Token) <= maxReportedToken {
				var k *keys.Key
				out, k, err = d.Keys.ReportLeak(r.Context(), keys.LeakReport{Token: m.Token, Reporter: keys.ReporterGitHub, URL: m.URL, Source: m.Source})
				if err != nil {
					httpapi.WriteError(w, r, d.Logger, err)
					return
				}
				if out == keys.LeakRevoked {
					logRevoked(r, d.Logger, k, keys.ReporterGitHub)
				}
			}
			feedback = append(feedback, secretscan.FeedbackFor(m, out.Ours()))
		}
		httpapi.WriteJSON(w, http.StatusOK, feedback)
	}
}

func verifySignature(r *http.Request, cfg Config, body []byte) error {
	if cfg.GitHubKeys == nil {
		return secretscan.ErrUnauthenticated
	}
	return cfg.GitHubKeys.Verify(r.Context(), r.Header.Get(HeaderKeyIdentifier), r.Header.Get(HeaderKeySignature), body)
}

// logRevoked records a revocation by key id (never the token).
func logRevoked(r *http.Request, logger *slog.Logger, k *keys.Key, reporter string) {
	logger.WarnContext(r.Context(), "API key revoked: its token was reported as leaked",
		"key_id", k.ID, "organization_id", k.OrganizationID, "reporter", reporter)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
