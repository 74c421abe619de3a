// Package httpapi is the HTTP plumbing every handler shares: problem+json
// errors, strict JSON request decoding, JSON responses, the guard that
// authenticates and authorizes a route from the route table, and the router
// that mounts handlers by operation.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/dotenv/apikeys/shared/fault"
)

// Problem is an RFC 9457 problem document with the service's stable code.
type Problem struct {
	Type   string             `json:"type"`
	Title  string             `json:"title"`
	Status int                `json:"status"`
	Detail string             `json:"detail"`
	Code   fault.Code         `json:"code"`
	Errors []fault.FieldError `json:"errors,omitempty"`
}

// statusOf maps each code to its HTTP status: the one place that does.
var statusOf = map[fault.Code]int{
	fault.CodeMalformedJSON:        http.StatusBadRequest,
	fault.CodeValidation:           http.StatusBadRequest,
	fault.CodeUnauthenticated:      http.StatusUnauthorized,
	fault.CodeForbidden:            http.StatusForbidden,
	fault.CodeNotFound:             http.StatusNotFound,
	fault.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	fault.CodeConflict:             http.StatusConflict,
	fault.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	fault.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	fault.CodeRateLimited:          http.StatusTooManyRequests,
	fault.CodeInternal:             http.StatusInternalServerError,
	fault.CodeUnavailable:          http.StatusServiceUnavailable,
	fault.CodeLastOwnerKey:         http.StatusConflict,
	fault.CodeKeyExpired:           http.StatusConflict,
	fault.CodeKeyQuotaExceeded:     http.StatusConflict,
	fault.CodeIPNotAllowed:         http.StatusForbidden,
}

// StatusOf returns the HTTP status for a code.
func StatusOf(c fault.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ProblemOf builds the public problem for an error. Internal causes never
// reach it: a 5xx says only what went wrong in general terms.
func ProblemOf(err error) Problem {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		if errors.Is(err, context.DeadlineExceeded) {
			fe = &fault.Error{Code: fault.CodeUnavailable}
		} else {
			fe = &fault.Error{Code: fault.CodeInternal}
		}
	}
	status := StatusOf(fe.Code)
	detail := fe.Message
	switch {
	case fe.Code == fault.CodeInternal:
		detail = "something went wrong on our side; try again later"
	case fe.Code == fault.CodeUnavailable && detail == "":
		detail = "the service is temporarily unavailable; try again shortly"
	case detail == "":
		detail = http.StatusText(status)
	}
	return Problem{
		Type:   "https://docs.dotenv.org/errors/" + string(fe.Code),
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   fe.Code,
		Errors: fe.Fields,
	}
}

// WriteError answers err as problem+json. Server-side failures are logged
// with their cause; the cause never reaches the client.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	p := ProblemOf(err)
	if p.Status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "error", err)
	}
	if p.Code == fault.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dotenv"`)
	}
	writeJSON(w, p.Status, "application/problem+json", p)
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, "application/json", v)
}

// WriteJSONBytes answers an already encoded JSON document with status.
func WriteJSONBytes(w http.ResponseWriter, status int, b []byte) {
	setHeaders(w.Header(), "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteNoContent answers 204 with the same caching headers as every other
// answer.
func WriteNoContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every response type marshals; this is a programming error.
		status, b = http.StatusInternalServerError, []byte(`{"type":"https://docs.dotenv.org/errors/internal","title":"Internal Server Error","status":500,"detail":"response encoding failed","code":"internal"}`)
		contentType = "application/problem+json"
	}
	setHeaders(w.Header(), contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// setHeaders sets the headers every JSON answer carries.
func setHeaders(h http.Header, contentType string) {
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}
