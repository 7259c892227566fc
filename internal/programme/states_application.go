package programme

import (
	"fmt"

	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// ApplicationEvent is something that happens to an application.
type ApplicationEvent string

// Events of an application. A draft is created while the call accepts applications.
const (
	ApplicationEdit           ApplicationEvent = "edit"            // the trainee changes the draft (fields, documents, referees): stays DRAFT
	ApplicationSubmit         ApplicationEvent = "submit"          // the trainee: DRAFT → SUBMITTED (when nothing is missing)
	ApplicationWithdraw       ApplicationEvent = "withdraw"        // the trainee: DRAFT, SUBMITTED or ELIGIBLE → WITHDRAWN
	ApplicationMarkEligible   ApplicationEvent = "mark_eligible"   // staff: SUBMITTED or INELIGIBLE → ELIGIBLE
	ApplicationMarkIneligible ApplicationEvent = "mark_ineligible" // staff: SUBMITTED or ELIGIBLE → INELIGIBLE
)

// ApplicationEvents lists every event, for tests that must decide each one.
var ApplicationEvents = []ApplicationEvent{ApplicationEdit, ApplicationSubmit, ApplicationWithdraw, ApplicationMarkEligible, ApplicationMarkIneligible}

// ApplicationStatuses lists every status of an application.
var ApplicationStatuses = []application.Status{
	application.StatusDRAFT, application.StatusSUBMITTED, application.StatusELIGIBLE, application.StatusINELIGIBLE, application.StatusWITHDRAWN,
}

// ApplicationFacts are what the service read before deciding.
type ApplicationFacts struct {
	// CallStatus is the status of the application's call.
	CallStatus call.Status
	// Accepting says the call accepts applications now (AcceptingApplications).
	Accepting bool
	// Deadline is the call's deadline as people read it, with its zone, for messages.
	Deadline string
}

// NextApplicationStatus decides ev for an application in status from: the status it moves
// to, or a refusal (INVALID_STATE, no field named).
//
//   - A DRAFT changes, and is submitted, only while the call accepts applications (OPEN,
//     between its opening and its deadline); what a submission still lacks is Missing's.
//   - The trainee withdraws a draft, submitted or eligible application until the match is
//     published (the call MATCHED or COMPLETED): then a placement is declined instead.
//   - Staff decide eligibility of a submitted application, and change their decision,
//     while the call is CLOSED or in REVIEW.
func NextApplicationStatus(from application.Status, ev ApplicationEvent, f ApplicationFacts) (application.Status, error) {
	var errs apperr.UserErrors
	notAccepting := fmt.Sprintf("The call is not accepting applications (deadline %s).", f.Deadline)
	switch ev {
	case ApplicationEdit:
		switch {
		case from != application.StatusDRAFT:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This application is %s; only a draft can change.", from))
		case !f.Accepting:
			errs.Add(apperr.CodeInvalidState, notAccepting)
		}
		return from, errs.Err()
	case ApplicationSubmit:
		if from != application.StatusDRAFT {
			return from, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf("This application is %s already.", from))
		}
		if !f.Accepting {
			return from, apperr.Invalid(apperr.CodeInvalidState, notAccepting)
		}
		return application.StatusSUBMITTED, nil
	case ApplicationWithdraw:
		switch st := f.CallStatus; {
		case from == application.StatusWITHDRAWN || from == application.StatusINELIGIBLE:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This application is %s already.", from))
		case st == call.StatusMATCHED || st == call.StatusCOMPLETED:
			errs.Add(apperr.CodeInvalidState, "The match has been published; decline or cancel your placement instead.")
		}
		if err := errs.Err(); err != nil {
			return from, err
		}
		return application.StatusWITHDRAWN, nil
	case ApplicationMarkEligible, ApplicationMarkIneligible:
		to := application.StatusELIGIBLE
		if ev == ApplicationMarkIneligible {
			to = application.StatusINELIGIBLE
		}
		switch st := f.CallStatus; {
		case from != application.StatusSUBMITTED && from != application.StatusELIGIBLE && from != application.StatusINELIGIBLE:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This application is %s; only a submitted application is decided.", from))
		case st != call.StatusCLOSED && st != call.StatusREVIEW:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("The call is %s; eligibility is decided after it closes and before ranking.", st))
		case from == to:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This application is %s already.", from))
		}
		if err := errs.Err(); err != nil {
			return from, err
		}
		return to, nil
	}
	return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
}
