package programme

import (
	"slices"
	"strings"
	"testing"
	"time"

	entgo "entgo.io/ent"

	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/schema"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/transitiontest"
)

// schemaEnum returns the values of the enum field name of an ent schema, so a status added
// to the schema but not to a table's list of statuses fails the test.
func schemaEnum(t *testing.T, fields []entgo.Field, name string) []string {
	t.Helper()
	for _, f := range fields {
		d := f.Descriptor()
		if d.Name != name {
			continue
		}
		var out []string
		for _, e := range d.Enums {
			out = append(out, e.V)
		}
		return out
	}
	t.Fatalf("no field %s", name)
	return nil
}

// sameSet fails unless the listed values are exactly the schema's.
func sameSet[S ~string](t *testing.T, what string, listed []S, schemaValues []string) {
	t.Helper()
	got := make([]string, len(listed))
	for i, s := range listed {
		got[i] = string(s)
	}
	slices.Sort(got)
	want := slices.Clone(schemaValues)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s lists %v; the schema has %v", what, got, want)
	}
}

var (
	now     = time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC)
	past    = now.Add(-time.Hour)
	future  = now.Add(time.Hour)
	pastDay = vocab.Date("2027-02-15")
)

// TestCallTable decides every status × event with facts that allow everything the status
// allows (each deadline passed for the events that wait for one, ahead for those that need
// one ahead): what is left is the status's own answer.
func TestCallTable(t *testing.T) {
	sameSet(t, "CallStatuses", CallStatuses, schemaEnum(t, schema.Call{}.Fields(), "status"))
	const no = "INVALID_STATE"
	want := map[call.Status]map[CallEvent]string{
		call.StatusDRAFT: {
			CallOpen: "OPEN", CallClose: no, CallDeadline: no, CallStartReview: no, CallStartRanking: no, CallRank: no,
			CallCloseRanking: no, CallRunMatch: no, CallSetOverride: no, CallRemoveOverride: no, CallPublishMatch: no,
			CallComplete: no, CallCancel: "CANCELLED", CallOfferSlot: "DRAFT",
		},
		call.StatusOPEN: {
			CallOpen: no, CallClose: "CLOSED", CallDeadline: "CLOSED", CallStartReview: no, CallStartRanking: no, CallRank: no,
			CallCloseRanking: no, CallRunMatch: no, CallSetOverride: no, CallRemoveOverride: no, CallPublishMatch: no,
			CallComplete: no, CallCancel: "CANCELLED", CallOfferSlot: "OPEN",
		},
		call.StatusCLOSED: {
			CallOpen: no, CallClose: no, CallDeadline: no, CallStartReview: "REVIEW", CallStartRanking: no, CallRank: no,
			CallCloseRanking: no, CallRunMatch: no, CallSetOverride: no, CallRemoveOverride: no, CallPublishMatch: no,
			CallComplete: no, CallCancel: "CANCELLED", CallOfferSlot: no,
		},
		call.StatusREVIEW: {
			CallOpen: no, CallClose: no, CallDeadline: no, CallStartReview: no, CallStartRanking: "RANKING", CallRank: no,
			CallCloseRanking: no, CallRunMatch: no, CallSetOverride: "REVIEW", CallRemoveOverride: "REVIEW", CallPublishMatch: no,
			CallComplete: no, CallCancel: "CANCELLED", CallOfferSlot: no,
		},
		call.StatusRANKING: {
			CallOpen: no, CallClose: no, CallDeadline: no, CallStartReview: no, CallStartRanking: no, CallRank: "RANKING",
			CallCloseRanking: "RANKING", CallRunMatch: "RANKING", CallSetOverride: "RANKING", CallRemoveOverride: "RANKING",
			CallPublishMatch: "MATCHED", CallComplete: no, CallCancel: "CANCELLED", CallOfferSlot: no,
		},
		call.StatusMATCHED: {
			CallOpen: no, CallClose: no, CallDeadline: no, CallStartReview: no, CallStartRanking: no, CallRank: no,
			CallCloseRanking: no, CallRunMatch: no, CallSetOverride: no, CallRemoveOverride: no, CallPublishMatch: no,
			CallComplete: "COMPLETED", CallCancel: no, CallOfferSlot: no,
		},
		call.StatusCOMPLETED: {
			CallOpen: no, CallClose: no, CallDeadline: no, CallStartReview: no, CallStartRanking: no, CallRank: no,
			CallCloseRanking: no, CallRunMatch: no, CallSetOverride: no, CallRemoveOverride: no, CallPublishMatch: no,
			CallComplete: no, CallCancel: no, CallOfferSlot: no,
		},
		call.StatusCANCELLED: {
			CallOpen: no, CallClose: no, CallDeadline: no, CallStartReview: no, CallStartRanking: no, CallRank: no,
			CallCloseRanking: no, CallRunMatch: no, CallSetOverride: no, CallRemoveOverride: no, CallPublishMatch: no,
			CallComplete: no, CallCancel: no, CallOfferSlot: no,
		},
	}
	transitiontest.CrossProduct(t, CallStatuses, CallEvents, want, func(st call.Status, ev CallEvent) string {
		f := CallFacts{Now: now, ClosesAt: past, TimeZone: "Europe/Brussels", PlacementEnd: pastDay, ApprovedSlot: true}
		switch ev {
		case CallOpen:
			f.ClosesAt = future // opening needs the deadline ahead
		case CallStartRanking, CallRank:
			f.RankingDeadline = &future
		case CallCloseRanking:
			f.RankingDeadline = &past
		}
		next, err := NextCallStatus(st, ev, f)
		return transitiontest.Outcome(t, next, err)
	})
}

