package programme

import (
	"fmt"
	"slices"

	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// ReviewEvent is a step of a call's review: staff appoint and remove reviewers, assign
// them applications and publish the aggregate; a reviewer scores or recuses.
type ReviewEvent string

// Events of a review.
const (
	ReviewAppoint ReviewEvent = "appoint" // staff appoint a reviewer: DRAFT … REVIEW
	ReviewRemove  ReviewEvent = "remove"  // staff remove a reviewer: any status
	ReviewAssign  ReviewEvent = "assign"  // staff assign applications: CLOSED or REVIEW, before publication
	ReviewScore   ReviewEvent = "score"   // a reviewer scores: REVIEW, before publication
	ReviewRecuse  ReviewEvent = "recuse"  // a reviewer declares a conflict: REVIEW, before publication
	ReviewPublish ReviewEvent = "publish" // staff publish the aggregate: REVIEW or RANKING, once
)

// ReviewEvents lists every event, for tests that must decide each one.
var ReviewEvents = []ReviewEvent{ReviewAppoint, ReviewRemove, ReviewAssign, ReviewScore, ReviewRecuse, ReviewPublish}

// ReviewFacts are what the service read before deciding.
type ReviewFacts struct {
	// Published says staff published the call's aggregate (scores are final).
	Published bool
}

// reviewStep is one row of the review table: the call statuses the event applies in, and
// whether it is refused once the aggregate is published.
type reviewStep struct {
	in             []call.Status
	closedByPublic bool
	what           string
}

var reviewSteps = map[ReviewEvent]reviewStep{
	ReviewAppoint: {in: []call.Status{call.StatusDRAFT, call.StatusOPEN, call.StatusCLOSED, call.StatusREVIEW}, what: "reviewers are appointed until the review ends"},
	ReviewRemove:  {in: CallStatuses, what: "reviewers can be removed at any time"},
	ReviewAssign:  {in: []call.Status{call.StatusCLOSED, call.StatusREVIEW}, closedByPublic: true, what: "applications are assigned once the call has closed, until the review ends"},
	ReviewScore:   {in: []call.Status{call.StatusREVIEW}, closedByPublic: true, what: "reviews are given while it is in REVIEW"},
	ReviewRecuse:  {in: []call.Status{call.StatusREVIEW}, closedByPublic: true, what: "conflicts are declared while it is in REVIEW"},
	ReviewPublish: {in: []call.Status{call.StatusREVIEW, call.StatusRANKING}, closedByPublic: true, what: "the aggregate is published in REVIEW or RANKING"},
}

// DecideReview decides a review event on a call in status with facts: nil when it may
// happen, or an INVALID_STATE refusal (apperr.UserErrors) saying why not.
func DecideReview(status call.Status, ev ReviewEvent, f ReviewFacts) error {
	st, ok := reviewSteps[ev]
	switch {
	case !ok:
		return fmt.Errorf("programme: unknown review event %q", ev)
	case !slices.Contains(st.in, status):
		return apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf("The call is %s; %s.", status, st.what))
	case st.closedByPublic && f.Published:
		return apperr.Invalid(apperr.CodeInvalidState, "The review aggregate of this call is published; the review is over.")
	}
	return nil
}
