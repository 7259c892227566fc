package newsletter

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/schema"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// decided writes a decision as the table below does: the next status, or the refusal's
// codes joined by "+". A refusal without a message fails.
func decide(t *testing.T, from campaign.Status, ev CampaignEvent, f CampaignFacts) string {
	t.Helper()
	next, err := NextCampaignStatus(from, ev, f)
	return outcomeOf(t, next, err)
}

func outcomeOf(t *testing.T, next campaign.Status, err error) string {
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

var (
	tNow    = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	lateFor = time.Hour
)

// allowing are facts under which every event may happen as far as facts go: a start
// requested in the future (schedule), a slot just reached (start), a non-empty audience,
// nothing outstanding.
func allowing(ev CampaignEvent) CampaignFacts {
	f := CampaignFacts{Now: tNow, LateAfter: lateFor, At: tNow.Add(time.Hour)}
	if ev == CampaignStart {
		f.At = tNow.Add(-time.Minute)
	}
	return f
}

// TestCampaignTable decides every status × event with facts that allow everything the
// status allows: what is left is the status's own answer. A status or event added to the
// schema or the list of events and not decided here fails.
func TestCampaignTable(t *testing.T) {
	var enum []string
	for _, f := range (schema.Campaign{}).Fields() {
		if d := f.Descriptor(); d.Name == "status" {
			for _, e := range d.Enums {
				enum = append(enum, e.V)
			}
		}
	}
	listed := make([]string, len(CampaignStatuses))
	for i, s := range CampaignStatuses {
		listed[i] = string(s)
	}
	slices.Sort(enum)
	slices.Sort(listed)
	if !slices.Equal(enum, listed) {
		t.Fatalf("CampaignStatuses lists %v; the schema has %v", listed, enum)
	}

	const no = "INVALID_STATE"
	E, A, SC, SG, P, S, C := "DRAFT", "APPROVED", "SCHEDULED", "SENDING", "PAUSED", "SENT", "CANCELLED"
	want := map[campaign.Status]map[CampaignEvent]string{
		campaign.StatusDRAFT: {
			CampaignEdit: E, CampaignApprove: A, CampaignSchedule: no, CampaignUnschedule: no, CampaignSendNow: no,
			CampaignStart: no, CampaignPause: no, CampaignResume: no, CampaignCancel: C, CampaignComplete: no,
		},
		campaign.StatusAPPROVED: {
			CampaignEdit: E, CampaignApprove: no, CampaignSchedule: SC, CampaignUnschedule: no, CampaignSendNow: SG,
			CampaignStart: no, CampaignPause: no, CampaignResume: no, CampaignCancel: C, CampaignComplete: no,
		},
		campaign.StatusSCHEDULED: {
			CampaignEdit: E, CampaignApprove: no, CampaignSchedule: SC, CampaignUnschedule: A, CampaignSendNow: SG,
			CampaignStart: SG, CampaignPause: no, CampaignResume: no, CampaignCancel: C, CampaignComplete: no,
		},
		campaign.StatusSENDING: {
			CampaignEdit: no, CampaignApprove: no, CampaignSchedule: no, CampaignUnschedule: no, CampaignSendNow: no,
			CampaignStart: no, CampaignPause: P, CampaignResume: no, CampaignCancel: C, CampaignComplete: S,
		},
		campaign.StatusPAUSED: {
			CampaignEdit: no, CampaignApprove: no, CampaignSchedule: no, CampaignUnschedule: no, CampaignSendNow: no,
			CampaignStart: no, CampaignPause: no, CampaignResume: SG, CampaignCancel: C, CampaignComplete: no,
		},
		campaign.StatusSENT: {
			CampaignEdit: no, CampaignApprove: no, CampaignSchedule: no, CampaignUnschedule: no, CampaignSendNow: no,
			CampaignStart: no, CampaignPause: no, CampaignResume: no, CampaignCancel: no, CampaignComplete: no,
		},
		campaign.StatusCANCELLED: {
			CampaignEdit: no, CampaignApprove: no, CampaignSchedule: no, CampaignUnschedule: no, CampaignSendNow: no,
			CampaignStart: no, CampaignPause: no, CampaignResume: no, CampaignCancel: no, CampaignComplete: no,
		},
	}
	if len(want) != len(CampaignStatuses) {
		t.Errorf("the expected table has %d states, the machine %d", len(want), len(CampaignStatuses))
	}
	for _, st := range CampaignStatuses {
		if len(want[st]) != len(CampaignEvents) {
			t.Errorf("the expected row of %s has %d events, the machine %d", st, len(want[st]), len(CampaignEvents))
		}
		for _, ev := range CampaignEvents {
			w, ok := want[st][ev]
			if !ok {
				t.Errorf("%s × %s: not decided in the expected table", st, ev)
				continue
			}
			if got := decide(t, st, ev, allowing(ev)); got != w {
				t.Errorf("%s × %s = %s, want %s", st, ev, got, w)
			}
		}
	}
	if got := decide(t, campaign.StatusDRAFT, "nonsense", CampaignFacts{}); got != "INVALID" {
		t.Errorf("unknown event = %s, want INVALID", got)
	}
}

// TestCampaignFacts decides each fact on a status that would otherwise allow the event.
func TestCampaignFacts(t *testing.T) {
	empty := func(ev CampaignEvent) CampaignFacts { f := allowing(ev); f.EmptyAudience = true; return f }
	at := func(ev CampaignEvent, d time.Duration) CampaignFacts { f := allowing(ev); f.At = tNow.Add(d); return f }
	outstanding := allowing(CampaignComplete)
	outstanding.Outstanding = true
	for _, c := range []struct {
		name string
		from campaign.Status
		ev   CampaignEvent
		f    CampaignFacts
		want string
	}{
		{"approve with no audience", campaign.StatusDRAFT, CampaignApprove, empty(CampaignApprove), "REQUIRED"},
		{"schedule with no audience", campaign.StatusAPPROVED, CampaignSchedule, empty(CampaignSchedule), "REQUIRED"},
		{"send with no audience", campaign.StatusAPPROVED, CampaignSendNow, empty(CampaignSendNow), "REQUIRED"},
		{"start with no audience", campaign.StatusSCHEDULED, CampaignStart, empty(CampaignStart), "REQUIRED"},
		{"schedule in the past", campaign.StatusAPPROVED, CampaignSchedule, at(CampaignSchedule, -time.Second), "INVALID"},
		{"schedule now", campaign.StatusAPPROVED, CampaignSchedule, at(CampaignSchedule, 0), "INVALID"},
		{"reschedule in the past", campaign.StatusSCHEDULED, CampaignSchedule, at(CampaignSchedule, -time.Hour), "INVALID"},
		{"start before its time", campaign.StatusSCHEDULED, CampaignStart, at(CampaignStart, time.Second), "INVALID_STATE"},
		{"start at its time", campaign.StatusSCHEDULED, CampaignStart, at(CampaignStart, 0), "SENDING"},
		{"start at the last moment", campaign.StatusSCHEDULED, CampaignStart, at(CampaignStart, -lateFor), "SENDING"},
		{"start too late", campaign.StatusSCHEDULED, CampaignStart, at(CampaignStart, -lateFor-time.Second), "EXPIRED"},
		{"send a late campaign now", campaign.StatusSCHEDULED, CampaignSendNow, at(CampaignSendNow, -24*time.Hour), "SENDING"},
		{"complete with deliveries outstanding", campaign.StatusSENDING, CampaignComplete, outstanding, "INVALID_STATE"},
	} {
		if got := decide(t, c.from, c.ev, c.f); got != c.want {
			t.Errorf("%s: %s × %s = %s, want %s", c.name, c.from, c.ev, got, c.want)
		}
	}
}
