package programme

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
)

// CallEvent is something that happens to a call: a staff step, a deadline reached (a job),
// or a step of another record that the call's status must allow (a host ranking, a match
// run, a slot offered). NextCallStatus decides each one.
type CallEvent string

// Events of a call.
const (
	CallOpen           CallEvent = "open"            // staff: DRAFT → OPEN
	CallClose          CallEvent = "close"           // staff: OPEN → CLOSED (early only with force and a reason)
	CallDeadline       CallEvent = "deadline"        // job: OPEN → CLOSED once the application deadline has passed
	CallStartReview    CallEvent = "start_review"    // staff: CLOSED → REVIEW
	CallStartRanking   CallEvent = "start_ranking"   // staff: REVIEW → RANKING
	CallRank           CallEvent = "rank"            // a host submits its ranking: stays RANKING while ranking is open
	CallCloseRanking   CallEvent = "close_ranking"   // job: ranking closes at the ranking deadline (stays RANKING, flag set)
	CallRunMatch       CallEvent = "run_match"       // staff compute a match run: stays RANKING
	CallSetOverride    CallEvent = "set_override"    // staff pin or exclude: stays REVIEW or RANKING
	CallRemoveOverride CallEvent = "remove_override" // staff remove a pin or exclusion: stays REVIEW or RANKING
	CallPublishMatch   CallEvent = "publish_match"   // staff publish a run: RANKING → MATCHED
	CallComplete       CallEvent = "complete"        // staff: MATCHED → COMPLETED after the placement window
	CallCancel         CallEvent = "cancel"          // staff: any status before MATCHED → CANCELLED
	CallOfferSlot      CallEvent = "offer_slot"      // a host offers a slot: stays DRAFT or OPEN
)

// CallEvents lists every event, for tests that must decide each one.
var CallEvents = []CallEvent{
	CallOpen, CallClose, CallDeadline, CallStartReview, CallStartRanking, CallRank, CallCloseRanking,
	CallRunMatch, CallSetOverride, CallRemoveOverride, CallPublishMatch, CallComplete, CallCancel, CallOfferSlot,
}

// CallStatuses lists every status of a call, in the order a call moves through them.
var CallStatuses = []call.Status{
	call.StatusDRAFT, call.StatusOPEN, call.StatusCLOSED, call.StatusREVIEW, call.StatusRANKING,
	call.StatusMATCHED, call.StatusCOMPLETED, call.StatusCANCELLED,
}

// CallFacts are what the service read before deciding: plain values, so the decision is a
// pure function. Only the facts an event looks at matter (see callSteps).
type CallFacts struct {
	// Now is the service clock.
	Now time.Time
	// ClosesAt is the application deadline; TimeZone the zone it is announced in.
	ClosesAt time.Time
	TimeZone string
	// RankingDeadline is when host rankings are due (nil when not set).
	RankingDeadline *time.Time
	// RankingClosed says the ranking-deadline job has closed ranking.
	RankingClosed bool
	// PlacementEnd is the last day of the placement window.
	PlacementEnd vocab.Date
	// ApprovedSlot says the call has at least one approved slot.
	ApprovedSlot bool
	// Force and Reason are what staff gave to close a call before its deadline (Reason
	// already trimmed and checked for length).
	Force  bool
	Reason string
}

// callStep is one row of the call's table: the statuses an event applies in, the status
// it leads to ("" for no change), what it says in any other status, and the checks of the
// facts.
type callStep struct {
	from []call.Status
	to   call.Status
	// wrongState is the message in a status not in from (%s is the status); "" for the
	// generic "This call is %s; this step needs it to be …".
	wrongState string
	check      func(f CallFacts) apperr.UserErrors
}