// TestCallFacts decides each fact an allowed event looks at.
func TestCallFacts(t *testing.T) {
	base := func(change func(*CallFacts)) CallFacts {
		f := CallFacts{Now: now, ClosesAt: past, TimeZone: "Europe/Brussels", PlacementEnd: pastDay, ApprovedSlot: true}
		change(&f)
		return f
	}
	for _, c := range []struct {
		name  string
		from  call.Status
		ev    CallEvent
		facts CallFacts
		want  string
		field string // the field of the first refusal, "" for none
	}{
		{"open without an approved slot", call.StatusDRAFT, CallOpen, base(func(f *CallFacts) { f.ClosesAt, f.ApprovedSlot = future, false }), "INVALID_STATE", ""},
		{"open after the deadline", call.StatusDRAFT, CallOpen, base(func(f *CallFacts) {}), "INVALID_STATE", ""},
		{"open: both problems at once", call.StatusDRAFT, CallOpen, base(func(f *CallFacts) { f.ApprovedSlot = false }), "INVALID_STATE+INVALID_STATE", ""},
		{"open exactly at the deadline", call.StatusDRAFT, CallOpen, base(func(f *CallFacts) { f.ClosesAt = now }), "INVALID_STATE", ""},
		{"close on time", call.StatusOPEN, CallClose, base(func(f *CallFacts) {}), "CLOSED", ""},
		{"close at the deadline's instant", call.StatusOPEN, CallClose, base(func(f *CallFacts) { f.ClosesAt = now }), "CLOSED", ""},
		{"close early without force", call.StatusOPEN, CallClose, base(func(f *CallFacts) { f.ClosesAt = future; f.Reason = "x" }), "INVALID", "input.force"},
		{"close early by force without a reason", call.StatusOPEN, CallClose, base(func(f *CallFacts) { f.ClosesAt, f.Force = future, true }), "REQUIRED", "input.reason"},
		{"close early by force with a reason", call.StatusOPEN, CallClose, base(func(f *CallFacts) { f.ClosesAt, f.Force, f.Reason = future, true, "x" }), "CLOSED", ""},
		{"the deadline job before the deadline", call.StatusOPEN, CallDeadline, base(func(f *CallFacts) { f.ClosesAt = future }), "INVALID_STATE", ""},
		{"the deadline job at the deadline", call.StatusOPEN, CallDeadline, base(func(f *CallFacts) { f.ClosesAt = now }), "CLOSED", ""},
		{"ranking without a ranking deadline", call.StatusREVIEW, CallStartRanking, base(func(f *CallFacts) {}), "INVALID_STATE", ""},
		{"ranking with the ranking deadline passed", call.StatusREVIEW, CallStartRanking, base(func(f *CallFacts) { f.RankingDeadline = &past }), "INVALID_STATE", ""},
		{"a host ranks without a ranking deadline", call.StatusRANKING, CallRank, base(func(f *CallFacts) {}), "RANKING", ""},
		{"a host ranks after the ranking deadline", call.StatusRANKING, CallRank, base(func(f *CallFacts) { f.RankingDeadline = &past }), "INVALID_STATE", ""},
		{"a host ranks at the ranking deadline", call.StatusRANKING, CallRank, base(func(f *CallFacts) { f.RankingDeadline = &now }), "INVALID_STATE", ""},
		{"a host ranks after the job closed ranking", call.StatusRANKING, CallRank, base(func(f *CallFacts) { f.RankingDeadline, f.RankingClosed = &future, true }), "INVALID_STATE", ""},
		{"ranking closes twice", call.StatusRANKING, CallCloseRanking, base(func(f *CallFacts) { f.RankingDeadline, f.RankingClosed = &past, true }), "INVALID_STATE", ""},
		{"ranking closes before its deadline", call.StatusRANKING, CallCloseRanking, base(func(f *CallFacts) { f.RankingDeadline = &future }), "INVALID_STATE", ""},
		{"ranking closes without a deadline", call.StatusRANKING, CallCloseRanking, base(func(f *CallFacts) {}), "INVALID_STATE", ""},
		{"complete on the window's last day", call.StatusMATCHED, CallComplete, base(func(f *CallFacts) { f.PlacementEnd = "2027-02-16" }), "INVALID_STATE", ""},
		{"complete the day after the window", call.StatusMATCHED, CallComplete, base(func(f *CallFacts) {}), "COMPLETED", ""},
		{"an unknown event", call.StatusDRAFT, CallEvent("reopen"), base(func(f *CallFacts) {}), "INVALID", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			next, err := NextCallStatus(c.from, c.ev, c.facts)
			if got := transitiontest.Outcome(t, next, err); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
			if u, ok := apperr.AsUserErrors(err); ok && strings.Join(u[0].Field, ".") != c.field {
				t.Errorf("field %v, want %q", u[0].Field, c.field)
			}
			if err != nil && next != c.from {
				t.Errorf("a refusal moved the call to %s", next)
			}
		})
	}
}

