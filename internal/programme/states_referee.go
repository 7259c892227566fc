package programme

import (
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// RefereeStatus is where a referee request stands. It is not a column: a request is
// RECEIVED once received_at is set (RefereeStatusOf).
type RefereeStatus string

// Statuses of a referee request.
const (
	RefereeWaiting  RefereeStatus = "WAITING"  // asked; the link has not been used
	RefereeReceived RefereeStatus = "RECEIVED" // the letter arrived; the link is used up
)

// RefereeStatuses lists every status of a referee request.
var RefereeStatuses = []RefereeStatus{RefereeWaiting, RefereeReceived}

// RefereeEvent is something that happens to a referee request.
type RefereeEvent string

// Events of a referee request. It is created WAITING by the trainee's request (while the
// draft can change: ApplicationEdit).
const (
	RefereeUpload RefereeEvent = "upload" // the referee, through the link: WAITING → RECEIVED
)

// RefereeEvents lists every event, for tests that must decide each one.
var RefereeEvents = []RefereeEvent{RefereeUpload}

// RefereeFacts are what the service read before deciding.
type RefereeFacts struct {
	// Now is the service's time.
	Now time.Time
	// ExpiresAt is when the request's link stops working.
	ExpiresAt time.Time
	// CallStatus and CallClosesAt are the application's call's status and deadline.
	CallStatus   call.Status
	CallClosesAt time.Time
}

// RefereeStatusOf is r's status.
func RefereeStatusOf(r *ent.RefereeRequest) RefereeStatus {
	if r.ReceivedAt != nil {
		return RefereeReceived
	}
	return RefereeWaiting
}

// RefereeFactsOf are the facts of r, whose application's call is c, at now.
func RefereeFactsOf(r *ent.RefereeRequest, c *ent.Call, now time.Time) RefereeFacts {
	return RefereeFacts{Now: now, ExpiresAt: r.ExpiresAt, CallStatus: c.Status, CallClosesAt: c.ClosesAt}
}

// Refusals of a referee link, as the upload page says them.
const (
	refereeUsedText = "Your letter has been received already. Thank you."
	refereeOldText  = "This link has expired. Ask the trainee to send a new request."
	refereeLateText = "The call's deadline has passed, so letters can no longer be uploaded."
)

// NextRefereeStatus decides ev for a referee request in status from: the status it moves
// to, or a refusal (no field named): ALREADY_USED once the letter has arrived, EXPIRED
// when the link has expired or the call no longer accepts applications (past its deadline,
// or not OPEN), in that order.
func NextRefereeStatus(from RefereeStatus, ev RefereeEvent, f RefereeFacts) (RefereeStatus, error) {
	if ev != RefereeUpload {
		return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
	}
	switch {
	case from == RefereeReceived:
		return from, apperr.Invalid(apperr.CodeAlreadyUsed, refereeUsedText)
	case from != RefereeWaiting:
		return from, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf("Unknown status %q.", from))
	case !f.Now.Before(f.ExpiresAt):
		return from, apperr.Invalid(apperr.CodeExpired, refereeOldText)
	case !f.Now.Before(f.CallClosesAt) || f.CallStatus != call.StatusOPEN:
		return from, apperr.Invalid(apperr.CodeExpired, refereeLateText)
	}
	return RefereeReceived, nil
}