// callSteps is the call's transition table.
var callSteps = map[CallEvent]callStep{
	CallOpen: {from: []call.Status{call.StatusDRAFT}, to: call.StatusOPEN, check: func(f CallFacts) (errs apperr.UserErrors) {
		if !f.ApprovedSlot {
			errs.Add(apperr.CodeInvalidState, "A call opens with at least one approved slot; approve a host centre's slot first.")
		}
		if !f.ClosesAt.After(f.Now) {
			errs.Add(apperr.CodeInvalidState, "The deadline has passed; move it later before opening the call.")
		}
		return errs
	}},
	CallClose: {from: []call.Status{call.StatusOPEN}, to: call.StatusCLOSED, check: func(f CallFacts) (errs apperr.UserErrors) {
		early := f.Now.Before(f.ClosesAt)
		switch {
		case early && !f.Force:
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The deadline is %s (%s); close earlier only with force and a reason.",
				f.ClosesAt.In(loadZone(f.TimeZone)).Format(check.LocalLayout), f.TimeZone), check.Path("force")...)
		case early && f.Reason == "":
			errs.Add(apperr.CodeRequired, "Say why the call closes before its deadline.", check.Path("reason")...)
		}
		return errs
	}},
	CallDeadline: {from: []call.Status{call.StatusOPEN}, to: call.StatusCLOSED, check: func(f CallFacts) (errs apperr.UserErrors) {
		if f.Now.Before(f.ClosesAt) {
			errs.Add(apperr.CodeInvalidState, "The deadline has not passed yet.")
		}
		return errs
	}},
	CallStartReview: {from: []call.Status{call.StatusCLOSED}, to: call.StatusREVIEW},
	CallStartRanking: {from: []call.Status{call.StatusREVIEW}, to: call.StatusRANKING, check: func(f CallFacts) (errs apperr.UserErrors) {
		if f.RankingDeadline == nil || !f.RankingDeadline.After(f.Now) {
			errs.Add(apperr.CodeInvalidState, "Set a ranking deadline in the future before hosts rank their applicants.")
		}
		return errs
	}},
	CallRank: {from: []call.Status{call.StatusRANKING}, wrongState: "The call is %s; hosts rank their applicants while it is in RANKING.",
		check: func(f CallFacts) (errs apperr.UserErrors) {
			if f.RankingClosed || (f.RankingDeadline != nil && !f.Now.Before(*f.RankingDeadline)) {
				msg := "Ranking is closed."
				if f.RankingDeadline != nil {
					msg = fmt.Sprintf("The ranking deadline, %s (%s), has passed.",
						f.RankingDeadline.In(loadZone(f.TimeZone)).Format(check.LocalLayout), f.TimeZone)
				}
				errs.Add(apperr.CodeInvalidState, msg)
			}
			return errs
		}},
	CallCloseRanking: {from: []call.Status{call.StatusRANKING}, check: func(f CallFacts) (errs apperr.UserErrors) {
		switch {
		case f.RankingClosed:
			errs.Add(apperr.CodeInvalidState, "Ranking is closed already.")
		case f.RankingDeadline == nil || f.Now.Before(*f.RankingDeadline):
			errs.Add(apperr.CodeInvalidState, "The ranking deadline has not passed yet.")
		}
		return errs
	}},
	CallRunMatch:       {from: []call.Status{call.StatusRANKING}, wrongState: "The call is %s; the match runs while it is in RANKING."},
	CallSetOverride:    {from: []call.Status{call.StatusREVIEW, call.StatusRANKING}, wrongState: "The call is %s; overrides are set before the match, in REVIEW or RANKING."},
	CallRemoveOverride: {from: []call.Status{call.StatusREVIEW, call.StatusRANKING}, wrongState: "The call is %s; overrides change only before the match."},
	CallPublishMatch: {from: []call.Status{call.StatusRANKING}, to: call.StatusMATCHED,
		wrongState: "The call is %s; a match is published once, while the call is in RANKING."},
	CallComplete: {from: []call.Status{call.StatusMATCHED}, to: call.StatusCOMPLETED, check: func(f CallFacts) (errs apperr.UserErrors) {
		if vocab.Today(f.Now) <= f.PlacementEnd {
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("The placement window runs until %s.", f.PlacementEnd))
		}
		return errs
	}},
	CallCancel: {from: []call.Status{call.StatusDRAFT, call.StatusOPEN, call.StatusCLOSED, call.StatusREVIEW, call.StatusRANKING},
		to: call.StatusCANCELLED},
	CallOfferSlot: {from: []call.Status{call.StatusDRAFT, call.StatusOPEN}, wrongState: "This call is %s; slots are offered while it is a draft or open."},
}

// NextCallStatus decides ev for a call in status from: the status the call moves to (from
// itself for an event that changes no status), or a refusal as apperr.UserErrors
// (INVALID_STATE for a status or deadline that does not allow it; INVALID or REQUIRED for
// what staff must add, on the field named). State refusals name no field; the service
// puts them on its input's id (apperr.OnField). It never reads anything but its arguments.
//
// The table (callSteps), in words: a DRAFT opens with an approved slot and a deadline
// ahead; an OPEN call closes at its deadline (the job) or earlier by force with a reason;
// CLOSED goes to REVIEW, REVIEW to RANKING with a ranking deadline ahead; in RANKING hosts
// rank until the ranking deadline (or until the job closed ranking), staff run the match
// and publish a run, which makes the call MATCHED; a MATCHED call completes after its
// placement window; any call before MATCHED can be cancelled. Slots are offered while a
// call is a draft or open, overrides set in REVIEW or RANKING.
func NextCallStatus(from call.Status, ev CallEvent, f CallFacts) (call.Status, error) {
	step, ok := callSteps[ev]
	if !ok {
		return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
	}
	if !slices.Contains(step.from, from) {
		msg := step.wrongState
		if msg == "" {
			names := make([]string, len(step.from))
			for i, s := range step.from {
				names[i] = string(s)
			}
			return from, apperr.Invalid(apperr.CodeInvalidState,
				fmt.Sprintf("This call is %s; this step needs it to be %s.", from, strings.Join(names, " or ")))
		}
		return from, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf(msg, from))
	}
	if step.check != nil {
		if errs := step.check(f); len(errs) > 0 {
			return from, errs
		}
	}
	if step.to == "" {
		return from, nil
	}
	return step.to, nil
}

// loadZone is the zone named, UTC if it cannot be loaded (validation prevents that).
func loadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
