package apperr

import (
	"errors"
	"fmt"
)

// Code is an error kind, as shown in a GraphQL error's extensions.code.
type Code string

// Codes (ARCHITECTURE §6.10).
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadRequest      Code = "BAD_REQUEST"
	Conflict        Code = "CONFLICT"
	Internal        Code = "INTERNAL"
	// InvalidCursor is a pagination cursor (after, before) that this API did not give out.
	InvalidCursor Code = "INVALID_CURSOR"
	// Unavailable means the database could not be reached or could not take the work right
	// now: the same request may succeed a moment later (HTTP 503 with Retry-After).
	Unavailable Code = "UNAVAILABLE"
)

// Error is an error of a known kind with a message safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Err is the cause, for logs only; never shown.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error by code, so errors.Is(err, apperr.ErrForbidden) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrUnauthenticated = &Error{Code: Unauthenticated}
	ErrForbidden       = &Error{Code: Forbidden}
	ErrNotFound        = &Error{Code: NotFound}
	ErrBadRequest      = &Error{Code: BadRequest}
	ErrConflict        = &Error{Code: Conflict}
)

// New returns an error of kind code with a message for the caller.
func New(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind code with a message for the caller and a cause for the logs.
func Wrap(code Code, err error, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// KindOf returns the code of err, or Internal when err is not an *Error.
func KindOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the caller-safe message of err, or a generic one for internal errors.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}
