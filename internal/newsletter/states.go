package newsletter

import (
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// Status is a subscription's status; None is "no subscription yet".
type Status = newslettersubscription.Status

// None is the status of a subscription that does not exist yet.
const None Status = ""

// Event is what happens to a subscription.
type Event string

// The events of a subscription.
const (
	// Signup asks for the subscription; it waits for the address to confirm (double opt-in).
	Signup Event = "SIGNUP"
	// Confirm is the address confirming with the emailed link.
	Confirm Event = "CONFIRM"
	// Join subscribes at once: a signed-in person with their proven address, or staff
	// attesting consent given elsewhere.
	Join Event = "JOIN"
	// Unsubscribe leaves the list.
	Unsubscribe Event = "UNSUBSCRIBE"
)

// Events lists every event (for the exhaustive table test).
var Events = []Event{Signup, Confirm, Join, Unsubscribe}

// Statuses lists every status, None included.
var Statuses = []Status{None, newslettersubscription.StatusUNCONFIRMED, newslettersubscription.StatusCONFIRMED, newslettersubscription.StatusUNSUBSCRIBED}

const (
	unconfirmed  = newslettersubscription.StatusUNCONFIRMED
	confirmed    = newslettersubscription.StatusCONFIRMED
	unsubscribed = newslettersubscription.StatusUNSUBSCRIBED
)

// Next is the transition table of a subscription: the status after e happens in from, or
// a refusal (INVALID_STATE). A result equal to from changes nothing (a signup to a list
// already confirmed sends no email; leaving twice is leaving once).
func Next(from Status, e Event) (Status, error) {
	switch e {
	case Signup:
		if from == confirmed {
			return confirmed, nil
		}
		return unconfirmed, nil
	case Join:
		return confirmed, nil
	case Confirm:
		switch from {
		case unconfirmed, confirmed:
			return confirmed, nil
		case unsubscribed:
			return from, apperr.Invalid(apperr.CodeInvalidState, "You left this list after asking to join it; subscribe again to rejoin.")
		}
		return from, apperr.Invalid(apperr.CodeInvalidState, "There is no subscription to confirm.")
	case Unsubscribe:
		if from == None {
			return from, apperr.Invalid(apperr.CodeInvalidState, "You are not subscribed to this list.")
		}
		return unsubscribed, nil
	}
	return from, apperr.Invalid(apperr.CodeInvalidState, "This cannot be done to a subscription.")
}
