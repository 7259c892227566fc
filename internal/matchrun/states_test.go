package matchrun

import (
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/transitiontest"
)

// TestRunTable decides every state × event, for a call in RANKING and an unchanged input,
// then each fact.
func TestRunTable(t *testing.T) {
	const no = "INVALID_STATE"
	want := map[RunState]map[RunEvent]string{
		RunDry:       {RunPublish: no},
		RunComputed:  {RunPublish: "PUBLISHED"},
		RunPublished: {RunPublish: no},
	}
	transitiontest.CrossProduct(t, RunStates, RunEvents, want, func(st RunState, ev RunEvent) string {
		next, err := NextRunState(st, ev, RunFacts{CallStatus: call.StatusRANKING})
		return transitiontest.Outcome(t, next, err)
	})
	wantByCall := map[RunEvent]map[call.Status]string{RunPublish: {}}
	for _, cs := range programme.CallStatuses {
		wantByCall[RunPublish][cs] = no
	}
	wantByCall[RunPublish][call.StatusRANKING] = "PUBLISHED"
	transitiontest.CrossProduct(t, RunEvents, programme.CallStatuses, wantByCall, func(ev RunEvent, cs call.Status) string {
		next, err := NextRunState(RunComputed, ev, RunFacts{CallStatus: cs})
		return transitiontest.Outcome(t, next, err)
	})
	next, err := NextRunState(RunComputed, RunPublish, RunFacts{CallStatus: call.StatusRANKING, InputChanged: true})
	if got := transitiontest.Outcome(t, next, err); got != no {
		t.Errorf("publishing a run whose input changed: %s", got)
	}
	published := time.Now()
	for _, c := range []struct {
		run  *ent.MatchRun
		want RunState
	}{
		{&ent.MatchRun{DryRun: true}, RunDry},
		{&ent.MatchRun{}, RunComputed},
		{&ent.MatchRun{PublishedAt: &published}, RunPublished},
	} {
		if got := RunStateOf(c.run); got != c.want {
			t.Errorf("RunStateOf(%+v) = %s, want %s", c.run, got, c.want)
		}
	}
}
