package placement

import (
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// Event is something that happens to a placement.
type Event string

// Events of a placement. A placement is created OFFERED (a published run, or the waiting
// list).
const (
	EventAccept       Event = "accept"        // the trainee: OFFERED → ACCEPTED, before the offer's deadline, while the slot has a place
	EventDecline      Event = "decline"       // the trainee: OFFERED or ACCEPTED → DECLINED
	EventCancel       Event = "cancel"        // the host or staff: OFFERED, ACCEPTED or CONFIRMED → CANCELLED
	EventConfirm      Event = "confirm"       // the host or staff: ACCEPTED → CONFIRMED
	EventProposeDates Event = "propose_dates" // the host: other dates for an ACCEPTED or CONFIRMED placement (no change of status)
	EventAnswerDates  Event = "answer_dates"  // the trainee answers proposed dates (no change of status)
	EventExpire       Event = "expire"        // job: OFFERED → EXPIRED once the offer's deadline has passed
	EventComplete     Event = "complete"      // job: CONFIRMED → COMPLETED once its last day has passed
	EventReport       Event = "report"        // the trainee's report or the host's evaluation on a COMPLETED placement
)

// Events lists every event, for tests that must decide each one.
var Events = []Event{EventAccept, EventDecline, EventCancel, EventConfirm, EventProposeDates, EventAnswerDates, EventExpire, EventComplete, EventReport}

// Statuses lists every status of a placement.
var Statuses = []placement.Status{
	placement.StatusOFFERED, placement.StatusACCEPTED, placement.StatusCONFIRMED, placement.StatusCOMPLETED,
	placement.StatusDECLINED, placement.StatusEXPIRED, placement.StatusCANCELLED,
}

// Facts are what the service read before deciding.
type Facts struct {
	// Now is the service clock.
	Now time.Time
	// OfferDeadline is when the offer lapses; EndDate the placement's last day.
	OfferDeadline time.Time
	EndDate       vocab.Date
	// SlotFull says the slot's accepted and confirmed placements fill its capacity.
	SlotFull bool
	// HoldsOther says the trainee holds another accepted or confirmed placement in the
	// call, and the call gives a trainee one placement.
	HoldsOther bool
	// DatesProposed says the host proposed other dates that await the trainee's answer.
	DatesProposed bool
}

// Next decides ev for a placement in status from: the status it moves to (from itself for
// an event that changes no status), or a refusal: INVALID_STATE, or EXPIRED for an offer
// accepted after its deadline; no field is named. Who may cause each event is the
// service's (and access's) business, not the table's.
func Next(from placement.Status, ev Event, f Facts) (placement.Status, error) {
	refuse := func(format string, args ...any) (placement.Status, error) {
		return from, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf(format, args...))
	}
	switch ev {
	case EventAccept:
		switch {
		case from != placement.StatusOFFERED:
			return refuse("This placement is %s; only an offer can be accepted.", from)
		case !f.Now.Before(f.OfferDeadline):
			return from, apperr.Invalid(apperr.CodeExpired, "The offer's deadline has passed.")
		}
		var errs apperr.UserErrors
		if f.SlotFull {
			errs.Add(apperr.CodeInvalidState, "The slot's places have been taken.")
		}
		if f.HoldsOther {
			errs.Add(apperr.CodeInvalidState, "You hold another placement in this call; a trainee takes one.")
		}
		if err := errs.Err(); err != nil {
			return from, err
		}
		return placement.StatusACCEPTED, nil
	case EventDecline:
		if from != placement.StatusOFFERED && from != placement.StatusACCEPTED {
			return refuse("This placement is %s; an offer or an accepted placement can be declined (a confirmed one is cancelled by the host or staff).", from)
		}
		return placement.StatusDECLINED, nil
	case EventCancel:
		if from != placement.StatusOFFERED && from != placement.StatusACCEPTED && from != placement.StatusCONFIRMED {
			return refuse("This placement is %s already.", from)
		}
		return placement.StatusCANCELLED, nil
	case EventConfirm:
		if from != placement.StatusACCEPTED {
			return refuse("This placement is %s; only an accepted placement is confirmed.", from)
		}
		return placement.StatusCONFIRMED, nil
	case EventProposeDates:
		if from != placement.StatusACCEPTED && from != placement.StatusCONFIRMED {
			return refuse("This placement is %s; dates change for an accepted or confirmed placement.", from)
		}
		return from, nil
	case EventAnswerDates:
		if !f.DatesProposed || (from != placement.StatusACCEPTED && from != placement.StatusCONFIRMED) {
			return refuse("No change of dates is waiting for your answer.")
		}
		return from, nil
	case EventExpire:
		switch {
		case from != placement.StatusOFFERED:
			return refuse("This placement is %s; only an offer expires.", from)
		case f.Now.Before(f.OfferDeadline):
			return refuse("The offer's deadline has not passed yet.")
		}
		return placement.StatusEXPIRED, nil
	case EventComplete:
		switch {
		case from != placement.StatusCONFIRMED:
			return refuse("This placement is %s; only a confirmed placement is completed.", from)
		case f.EndDate >= vocab.Today(f.Now):
			return refuse("The placement runs until %s.", f.EndDate)
		}
		return placement.StatusCOMPLETED, nil
	case EventReport:
		if from != placement.StatusCOMPLETED {
			return refuse("Reports and evaluations are written once the placement is completed.")
		}
		return from, nil
	}
	return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
}
