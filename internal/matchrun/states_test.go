package matchrun

import (
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/programme"
)

// outcome writes a decision as the tables below do: the next state, or the refusal's
// codes joined by "+". A refusal without a message fails.
func outcome[S ~string](t *testing.T, next S, err error) string {
	t.Helper()
	if err == nil {
		return string(next)
	}
	u, ok := apperr.AsUserErrors(err)
	if !ok {
		return "error: " + err.Error()
	}
	codes := make([]string, len(u))
	for i, e := range u {
		codes[i] = string(e.Code)
		if strings.TrimSpace(e.Message) == "" {
			t.Errorf("refusal %s without a message", e.Code)
		}
	}
	return strings.Join(codes, "+")
}

// crossProduct checks every state × event against want: a pair missing from want is a
// decision nobody took, and fails.
func crossProduct[S, E ~string](t *testing.T, states []S, events []E, want map[S]map[E]string, decide func(S, E) string) {
	t.Helper()
	for _, st := range states {
		for _, ev := range events {
			w, ok := want[st][ev]
			if !ok {
				t.Errorf("%s × %s: not decided in the expected table", st, ev)
				continue
			}
			if got := decide(st, ev); got != w {
				t.Errorf("%s × %s = %s, want %s", st, ev, got, w)
			}
		}
	}
	if len(want) != len(states) {
		t.Errorf("the expected table has %d states, the machine %d", len(want), len(states))
	}
	for st, row := range want {
		if len(row) != len(events) {
			t.Errorf("the expected row of %s has %d events, the machine %d", st, len(row), len(events))
		}
	}
}

// TestRunTable decides every state × event, for a call in RANKING and an unchanged input,
// then each fact.
func TestRunTable(t *testing.T) {
	const no = "INVALID_STATE"
	want := map[RunState]map[RunEvent]string{
		RunDry:       {RunPublish: no},
		RunComputed:  {RunPublish: "PUBLISHED"},
		RunPublished: {RunPublish: no},
	}
	crossProduct(t, RunStates, RunEvents, want, func(st RunState, ev RunEvent) string {
		next, err := NextRunState(st, ev, RunFacts{CallStatus: call.StatusRANKING})
		return outcome(t, next, err)
	})
	wantByCall := map[RunEvent]map[call.Status]string{RunPublish: {}}
	for _, cs := range programme.CallStatuses {
		wantByCall[RunPublish][cs] = no
	}
	wantByCall[RunPublish][call.StatusRANKING] = "PUBLISHED"
	crossProduct(t, RunEvents, programme.CallStatuses, wantByCall, func(ev RunEvent, cs call.Status) string {
		next, err := NextRunState(RunComputed, ev, RunFacts{CallStatus: cs})
		return outcome(t, next, err)
	})
	next, err := NextRunState(RunComputed, RunPublish, RunFacts{CallStatus: call.StatusRANKING, InputChanged: true})
	if got := outcome(t, next, err); got != no {
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
