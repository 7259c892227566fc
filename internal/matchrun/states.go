package matchrun

import (
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// RunState is where a match run stands. It is not stored: it follows from the run's dry_run
// flag and published_at (RunStateOf).
type RunState string

// States of a match run.
const (
	RunDry       RunState = "DRY"       // a dry run: recorded, never published
	RunComputed  RunState = "COMPUTED"  // a real run that can be published
	RunPublished RunState = "PUBLISHED" // the call's published run: its placements exist
)

// RunStates lists every state of a run.
var RunStates = []RunState{RunDry, RunComputed, RunPublished}

// RunEvent is something that happens to a match run. A run is created (computed) while its
// call is in RANKING (programme.CallRunMatch).
type RunEvent string

// Events of a match run.
const (
	RunPublish RunEvent = "publish" // staff: COMPUTED → PUBLISHED, and the call RANKING → MATCHED
)

// RunEvents lists every event, for tests that must decide each one.
var RunEvents = []RunEvent{RunPublish}

// RunFacts are what the service read before deciding.
type RunFacts struct {
	// CallStatus is the status of the run's call.
	CallStatus call.Status
	// InputChanged says the input frozen now hashes differently from the run's.
	InputChanged bool
}

// RunStateOf is where run stands.
func RunStateOf(run *ent.MatchRun) RunState {
	switch {
	case run.DryRun:
		return RunDry
	case run.PublishedAt != nil:
		return RunPublished
	}
	return RunComputed
}

// NextRunState decides ev for a run in state from: the state it moves to, or a refusal
// (INVALID_STATE, no field named). A real run is published once, while its call is in
// RANKING and only if the preferences, slots and overrides are still those it was computed
// from; publishing it also moves the call to MATCHED (programme.CallPublishMatch), so a
// call has at most one published run.
func NextRunState(from RunState, ev RunEvent, f RunFacts) (RunState, error) {
	refuse := func(format string, args ...any) (RunState, error) {
		return from, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf(format, args...))
	}
	switch ev {
	case RunPublish:
		switch {
		case from == RunDry:
			return refuse("A dry run cannot be published; start a real run.")
		case from == RunPublished:
			return refuse("This run is published already.")
		case f.CallStatus != call.StatusRANKING:
			return refuse("The call is %s; a match is published once, while the call is in RANKING.", f.CallStatus)
		case f.InputChanged:
			return refuse("The preferences, slots or overrides have changed since this run; start a new run.")
		}
		return RunPublished, nil
	}
	return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
}
