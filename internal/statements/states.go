package statements

import (
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// Event is something that happens to a policy statement.
type Event string

// Events of a statement. A statement is opened DRAFT with its first revision.
//
//	DRAFT ──submit──▶ IN_REVIEW ──sign (the last co-author approves)──▶ APPROVED ──schedule──▶ SCHEDULED
//	  edit ↺            edit ↺ sign ↺     ◀── edit ── APPROVED, SCHEDULED      │  ▲              │
//	                                                 publish (staff) ◀──────────┘  └ unschedule ──┘
//	SCHEDULED ──release (the job, at the embargo, unless too late)──▶ PUBLISHED ──correct──▶ CORRECTED ↺ correct
//	PUBLISHED, CORRECTED ──withdraw──▶ WITHDRAWN (stays readable)
//	endorse: APPROVED and SCHEDULED, no change of status.
const (
	EventEdit       Event = "edit"       // an author or staff: DRAFT, IN_REVIEW stay; APPROVED, SCHEDULED → IN_REVIEW
	EventSubmit     Event = "submit"     // staff: DRAFT → IN_REVIEW (needs co-authors, each with a signatory)
	EventSign       Event = "sign"       // a co-author's signatory: IN_REVIEW → IN_REVIEW, or APPROVED when all have approved
	EventEndorse    Event = "endorse"    // an endorser's signatory: APPROVED, SCHEDULED (no change)
	EventSchedule   Event = "schedule"   // staff: APPROVED, SCHEDULED → SCHEDULED (embargo in the future)
	EventUnschedule Event = "unschedule" // staff: SCHEDULED → APPROVED
	EventPublish    Event = "publish"    // staff: APPROVED, SCHEDULED (also late) → PUBLISHED now
	EventRelease    Event = "release"    // the job: SCHEDULED → PUBLISHED at the embargo, unless too late
	EventCorrect    Event = "correct"    // staff: PUBLISHED, CORRECTED → CORRECTED (a new published revision)
	EventWithdraw   Event = "withdraw"   // staff: PUBLISHED, CORRECTED → WITHDRAWN
)

// Events lists every event, for tests that must decide each one.
var Events = []Event{
	EventEdit, EventSubmit, EventSign, EventEndorse, EventSchedule, EventUnschedule,
	EventPublish, EventRelease, EventCorrect, EventWithdraw,
}

// Statuses lists every status of a statement.
var Statuses = []policystatement.Status{
	policystatement.StatusDRAFT, policystatement.StatusIN_REVIEW, policystatement.StatusAPPROVED,
	policystatement.StatusSCHEDULED, policystatement.StatusPUBLISHED, policystatement.StatusCORRECTED,
	policystatement.StatusWITHDRAWN,
}

// Facts are what the service read before deciding.
type Facts struct {
	// Now is the decision's instant.
	Now time.Time
	// At is the requested embargo (schedule) or the scheduled one (release).
	At time.Time
	// LateAfter is how long after its embargo the job may still publish.
	LateAfter time.Duration
	// Deadline is the sign-off deadline (zero: none).
	Deadline time.Time
	// NoSignatories says a co-authoring organisation has no designated signatory, or
	// there is no co-author at all.
	NoSignatories bool
	// AllApproved says every co-author has approved the current revision (with this sign-off).
	AllApproved bool
	// MissingDeclarations says an author has no current conflict-of-interest declaration.
	MissingDeclarations bool
}

// Next decides ev for a statement in status from: the status it moves to, or a refusal
// (INVALID_STATE; INVALID for an embargo in the past; REQUIRED for missing signatories or
// declarations; EXPIRED for a sign-off after its deadline or a release the job is too late
// for), naming no field.
func Next(from policystatement.Status, ev Event, f Facts) (policystatement.Status, error) {
	refuse := func(code apperr.UserCode, format string, args ...any) (policystatement.Status, error) {
		return from, apperr.Invalid(code, fmt.Sprintf(format, args...))
	}
	in := func(sts ...policystatement.Status) bool {
		for _, s := range sts {
			if from == s {
				return true
			}
		}
		return false
	}
	const (
		draft     = policystatement.StatusDRAFT
		review    = policystatement.StatusIN_REVIEW
		approved  = policystatement.StatusAPPROVED
		scheduled = policystatement.StatusSCHEDULED
		published = policystatement.StatusPUBLISHED
		corrected = policystatement.StatusCORRECTED
		withdrawn = policystatement.StatusWITHDRAWN
	)
	declarations := "Every author needs a current conflict-of-interest declaration before publication."
	switch ev {
	case EventEdit:
		switch {
		case in(draft, review):
			return from, nil
		case in(approved, scheduled):
			return review, nil
		}
		return refuse(apperr.CodeInvalidState, "This statement is %s; a published statement changes only by a correction.", from)
	case EventSubmit:
		switch {
		case from != draft:
			return refuse(apperr.CodeInvalidState, "This statement is %s; only a draft is sent for review.", from)
		case f.NoSignatories:
			return refuse(apperr.CodeRequired, "Every co-authoring organisation needs a designated signatory (and there must be at least one).")
		}
		return review, nil
	case EventSign:
		switch {
		case from != review:
			return refuse(apperr.CodeInvalidState, "This statement is %s; sign-offs are given while it is in review.", from)
		case !f.Deadline.IsZero() && f.Now.After(f.Deadline):
			return refuse(apperr.CodeExpired, "The sign-off deadline has passed; ask staff to extend it.")
		case f.AllApproved:
			return approved, nil
		}
		return review, nil
	case EventEndorse:
		if !in(approved, scheduled) {
			return refuse(apperr.CodeInvalidState, "This statement is %s; endorsers confirm the final text once it is approved.", from)
		}
		return from, nil
	case EventSchedule:
		switch {
		case !in(approved, scheduled):
			return refuse(apperr.CodeInvalidState, "This statement is %s; only an approved statement is scheduled.", from)
		case !f.At.After(f.Now):
			return refuse(apperr.CodeInvalid, "The embargo is in the past; choose a time to come.")
		case f.MissingDeclarations:
			return refuse(apperr.CodeRequired, "%s", declarations)
		}
		return scheduled, nil
	case EventUnschedule:
		if from != scheduled {
			return refuse(apperr.CodeInvalidState, "This statement is %s, not scheduled.", from)
		}
		return approved, nil
	case EventPublish:
		switch {
		case !in(approved, scheduled):
			return refuse(apperr.CodeInvalidState, "This statement is %s; only an approved statement is published.", from)
		case f.MissingDeclarations:
			return refuse(apperr.CodeRequired, "%s", declarations)
		}
		return published, nil
	case EventRelease:
		switch {
		case from != scheduled:
			return refuse(apperr.CodeInvalidState, "This statement is %s, not scheduled.", from)
		case f.Now.Before(f.At):
			return refuse(apperr.CodeInvalidState, "This statement is under embargo until later.")
		case f.Now.Sub(f.At) > f.LateAfter:
			return refuse(apperr.CodeExpired, "This statement could not be published within %s of its embargo; staff decide whether it still goes out.", f.LateAfter)
		case f.MissingDeclarations:
			return refuse(apperr.CodeRequired, "%s", declarations)
		}
		return published, nil
	case EventCorrect:
		if !in(published, corrected) {
			return refuse(apperr.CodeInvalidState, "This statement is %s; only a published statement is corrected.", from)
		}
		return corrected, nil
	case EventWithdraw:
		if !in(published, corrected) {
			return refuse(apperr.CodeInvalidState, "This statement is %s; only a published statement is withdrawn.", from)
		}
		return withdrawn, nil
	}
	return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
}

// Published reports whether a statement in status has a public version.
func Published(st policystatement.Status) bool {
	return st == policystatement.StatusPUBLISHED || st == policystatement.StatusCORRECTED || st == policystatement.StatusWITHDRAWN
}
