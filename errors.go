package parley

import (
	"errors"
	"fmt"
	"time"
)

// Code is the closed set of error kinds. Each maps to one HTTP status in
// httpapi and appears verbatim as error.code on the wire (API-CORE.md).
type Code string

const (
	CodeInvalid               Code = "invalid"
	CodeUnauthenticated       Code = "unauthenticated"
	CodeForbidden             Code = "forbidden"
	CodeStepUpRequired        Code = "step_up_required"
	CodeMFARequired           Code = "mfa_required"
	CodeMFAEnrollmentRequired Code = "mfa_enrollment_required"
	CodeNotFound              Code = "not_found"
	CodeConflict              Code = "conflict"
	CodeLocked                Code = "locked"
	CodeRateLimited           Code = "rate_limited"
	CodeTooLarge              Code = "too_large"
	CodeUnavailable           Code = "unavailable"
	CodeInternal              Code = "internal"
)

// CodePasswordChangeRequired: the password expired (A3); the session may
// only change it, read "me" and log out.
const CodePasswordChangeRequired Code = "password_change_required"

// Error is the one error type of Parley. Message is safe to show to the
// caller; Err is the cause, for logs only, and never leaves the server.
type Error struct {
	Code    Code
	Message string
	Op      string // operation, e.g. "chat.Send"; for logs
	Err     error  // underlying cause; for logs
	// RetryAfter, for CodeRateLimited and CodeLocked, tells the caller when
	// to try again (HTTP Retry-After, I1).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a message for people.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure. Its cause is logged, never shown.
func Internal(op string, err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Op: op, Err: err}
}

// ErrorCode returns the code of err: the Code of the first *Error in its
// chain, or CodeInternal for anything else.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err. Errors that are not
// *Error never reveal their text.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// Sentinel-style constructors used across packages.
var (
	ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict = &Error{Code: CodeConflict, Message: "already exists"}
)

// IsNotFound reports whether err has code not_found.
func IsNotFound(err error) bool { return ErrorCode(err) == CodeNotFound }

// RetryAfter returns how long the caller should wait before retrying err,
// or zero.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
