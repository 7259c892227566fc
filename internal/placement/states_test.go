package placement

import (
	"slices"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/transitiontest"
)

var (
	now    = time.Date(2027, 4, 6, 9, 0, 0, 0, time.UTC)
	past   = now.Add(-time.Hour)
	future = now.Add(time.Hour)
)

// TestPlacementTable decides every status × event, with facts that allow what the status
// allows: the offer's deadline ahead for accepting and passed for the expiry job, the last
// day passed for the completion job, dates proposed for an answer.
func TestPlacementTable(t *testing.T) {
	var values []string
	for _, f := range (schema.Placement{}).Fields() {
		if d := f.Descriptor(); d.Name == "status" {
			for _, e := range d.Enums {
				values = append(values, e.V)
			}
		}
	}
	listed := make([]string, len(Statuses))
	for i, s := range Statuses {
		listed[i] = string(s)
	}
	slices.Sort(values)
	slices.Sort(listed)
	if !slices.Equal(values, listed) {
		t.Fatalf("Statuses lists %v; the schema has %v", listed, values)
	}
	const no = "INVALID_STATE"
	final := map[Event]string{EventAccept: no, EventDecline: no, EventCancel: no, EventConfirm: no, EventProposeDates: no,
		EventAnswerDates: no, EventExpire: no, EventComplete: no, EventReport: no}
	want := map[placement.Status]map[Event]string{
		placement.StatusOFFERED: {EventAccept: "ACCEPTED", EventDecline: "DECLINED", EventCancel: "CANCELLED", EventConfirm: no,
			EventProposeDates: no, EventAnswerDates: no, EventExpire: "EXPIRED", EventComplete: no, EventReport: no},
		placement.StatusACCEPTED: {EventAccept: no, EventDecline: "DECLINED", EventCancel: "CANCELLED", EventConfirm: "CONFIRMED",
			EventProposeDates: "ACCEPTED", EventAnswerDates: "ACCEPTED", EventExpire: no, EventComplete: no, EventReport: no},
		placement.StatusCONFIRMED: {EventAccept: no, EventDecline: no, EventCancel: "CANCELLED", EventConfirm: no,
			EventProposeDates: "CONFIRMED", EventAnswerDates: "CONFIRMED", EventExpire: no, EventComplete: "COMPLETED", EventReport: no},
		placement.StatusCOMPLETED: {EventAccept: no, EventDecline: no, EventCancel: no, EventConfirm: no,
			EventProposeDates: no, EventAnswerDates: no, EventExpire: no, EventComplete: no, EventReport: "COMPLETED"},
		placement.StatusDECLINED:  final,
		placement.StatusEXPIRED:   final,
		placement.StatusCANCELLED: final,
	}
	transitiontest.CrossProduct(t, Statuses, Events, want, func(st placement.Status, ev Event) string {
		f := Facts{Now: now, OfferDeadline: future, EndDate: vocab.Date("2027-04-05"), DatesProposed: true}
		if ev == EventExpire {
			f.OfferDeadline = past
		}
		next, err := Next(st, ev, f)
		return transitiontest.Outcome(t, next, err)
	})
}

// TestPlacementFacts decides each fact an allowed event looks at.
func TestPlacementFacts(t *testing.T) {
	base := Facts{Now: now, OfferDeadline: future, EndDate: "2027-04-05"}
	with := func(change func(*Facts)) Facts { f := base; change(&f); return f }
	for _, c := range []struct {
		name  string
		from  placement.Status
		ev    Event
		facts Facts
		want  string
	}{
		{"accept at the deadline", placement.StatusOFFERED, EventAccept, with(func(f *Facts) { f.OfferDeadline = now }), "EXPIRED"},
		{"accept after the deadline, slot full", placement.StatusOFFERED, EventAccept, with(func(f *Facts) { f.OfferDeadline, f.SlotFull = past, true }), "EXPIRED"},
		{"accept, slot full", placement.StatusOFFERED, EventAccept, with(func(f *Facts) { f.SlotFull = true }), "INVALID_STATE"},
		{"accept, another held", placement.StatusOFFERED, EventAccept, with(func(f *Facts) { f.HoldsOther = true }), "INVALID_STATE"},
		{"accept, slot full and another held", placement.StatusOFFERED, EventAccept, with(func(f *Facts) { f.SlotFull, f.HoldsOther = true, true }), "INVALID_STATE+INVALID_STATE"},
		{"answer without proposed dates", placement.StatusACCEPTED, EventAnswerDates, base, "INVALID_STATE"},
		{"expire before the deadline", placement.StatusOFFERED, EventExpire, base, "INVALID_STATE"},
		{"expire at the deadline", placement.StatusOFFERED, EventExpire, with(func(f *Facts) { f.OfferDeadline = now }), "EXPIRED"},
		{"complete on the last day", placement.StatusCONFIRMED, EventComplete, with(func(f *Facts) { f.EndDate = vocab.Today(now) }), "INVALID_STATE"},
		{"complete the day after", placement.StatusCONFIRMED, EventComplete, base, "COMPLETED"},
		{"an unknown event", placement.StatusOFFERED, Event("reopen"), base, "INVALID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			next, err := Next(c.from, c.ev, c.facts)
			if got := transitiontest.Outcome(t, next, err); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
			if err != nil && next != c.from {
				t.Errorf("a refusal moved the placement to %s", next)
			}
		})
	}
}
