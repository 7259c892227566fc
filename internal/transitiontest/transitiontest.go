// Package transitiontest holds the two helpers every transition-table test uses: the
// outcome of a decision as the expected tables write it, and the exhaustive state × event
// check. It imports only apperr, so the domain packages' internal tests can use it.
package transitiontest

import (
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/apperr"
)

// Outcome writes a transition table's decision as the expected tables of the
// state tests do: the next status, or the refusal's codes joined by "+". A refusal without
// a message fails.
func Outcome[S ~string](t testing.TB, next S, err error) string {
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

// CrossProduct checks a transition table exhaustively: decide for every state × event
// against want, which must decide every pair and nothing more.
func CrossProduct[S, E ~string](t testing.TB, states []S, events []E, want map[S]map[E]string, decide func(S, E) string) {
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