func TestSlotTable(t *testing.T) {
	sameSet(t, "SlotStatuses", SlotStatuses, schemaEnum(t, schema.HostSlot{}.Fields(), "status"))
	const no = "INVALID_STATE"
	want := map[hostslot.Status]map[SlotEvent]string{
		hostslot.StatusPROPOSED:  {SlotApprove: "APPROVED", SlotReject: "REJECTED", SlotWithdraw: "WITHDRAWN"},
		hostslot.StatusAPPROVED:  {SlotApprove: no, SlotReject: no, SlotWithdraw: "WITHDRAWN"},
		hostslot.StatusREJECTED:  {SlotApprove: no, SlotReject: no, SlotWithdraw: no},
		hostslot.StatusWITHDRAWN: {SlotApprove: no, SlotReject: no, SlotWithdraw: no},
	}
	transitiontest.CrossProduct(t, SlotStatuses, SlotEvents, want, func(st hostslot.Status, ev SlotEvent) string {
		next, err := NextSlotStatus(st, ev, SlotFacts{CallStatus: call.StatusOPEN})
		return transitiontest.Outcome(t, next, err)
	})
	// The call's status and the places held, for each event that looks at them.
	decided := map[SlotEvent]map[call.Status]string{}
	for _, ev := range SlotEvents {
		decided[ev] = map[call.Status]string{}
		from := hostslot.StatusPROPOSED
		for _, cs := range CallStatuses {
			next, err := NextSlotStatus(from, ev, SlotFacts{CallStatus: cs})
			decided[ev][cs] = transitiontest.Outcome(t, next, err)
		}
	}
	wantByCall := map[SlotEvent]map[call.Status]string{
		SlotApprove: {call.StatusDRAFT: "APPROVED", call.StatusOPEN: "APPROVED", call.StatusCLOSED: no, call.StatusREVIEW: no,
			call.StatusRANKING: no, call.StatusMATCHED: no, call.StatusCOMPLETED: no, call.StatusCANCELLED: no},
		SlotReject: {call.StatusDRAFT: "REJECTED", call.StatusOPEN: "REJECTED", call.StatusCLOSED: no, call.StatusREVIEW: no,
			call.StatusRANKING: no, call.StatusMATCHED: no, call.StatusCOMPLETED: no, call.StatusCANCELLED: no},
		SlotWithdraw: {call.StatusDRAFT: "WITHDRAWN", call.StatusOPEN: "WITHDRAWN", call.StatusCLOSED: "WITHDRAWN", call.StatusREVIEW: "WITHDRAWN",
			call.StatusRANKING: "WITHDRAWN", call.StatusMATCHED: "WITHDRAWN", call.StatusCOMPLETED: no, call.StatusCANCELLED: no},
	}
	transitiontest.CrossProduct(t, SlotEvents, CallStatuses, wantByCall, func(ev SlotEvent, cs call.Status) string { return decided[ev][cs] })
	if next, err := NextSlotStatus(hostslot.StatusAPPROVED, SlotWithdraw, SlotFacts{CallStatus: call.StatusMATCHED, Held: true}); transitiontest.Outcome(t, next, err) != no {
		got := transitiontest.Outcome(t, next, err)
		t.Errorf("withdrawing a held slot: %s", got)
	}
}

