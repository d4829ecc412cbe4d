// Package domain holds what Miyabi is about, free of HTTP and SQL: the error codes every
// layer speaks, the agent catalogue, the task state machine and workflow validation.
package domain

import (
	"errors"
	"fmt"
)

// Code says what kind of failure an Error is; the HTTP layer maps each to one status.
type Code string

const (
	CodeInvalid      Code = "invalid"      // 422: the request is well-formed but wrong
	CodeBadRequest   Code = "bad_request"  // 400: the request cannot be read
	CodeNotFound     Code = "not_found"    // 404, also for other organizations' objects
	CodeConflict     Code = "conflict"     // 409: the state of things forbids it
	CodeUnauthorized Code = "unauthorized" // 401
	CodeForbidden    Code = "forbidden"    // 403
	CodeUnavailable  Code = "unavailable"  // 503: a dependency (the database) is down
	CodeBadGateway   Code = "bad_gateway"  // 502: an upstream (GitHub) failed
	CodeInternal     Code = "internal"     // 500: never shown in detail
	CodeTooLarge     Code = "too_large"    // 413
	CodeRateLimited  Code = "rate_limited" // 429
)

// FieldError names one field of the request that is wrong and why.
type FieldError struct {
	Field   string // JSON path, e.g. "body.definition.nodes[2].agent_type"
	Message string
	Value   any
}

// Error is an error a user can act on: its Message is safe to show.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a 422 naming the field at fault.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: CodeInvalid, Message: field + ": " + msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// NotFound is a 404 for the named kind of object.
func NotFound(what string) *Error { return Errorf(CodeNotFound, "%s not found", what) }

// ErrorCode returns the code of err, CodeInternal for anything that is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
