package mail

import (
	"errors"
	"fmt"
	"net/textproto"
)

// SendError is the failure of one Send, classified for the outbox's retry policy
// (ARCHITECTURE §6.12): a permanent failure fails the row, anything else is retried with
// back-off.
type SendError struct {
	// Permanent is true when sending the same message again cannot succeed: the relay
	// answered a mail transaction command with a 5xx reply, or the message itself is
	// malformed (Code 0).
	Permanent bool
	// Code is the SMTP reply code, or 0 when no reply was involved (a dial, TLS or I/O
	// failure, a timeout, a malformed message).
	Code int
	// Stage is the step of the SMTP transaction that failed ("connect", "MAIL FROM",
	// "RCPT TO", "DATA", "end of DATA"), or "" when none was reached.
	Stage string
	// Err is the underlying error.
	Err error
}

// Error describes the failure with its class and reply code.
func (e *SendError) Error() string {
	class := "temporary"
	if e.Permanent {
		class = "permanent"
	}
	if e.Code != 0 {
		return fmt.Sprintf("%s send failure (smtp %d): %v", class, e.Code, e.Err)
	}
	return fmt.Sprintf("%s send failure: %v", class, e.Err)
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is (or wraps) a permanent SendError. Every other error —
// a 4xx reply, connection refused, a timeout, EOF, a TLS or dial problem, an error that is
// not a SendError at all — is temporary.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// IsHardBounce reports whether err is (or wraps) a permanent refusal of the recipient or
// the message by the relay: a 5xx reply to RCPT TO or to DATA (RFC 5321 §4.2.1). A 5xx to
// MAIL FROM is about the sender, not the address, and is not a bounce.
func IsHardBounce(err error) bool {
	var se *SendError
	if !errors.As(err, &se) || !se.Permanent || se.Code < 500 || se.Code > 599 {
		return false
	}
	switch stage(se.Stage) {
	case stageRcpt, stageData, stageDataEnd:
		return true
	}
	return false
}

// replyCode returns the SMTP reply code carried by err, or 0. go-mail's smtp client (which
// the SMTP transport drives directly, see smtp.go) reports every unexpected reply as a
// *net/textproto.Error.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// transactionError classifies a failure of the MAIL, RCPT or DATA step of one message:
// a 5xx reply is about this message and permanent; a 4xx reply, and anything that is not a
// reply, is temporary.
func transactionError(err error) *SendError {
	code := replyCode(err)
	return &SendError{Permanent: code >= 500 && code <= 599, Code: code, Err: err}
}

// connectionError classifies a failure to reach or set up the relay (dial, greeting,
// EHLO, STARTTLS, AUTH). Even a 5xx reply here is temporary: it says the relay or our
// credentials are wrong, not the message, and failing every queued row for it would lose
// mail that goes out fine once the operator fixes the relay.
func connectionError(err error) *SendError {
	return &SendError{Code: replyCode(err), Err: err}
}

// messageError marks a message that cannot be rendered: no retry can fix it, so it is
// permanent although no server said so.
func messageError(err error) *SendError {
	return &SendError{Permanent: true, Err: err}
}