func TestApplicationTable(t *testing.T) {
	sameSet(t, "ApplicationStatuses", ApplicationStatuses, schemaEnum(t, schema.Application{}.Fields(), "status"))
	const no = "INVALID_STATE"
	want := map[application.Status]map[ApplicationEvent]string{
		application.StatusDRAFT:      {ApplicationEdit: "DRAFT", ApplicationSubmit: "SUBMITTED", ApplicationWithdraw: "WITHDRAWN", ApplicationMarkEligible: no, ApplicationMarkIneligible: no},
		application.StatusSUBMITTED:  {ApplicationEdit: no, ApplicationSubmit: no, ApplicationWithdraw: "WITHDRAWN", ApplicationMarkEligible: "ELIGIBLE", ApplicationMarkIneligible: "INELIGIBLE"},
		application.StatusELIGIBLE:   {ApplicationEdit: no, ApplicationSubmit: no, ApplicationWithdraw: "WITHDRAWN", ApplicationMarkEligible: no, ApplicationMarkIneligible: "INELIGIBLE"},
		application.StatusINELIGIBLE: {ApplicationEdit: no, ApplicationSubmit: no, ApplicationWithdraw: no, ApplicationMarkEligible: "ELIGIBLE", ApplicationMarkIneligible: no},
		application.StatusWITHDRAWN:  {ApplicationEdit: no, ApplicationSubmit: no, ApplicationWithdraw: no, ApplicationMarkEligible: no, ApplicationMarkIneligible: no},
	}
	transitiontest.CrossProduct(t, ApplicationStatuses, ApplicationEvents, want, func(st application.Status, ev ApplicationEvent) string {
		// The call as each event needs it: open and accepting for the trainee's draft,
		// closed for staff's decisions.
		f := ApplicationFacts{CallStatus: call.StatusOPEN, Accepting: true, Deadline: "2027-02-15T17:00, Europe/Brussels"}
		if ev == ApplicationMarkEligible || ev == ApplicationMarkIneligible {
			f = ApplicationFacts{CallStatus: call.StatusCLOSED}
		}
		next, err := NextApplicationStatus(st, ev, f)
		return transitiontest.Outcome(t, next, err)
	})
	// The call's status, for each event from the status it applies to.
	from := map[ApplicationEvent]application.Status{
		ApplicationEdit: application.StatusDRAFT, ApplicationSubmit: application.StatusDRAFT, ApplicationWithdraw: application.StatusSUBMITTED,
		ApplicationMarkEligible: application.StatusSUBMITTED, ApplicationMarkIneligible: application.StatusSUBMITTED,
	}
	wantByCall := map[ApplicationEvent]map[call.Status]string{
		// Accepting is false except when the call is OPEN (AcceptingApplications).
		ApplicationEdit: {call.StatusDRAFT: no, call.StatusOPEN: "DRAFT", call.StatusCLOSED: no, call.StatusREVIEW: no,
			call.StatusRANKING: no, call.StatusMATCHED: no, call.StatusCOMPLETED: no, call.StatusCANCELLED: no},
		ApplicationSubmit: {call.StatusDRAFT: no, call.StatusOPEN: "SUBMITTED", call.StatusCLOSED: no, call.StatusREVIEW: no,
			call.StatusRANKING: no, call.StatusMATCHED: no, call.StatusCOMPLETED: no, call.StatusCANCELLED: no},
		ApplicationWithdraw: {call.StatusDRAFT: "WITHDRAWN", call.StatusOPEN: "WITHDRAWN", call.StatusCLOSED: "WITHDRAWN", call.StatusREVIEW: "WITHDRAWN",
			call.StatusRANKING: "WITHDRAWN", call.StatusMATCHED: no, call.StatusCOMPLETED: no, call.StatusCANCELLED: "WITHDRAWN"},
		ApplicationMarkEligible: {call.StatusDRAFT: no, call.StatusOPEN: no, call.StatusCLOSED: "ELIGIBLE", call.StatusREVIEW: "ELIGIBLE",
			call.StatusRANKING: no, call.StatusMATCHED: no, call.StatusCOMPLETED: no, call.StatusCANCELLED: no},
		ApplicationMarkIneligible: {call.StatusDRAFT: no, call.StatusOPEN: no, call.StatusCLOSED: "INELIGIBLE", call.StatusREVIEW: "INELIGIBLE",
			call.StatusRANKING: no, call.StatusMATCHED: no, call.StatusCOMPLETED: no, call.StatusCANCELLED: no},
	}
	transitiontest.CrossProduct(t, ApplicationEvents, CallStatuses, wantByCall, func(ev ApplicationEvent, cs call.Status) string {
		next, err := NextApplicationStatus(from[ev], ev, ApplicationFacts{CallStatus: cs, Accepting: cs == call.StatusOPEN})
		return transitiontest.Outcome(t, next, err)
	})
	// An OPEN call before its opening or after its deadline does not accept applications.
	if next, err := NextApplicationStatus(application.StatusDRAFT, ApplicationSubmit, ApplicationFacts{CallStatus: call.StatusOPEN}); transitiontest.Outcome(t, next, err) != no {
		got := transitiontest.Outcome(t, next, err)
		t.Errorf("submitting to an open call past its deadline: %s", got)
	}
}

