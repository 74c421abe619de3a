package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/fault"
)

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header value, or "" when there is none.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// WriteRateLimited answers 429 (code rate_limited) with a Retry-After header
// in whole seconds, at least 1.
func WriteRateLimited(w http.ResponseWriter, r *http.Request, logger *slog.Logger, wait time.Duration) {
	secs := max(1, int64((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	WriteError(w, r, logger, fault.New(fault.CodeRateLimited, "too many failed authentications from this address; retry in %d s", secs))
}
