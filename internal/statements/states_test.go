package statements

import (
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/internal/transitiontest"
)

var tNow = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// allowing are facts under which every event may happen as far as facts go.
func allowing(ev Event) Facts {
	f := Facts{Now: tNow, LateAfter: time.Hour, At: tNow.Add(time.Hour), Deadline: tNow.Add(time.Hour)}
	if ev == EventRelease {
		f.At = tNow.Add(-time.Minute)
	}
	return f
}

// TestStatementTable decides every status × event with facts that allow everything the
// status allows: each transition is refused from every wrong state.
func TestStatementTable(t *testing.T) {
	const no = "INVALID_STATE"
	want := map[policystatement.Status]map[Event]string{
		"DRAFT":     {EventEdit: "DRAFT", EventSubmit: "IN_REVIEW", EventSign: no, EventEndorse: no, EventSchedule: no, EventUnschedule: no, EventPublish: no, EventRelease: no, EventCorrect: no, EventWithdraw: no},
		"IN_REVIEW": {EventEdit: "IN_REVIEW", EventSubmit: no, EventSign: "IN_REVIEW", EventEndorse: no, EventSchedule: no, EventUnschedule: no, EventPublish: no, EventRelease: no, EventCorrect: no, EventWithdraw: no},
		"APPROVED":  {EventEdit: "IN_REVIEW", EventSubmit: no, EventSign: no, EventEndorse: "APPROVED", EventSchedule: "SCHEDULED", EventUnschedule: no, EventPublish: "PUBLISHED", EventRelease: no, EventCorrect: no, EventWithdraw: no},
		"SCHEDULED": {EventEdit: "IN_REVIEW", EventSubmit: no, EventSign: no, EventEndorse: "SCHEDULED", EventSchedule: "SCHEDULED", EventUnschedule: "APPROVED", EventPublish: "PUBLISHED", EventRelease: "PUBLISHED", EventCorrect: no, EventWithdraw: no},
		"PUBLISHED": {EventEdit: no, EventSubmit: no, EventSign: no, EventEndorse: no, EventSchedule: no, EventUnschedule: no, EventPublish: no, EventRelease: no, EventCorrect: "CORRECTED", EventWithdraw: "WITHDRAWN"},
		"CORRECTED": {EventEdit: no, EventSubmit: no, EventSign: no, EventEndorse: no, EventSchedule: no, EventUnschedule: no, EventPublish: no, EventRelease: no, EventCorrect: "CORRECTED", EventWithdraw: "WITHDRAWN"},
		"WITHDRAWN": {EventEdit: no, EventSubmit: no, EventSign: no, EventEndorse: no, EventSchedule: no, EventUnschedule: no, EventPublish: no, EventRelease: no, EventCorrect: no, EventWithdraw: no},
	}
	transitiontest.CrossProduct(t, Statuses, Events, want, func(st policystatement.Status, ev Event) string {
		next, err := Next(st, ev, allowing(ev))
		return transitiontest.Outcome(t, next, err)
	})
}

// TestStatementFacts checks the refusals that depend on facts, not on the status.
func TestStatementFacts(t *testing.T) {
	for _, c := range []struct {
		name string
		from policystatement.Status
		ev   Event
		f    func(*Facts)
		want string
	}{
		{"the last approval approves", "IN_REVIEW", EventSign, func(f *Facts) { f.AllApproved = true }, "APPROVED"},
		{"a sign-off after the deadline", "IN_REVIEW", EventSign, func(f *Facts) { f.Deadline = tNow.Add(-time.Second) }, "EXPIRED"},
		{"no deadline", "IN_REVIEW", EventSign, func(f *Facts) { f.Deadline = time.Time{} }, "IN_REVIEW"},
		{"submit without signatories", "DRAFT", EventSubmit, func(f *Facts) { f.NoSignatories = true }, "REQUIRED"},
		{"an embargo in the past", "APPROVED", EventSchedule, func(f *Facts) { f.At = tNow.Add(-time.Minute) }, "INVALID"},
		{"an embargo now", "APPROVED", EventSchedule, func(f *Facts) { f.At = tNow }, "INVALID"},
		{"schedule without declarations", "APPROVED", EventSchedule, func(f *Facts) { f.MissingDeclarations = true }, "REQUIRED"},
		{"publish without declarations", "APPROVED", EventPublish, func(f *Facts) { f.MissingDeclarations = true }, "REQUIRED"},
		{"release without declarations", "SCHEDULED", EventRelease, func(f *Facts) { f.MissingDeclarations = true }, "REQUIRED"},
		{"release before the embargo", "SCHEDULED", EventRelease, func(f *Facts) { f.At = tNow.Add(time.Second) }, "INVALID_STATE"},
		{"release at the embargo", "SCHEDULED", EventRelease, func(f *Facts) { f.At = tNow }, "PUBLISHED"},
		{"release at the late limit", "SCHEDULED", EventRelease, func(f *Facts) { f.At = tNow.Add(-time.Hour) }, "PUBLISHED"},
		{"release too late", "SCHEDULED", EventRelease, func(f *Facts) { f.At = tNow.Add(-time.Hour - time.Second) }, "EXPIRED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := allowing(c.ev)
			c.f(&f)
			next, err := Next(c.from, c.ev, f)
			if got := transitiontest.Outcome(t, next, err); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
