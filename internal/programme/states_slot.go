package programme

import (
	"fmt"

	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// SlotEvent is something that happens to a host slot.
type SlotEvent string

// Events of a slot. A slot is created PROPOSED (the call must allow it: CallOfferSlot).
const (
	SlotApprove  SlotEvent = "approve"  // staff: PROPOSED → APPROVED
	SlotReject   SlotEvent = "reject"   // staff: PROPOSED → REJECTED
	SlotWithdraw SlotEvent = "withdraw" // the centre or staff: PROPOSED or APPROVED → WITHDRAWN
)

// SlotEvents lists every event, for tests that must decide each one.
var SlotEvents = []SlotEvent{SlotApprove, SlotReject, SlotWithdraw}

// SlotStatuses lists every status of a slot.
var SlotStatuses = []hostslot.Status{hostslot.StatusPROPOSED, hostslot.StatusAPPROVED, hostslot.StatusREJECTED, hostslot.StatusWITHDRAWN}

// SlotFacts are what the service read before deciding.
type SlotFacts struct {
	// CallStatus is the status of the slot's call.
	CallStatus call.Status
	// Held says a placement in the slot is offered, accepted, confirmed or completed.
	Held bool
}

// NextSlotStatus decides ev for a slot in status from: the status it moves to, or a
// refusal (INVALID_STATE, no field named). Staff approve or reject a PROPOSED slot while
// its call is a draft or open; a PROPOSED or APPROVED slot is withdrawn while nobody holds
// a place in it and its call is neither COMPLETED nor CANCELLED.
func NextSlotStatus(from hostslot.Status, ev SlotEvent, f SlotFacts) (hostslot.Status, error) {
	var errs apperr.UserErrors
	switch ev {
	case SlotApprove, SlotReject:
		switch st := f.CallStatus; {
		case from != hostslot.StatusPROPOSED:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This slot is %s; only a proposed slot can be approved or rejected.", from))
		case st != call.StatusDRAFT && st != call.StatusOPEN:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("The call is %s; slots are decided while it is a draft or open.", st))
		}
		if err := errs.Err(); err != nil {
			return from, err
		}
		if ev == SlotApprove {
			return hostslot.StatusAPPROVED, nil
		}
		return hostslot.StatusREJECTED, nil
	case SlotWithdraw:
		switch st := f.CallStatus; {
		case from != hostslot.StatusPROPOSED && from != hostslot.StatusAPPROVED:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This slot is %s already.", from))
		case f.Held:
			errs.Add(apperr.CodeInvalidState, "Trainees hold places in this slot; cancel their placements first.")
		case st == call.StatusCOMPLETED || st == call.StatusCANCELLED:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("The call is %s.", st))
		}
		if err := errs.Err(); err != nil {
			return from, err
		}
		return hostslot.StatusWITHDRAWN, nil
	}
	return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
}
