package apperr

import (
	"errors"
	"strings"
)

// UserCode says why input was refused; the values match the GraphQL enum UserErrorCode.
type UserCode string

// User error codes.
const (
	CodeInvalid      UserCode = "INVALID"
	CodeRequired     UserCode = "REQUIRED"
	CodeTooLong      UserCode = "TOO_LONG"
	CodeTaken        UserCode = "TAKEN"
	CodeNotFound     UserCode = "NOT_FOUND"
	CodeExpired      UserCode = "EXPIRED"
	CodeAlreadyUsed  UserCode = "ALREADY_USED"
	CodeRateLimited  UserCode = "RATE_LIMITED"
	CodeInvalidState UserCode = "INVALID_STATE"
	// CodeConflictOfInterest: the person is a party to the record (a reviewer of their own
	// application, or of one listing a centre they coordinate).
	CodeConflictOfInterest UserCode = "CONFLICT_OF_INTEREST"
)

// UserError is a problem with a mutation's input that the user can fix. A service returns
// UserErrors before it writes anything, so the transaction commits nothing.
type UserError struct {
	// Field is the path to the input field, e.g. ["input", "email"]; nil for the whole input.
	Field   []string
	Code    UserCode
	Message string
}

// UserErrors is a list of user errors; it is an error so services can return it.
type UserErrors []UserError

// Error implements error.
func (u UserErrors) Error() string {
	parts := make([]string, len(u))
	for i, e := range u {
		parts[i] = strings.Join(e.Field, ".") + ": " + e.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add appends a user error for the field path.
func (u *UserErrors) Add(code UserCode, message string, field ...string) {
	*u = append(*u, UserError{Field: field, Code: code, Message: message})
}

// Err returns u as an error, or nil when empty.
func (u UserErrors) Err() error {
	if len(u) == 0 {
		return nil
	}
	return u
}

// AsUserErrors reports whether err carries user errors, and returns them.
func AsUserErrors(err error) (UserErrors, bool) {
	var u UserErrors
	if errors.As(err, &u) {
		return u, true
	}
	return nil, false
}

// Invalid returns a single user error as an error.
func Invalid(code UserCode, message string, field ...string) error {
	return UserErrors{{Field: field, Code: code, Message: message}}
}

// OnField returns err with field set on each of its user errors that names no field, so a
// pure decision (a transition table) can refuse without knowing which input named the
// record. Errors that carry no user errors are returned unchanged.
func OnField(err error, field ...string) error {
	u, ok := AsUserErrors(err)
	if !ok {
		return err
	}
	out := make(UserErrors, len(u))
	for i, e := range u {
		if e.Field == nil {
			e.Field = field
		}
		out[i] = e
	}
	return out
}

// AddRefusal adds the user errors of err (a transition table's refusal), placed on field
// when they name none. Anything else in err is not a user error and is left out.
func (u *UserErrors) AddRefusal(err error, field ...string) {
	refused, _ := AsUserErrors(OnField(err, field...))
	*u = append(*u, refused...)
}

// LostRace is the CONFLICT of a conditional update that changed nothing: someone else
// changed the record (what, e.g. "call") between this request's read and its write.
func LostRace(what string) error {
	return New(Conflict, "the %s changed meanwhile; reload it", what)
}
