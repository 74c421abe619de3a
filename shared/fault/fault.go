// Package fault defines the errors the whole service shares: a small set of
// stable codes, a public message kept apart from the internal cause, and the
// offending fields. The HTTP layer maps codes to statuses in one place.
package fault

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code (http-api.md).
type Code string

// The codes of http-api.md.
const (
	CodeMalformedJSON        Code = "malformed_json"
	CodeValidation           Code = "validation_failed"
	CodeUnauthenticated      Code = "unauthenticated"
	CodeForbidden            Code = "forbidden"
	CodeNotFound             Code = "not_found"
	CodeMethodNotAllowed     Code = "method_not_allowed"
	CodeConflict             Code = "conflict"
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeRateLimited          Code = "rate_limited"
	CodeInternal             Code = "internal"
	CodeUnavailable          Code = "unavailable"
)

// FieldError names one offending request field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error with a code, a message safe to show to the client, the
// offending fields, and an internal cause that is only ever logged.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrNotFound) true for every *Error with the same
// code as a sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Cause == nil && t.Fields == nil && t.Code == e.Code
}

// Sentinels for errors.Is; stores return them (wrapped) for the common cases.
var (
	ErrNotFound    = &Error{Code: CodeNotFound}
	ErrConflict    = &Error{Code: CodeConflict}
	ErrUnavailable = &Error{Code: CodeUnavailable}
)

// New returns an error with a code and a public message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code, a public message and an internal cause.
func Wrap(cause error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, Cause: cause}
}

// Invalid returns a validation error naming one field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: CodeValidation, Message: "the request is not valid", Fields: []FieldError{{Field: field, Message: msg}}}
}

// NotFound returns a not_found error with a public message.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// CodeOf returns the code of err: the code of the first *Error in its chain,
// or CodeInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
