// Package fault defines the errors the whole service shares: a small set of
// stable codes, a public message kept apart from the internal cause, and the
// offending fields. The HTTP layer maps codes to statuses in one place.
package fault

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code (docs/http-api.md, "Errors").
type Code string

// The general codes (docs/http-api.md, "Errors").
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

// Codes of the key lifecycle rules (docs/design.md, "Limits and lifecycle
// rules"); all three answer 409.
const (
	// CodeLastOwnerKey: the change would leave the organization without an
	// owner key (an allow-all key that never expires).
	CodeLastOwnerKey Code = "last_owner_key"
	// CodeKeyExpired: an expired key can only be shown or deleted.
	CodeKeyExpired Code = "key_expired"
	// CodeKeyQuotaExceeded: the organization has as many keys as its quota.
	CodeKeyQuotaExceeded Code = "key_quota_exceeded"
)

// CodeIPNotAllowed (403): the API key may not be used from the client's
// address (docs/security.md, "Network allowlists").
const CodeIPNotAllowed Code = "ip_not_allowed"

// FieldError names one offending request field, with a stable code saying
// what is wrong with it (see the Field* constants) and a message for people.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Stable per-field codes (the "code" of each entry of a problem's "errors").
const (
	// FieldInvalid: the value breaks a rule its message names.
	FieldInvalid = "invalid"
	// FieldRequired: a required field is missing.
	FieldRequired = "required"
	// FieldUnknown: the field is not part of the request's schema.
	FieldUnknown = "unknown_field"
	// FieldType: the value has the wrong JSON type.
	FieldType = "wrong_type"
	// FieldOutOfRange: a number, time or length beyond its bound.
	FieldOutOfRange = "out_of_range"
	// FieldConflict: the value clashes with stored state (a sibling name).
	FieldConflict = "conflict"
	// FieldForbidden: the caller may not ask for this value (escalation).
	FieldForbidden = "forbidden"
)

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

// Invalid returns a validation error naming one field (field code
// FieldInvalid).
func Invalid(field, format string, args ...any) *Error {
	return InvalidAs(field, FieldInvalid, format, args...)
}

// InvalidAs returns a validation error naming one field with a field code.
func InvalidAs(field, code, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: CodeValidation, Message: "the request is not valid", Fields: []FieldError{{Field: field, Code: code, Message: msg}}}
}

// Fields collects the field errors of one request so that all of them are
// answered at once. The zero value is ready to use.
type Fields struct {
	list []FieldError
}

// Add records one field error.
func (f *Fields) Add(field, code, format string, args ...any) {
	f.list = append(f.list, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Check records the field errors of err when it is a validation error and
// returns nil; any other error (or nil) is returned as is, for the caller
// to stop on.
func (f *Fields) Check(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeValidation && len(e.Fields) > 0 {
		f.list = append(f.list, e.Fields...)
		return nil
	}
	return err
}

// Empty reports whether no field error was recorded.
func (f *Fields) Empty() bool { return len(f.list) == 0 }

// Err returns a validation error holding every recorded field error, or nil
// when there is none.
func (f *Fields) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &Error{Code: CodeValidation, Message: "the request is not valid", Fields: append([]FieldError(nil), f.list...)}
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

// UnreadableError is what a store answers for a stored item (a key, a
// webhook endpoint) it cannot decode: the fields it could still read (any
// may be empty or zero) and the decoding error. It is an internal fault
// (500, with the item kind's public message) to every caller but the
// item's delete, which uses ID, OrganizationID and Version to remove it
// when the caller's organization matches. It never holds a secret: Cause
// is a decoding error.
type UnreadableError struct {
	// Kind names the item ("key", "webhook endpoint").
	Kind           string
	ID             string
	OrganizationID string
	Version        int64
	Cause          error
	internal       *Error
}

// Unreadable returns the error of a stored item of kind that could not be
// decoded; message is the public sentence of its 500.
func Unreadable(kind, message, id, org string, version int64, cause error) *UnreadableError {
	return &UnreadableError{Kind: kind, ID: id, OrganizationID: org, Version: version, Cause: cause,
		internal: Wrap(cause, CodeInternal, message)}
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("stored %s %s (organization %s, version %d) cannot be read: %v", e.Kind, e.ID, e.OrganizationID, e.Version, e.Cause)
}

// Unwrap returns an internal fault wrapping the decoding error, so that
// CodeOf answers internal.
func (e *UnreadableError) Unwrap() error { return e.internal }

// UnreadableOf returns the UnreadableError in err's chain, or nil.
func UnreadableOf(err error) *UnreadableError {
	var u *UnreadableError
	if errors.As(err, &u) {
		return u
	}
	return nil
}