func TestRefereeTable(t *testing.T) {
	now := time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
	usable := RefereeFacts{Now: now, ExpiresAt: now.Add(time.Hour), CallStatus: call.StatusOPEN, CallClosesAt: now.Add(time.Hour)}
	want := map[RefereeStatus]map[RefereeEvent]string{
		RefereeWaiting:  {RefereeUpload: "RECEIVED"},
		RefereeReceived: {RefereeUpload: "ALREADY_USED"},
	}
	transitiontest.CrossProduct(t, RefereeStatuses, RefereeEvents, want, func(st RefereeStatus, ev RefereeEvent) string {
		next, err := NextRefereeStatus(st, ev, usable)
		return transitiontest.Outcome(t, next, err)
	})
	// The link's expiry and the call, for an upload through a link not used yet; and that a
	// used link says so whatever else is true.
	late := usable
	late.CallClosesAt = now
	expired := usable
	expired.ExpiresAt = now
	both := late
	both.ExpiresAt = now
	facts := map[string]struct {
		from RefereeStatus
		f    RefereeFacts
		want string
	}{
		"usable":                         {RefereeWaiting, usable, "RECEIVED"},
		"the link expires now":           {RefereeWaiting, expired, "EXPIRED"},
		"the call's deadline is now":     {RefereeWaiting, late, "EXPIRED"},
		"both":                           {RefereeWaiting, both, "EXPIRED"},
		"used, and the link has expired": {RefereeReceived, both, "ALREADY_USED"},
	}
	for name, tc := range facts {
		next, err := NextRefereeStatus(tc.from, RefereeUpload, tc.f)
		if got := transitiontest.Outcome(t, next, err); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
	for _, cs := range CallStatuses {
		f := usable
		f.CallStatus = cs
		want := "EXPIRED"
		if cs == call.StatusOPEN {
			want = "RECEIVED"
		}
		next, err := NextRefereeStatus(RefereeWaiting, RefereeUpload, f)
		if got := transitiontest.Outcome(t, next, err); got != want {
			t.Errorf("upload while the call is %s: %s, want %s", cs, got, want)
		}
	}
	// An expired link is told before a passed deadline (the trainee can ask again only in the first case).
	if _, err := NextRefereeStatus(RefereeWaiting, RefereeUpload, both); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired link and passed deadline: %v, want the link's expiry", err)
	}
}
