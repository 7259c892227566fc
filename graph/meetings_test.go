package graph_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

const (
	meetingFields = `id title startsAt endsAt startLocal endLocal timeZone location videoLink agenda agendaHtml
		minutes minutesHtml sequence cancelled cancelReason group { id name } attendees { id name }`
	scheduleM = `mutation($in: ScheduleMeetingInput!) { scheduleMeeting(input: $in) {
		meeting { ` + meetingFields + ` } userErrors { field code message } } }`
	updateMeetingM = `mutation($in: UpdateMeetingInput!) { updateMeeting(input: $in) {
		meeting { ` + meetingFields + ` } userErrors { field code message } } }`
	cancelMeetingM = `mutation($in: CancelMeetingInput!) { cancelMeeting(input: $in) {
		meeting { ` + meetingFields + ` } userErrors { field code message } } }`
	minutesM = `mutation($in: RecordMeetingMinutesInput!) { recordMeetingMinutes(input: $in) {
		meeting { ` + meetingFields + ` } userErrors { field code message } } }`
	meetingsQ = `query($f: MeetingFilters) { meetings(first: 50, filter: $f) { totalCount edges { node { id title group { name } } } } }`
)

type meetingOut struct {
	ID, Title, StartsAt, EndsAt, StartLocal, EndLocal, TimeZone, Location, VideoURL string
	Agenda, AgendaHTML, Minutes, MinutesHTML, CancelReason                          string
	Sequence                                                                        int
	Cancelled                                                                       bool
	Group                                                                           struct{ ID, Name string }
	Attendees                                                                       []struct{ ID, Name string }
}

type meetingPayload struct {
	Meeting    *meetingOut
	UserErrors []userErr
}

func mmutate(t *testing.T, c *testkit.Client, query string, in map[string]any) meetingPayload {
	t.Helper()
	var out map[string]meetingPayload
	c.MustDo(query, map[string]any{"in": in}, &out)
	for _, p := range out {
		return p
	}
	t.Fatalf("no payload")
	return meetingPayload{}
}

func mmust(t *testing.T, c *testkit.Client, query string, in map[string]any) meetingOut {
	t.Helper()
	p := mmutate(t, c, query, in)
	if len(p.UserErrors) > 0 || p.Meeting == nil {
		t.Fatalf("unexpected user errors for %v: %+v", in, p.UserErrors)
	}
	return *p.Meeting
}

// invitation is what one recipient received about a meeting: the email and its calendar
// object parsed back with golang-ical.
type invitation struct {
	to, subject, text string
	method            string // the method parameter of the text/calendar part
	alternative       bool   // the calendar object is also an alternative of the body
	cal               *ics.Calendar
	ev                *ics.VEvent
}

func (i invitation) prop(p ics.ComponentProperty) string {
	if v := i.ev.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func (i invitation) calMethod() string {
	for _, p := range i.cal.CalendarProperties {
		if p.IANAToken == string(ics.PropertyMethod) {
			return p.Value
		}
	}
	return ""
}

// newInvitations drains the outbox and returns the meeting emails received since seen,
// by recipient.
func newInvitations(t *testing.T, e *testkit.Env, seen *int) map[string]invitation {
	t.Helper()
	e.DrainOutbox()
	msgs := e.SMTP.Messages()
	out := map[string]invitation{}
	for _, m := range msgs[*seen:] {
		parts, err := m.Parts()
		if err != nil {
			t.Fatal(err)
		}
		inv := invitation{to: m.To[0], subject: m.Subject, text: m.TextBody()}
		var attachments int
		for _, p := range parts {
			if p.MediaType != "text/calendar" {
				continue
			}
			if p.Disposition == "attachment" {
				attachments++
				if p.Filename != "invite.ics" {
					t.Errorf("%s: calendar attachment named %q", m.To[0], p.Filename)
				}
			} else {
				inv.alternative = true
			}
			inv.method = p.Params["method"]
			cal, err := ics.ParseCalendar(bytes.NewReader(p.Content))
			if err != nil {
				t.Fatalf("%s: parse calendar: %v\n%s", m.To[0], err, p.Content)
			}
			if evs := cal.Events(); len(evs) != 1 {
				t.Fatalf("%s: %d events", m.To[0], len(evs))
			} else {
				inv.cal, inv.ev = cal, evs[0]
			}
		}
		if inv.ev != nil && attachments != 1 {
			t.Errorf("%s: %d calendar attachments, want 1", m.To[0], attachments)
		}
		if _, dup := out[inv.to]; dup {
			t.Errorf("%s received two emails: %q and %q", inv.to, out[inv.to].subject, inv.subject)
		}
		out[inv.to] = inv
	}
	*seen = len(msgs)
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestMeetingInvitationsCarryCalendarEntries(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e) // 2027-01-12; the pharmacists: Claire (chair), Marek (until 2027-01-31)
		staff := w.a.staff
		// Nora joins the pharmacists from 2027-01-20: not a member today, but on the meeting's day.
		accept(t, w.nora, invite(t, staff, w.pharm, w.noraID, "SECRETARIAT", "2027-01-20", "2027-12-31"))
		// Ioana is invited but has not answered: not a member.
		invite(t, staff, w.pharm, w.a.otherID, "MEMBER", "2027-01-01", "2027-12-31")
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())

		m := mmust(t, staff, scheduleM, map[string]any{
			"groupId": w.pharm, "title": "Quarterly meeting", "start": "2027-01-28T14:00", "end": "2027-01-28T15:30",
			"timeZone": "Europe/Paris", "location": "Hôpital Saint-Louis, Paris (fictional), room 3",
			"videoLink": "https://meet.example.org/pharm-q1", "agenda": "1. Survey on **CAR-T** handling\n2. AOB",
		})
		if m.StartsAt != "2027-01-28T13:00:00Z" || m.EndsAt != "2027-01-28T14:30:00Z" || m.StartLocal != "2027-01-28T14:00" ||
			m.EndLocal != "2027-01-28T15:30" || m.Sequence != 0 || m.Cancelled || !strings.Contains(m.AgendaHTML, "<strong>CAR-T</strong>") {
			t.Errorf("scheduled: %+v", m)
		}
		uid := m.ID + "@127.0.0.1"
		got := newInvitations(t, e, &seen)
		wantTo := []string{"claire.martin@hopital.example.fr", "marek.dvorak@example.cz", "nora.nobody@example.org"}
		if !slices.Equal(keys(got), wantTo) {
			t.Fatalf("invited %v, want %v", keys(got), wantTo)
		}
		names := map[string]string{"claire.martin@hopital.example.fr": "Claire Martin", "marek.dvorak@example.cz": "Marek Dvořák", "nora.nobody@example.org": "Nora Nobody"}
		for to, inv := range got {
			if inv.subject != "Invitation: Quarterly meeting (Pharmacist Working Group), Thursday 28 January 2027, 14:00–15:30 (Europe/Paris)" {
				t.Errorf("%s: subject %q", to, inv.subject)
			}
			if !strings.Contains(inv.text, "Thursday 28 January 2027, 13:00–14:30 (UTC)") || !strings.Contains(inv.text, "Join online: https://meet.example.org/pharm-q1") {
				t.Errorf("%s: text\n%s", to, inv.text)
			}
			if inv.method != "REQUEST" || !inv.alternative || inv.calMethod() != "REQUEST" {
				t.Errorf("%s: method %q (alternative %v), METHOD %q", to, inv.method, inv.alternative, inv.calMethod())
			}
			for p, want := range map[ics.ComponentProperty]string{
				ics.ComponentPropertyUniqueId:  uid,
				ics.ComponentPropertySequence:  "0",
				ics.ComponentPropertyDtStart:   "20270128T130000Z",
				ics.ComponentPropertyDtEnd:     "20270128T143000Z",
				ics.ComponentPropertyDtstamp:   "20270112T093000Z",
				ics.ComponentPropertySummary:   "Quarterly meeting (Pharmacist Working Group)",
				ics.ComponentPropertyLocation:  "Hôpital Saint-Louis, Paris (fictional), room 3",
				ics.ComponentPropertyUrl:       "https://meet.example.org/pharm-q1",
				ics.ComponentPropertyStatus:    "CONFIRMED",
				ics.ComponentPropertyOrganizer: "mailto:office@coalition.test",
				ics.ComponentPropertyAttendee:  "mailto:" + to,
			} {
				if v := inv.prop(p); v != want {
					t.Errorf("%s: %s = %q, want %q", to, p, v, want)
				}
			}
			if d := inv.prop(ics.ComponentPropertyDescription); !strings.Contains(d, "Agenda:\n1. Survey on **CAR-T** handling\n2. AOB") {
				t.Errorf("%s: DESCRIPTION %q", to, d)
			}
			if att := inv.ev.Attendees(); len(att) != 1 || att[0].ICalParameters["CN"][0] != names[to] || att[0].ParticipationStatus() != ics.ParticipationStatusNeedsAction {
				t.Errorf("%s: attendees %+v", to, att)
			}
		}

		// Nothing changes: nothing is sent and the version stays.
		if u := mmust(t, staff, updateMeetingM, map[string]any{"id": m.ID, "title": "Quarterly meeting", "start": "2027-01-28T14:00"}); u.Sequence != 0 {
			t.Errorf("unchanged update: sequence %d", u.Sequence)
		}
		if got := newInvitations(t, e, &seen); len(got) != 0 {
			t.Errorf("unchanged update sent %v", keys(got))
		}

		// Moved to 4 February, 10:00 in Brussels: Marek's term is over by then.
		u := mmust(t, staff, updateMeetingM, map[string]any{"id": m.ID, "start": "2027-02-04T10:00", "end": "2027-02-04T12:00", "timeZone": "Europe/Brussels"})
		if u.Sequence != 1 || u.StartsAt != "2027-02-04T09:00:00Z" || u.TimeZone != "Europe/Brussels" {
			t.Errorf("moved: %+v", u)
		}
		got = newInvitations(t, e, &seen)
		if !slices.Equal(keys(got), wantTo) {
			t.Fatalf("after the move, emailed %v", keys(got))
		}
		for _, to := range []string{"claire.martin@hopital.example.fr", "nora.nobody@example.org"} {
			inv := got[to]
			if inv.subject != "Updated: Quarterly meeting (Pharmacist Working Group), Thursday 4 February 2027, 10:00–12:00 (Europe/Brussels)" ||
				!strings.Contains(inv.text, "has changed (time)") || inv.method != "REQUEST" || inv.calMethod() != "REQUEST" ||
				inv.prop(ics.ComponentPropertyUniqueId) != uid || inv.prop(ics.ComponentPropertySequence) != "1" ||
				inv.prop(ics.ComponentPropertyDtStart) != "20270204T090000Z" || inv.prop(ics.ComponentPropertyStatus) != "CONFIRMED" {
				t.Errorf("%s after the move: %q method %q UID %q SEQUENCE %q DTSTART %q\n%s", to, inv.subject, inv.method,
					inv.prop(ics.ComponentPropertyUniqueId), inv.prop(ics.ComponentPropertySequence), inv.prop(ics.ComponentPropertyDtStart), inv.text)
			}
		}
		if inv := got["marek.dvorak@example.cz"]; !strings.HasPrefix(inv.subject, "Removed from your calendar: Quarterly meeting") ||
			inv.method != "CANCEL" || inv.calMethod() != "CANCEL" || inv.prop(ics.ComponentPropertyUniqueId) != uid ||
			inv.prop(ics.ComponentPropertySequence) != "1" || inv.prop(ics.ComponentPropertyStatus) != "CANCELLED" {
			t.Errorf("Marek after the move: %q method %q SEQUENCE %q STATUS %q", inv.subject, inv.method,
				inv.prop(ics.ComponentPropertySequence), inv.prop(ics.ComponentPropertyStatus))
		}

		// Cancelled: everyone who holds the invitation gets the cancellation; Marek does not.
		c := mmust(t, staff, cancelMeetingM, map[string]any{"id": m.ID, "reason": "The chair is at a conference."})
		if !c.Cancelled || c.Sequence != 2 || c.CancelReason != "The chair is at a conference." {
			t.Errorf("cancelled: %+v", c)
		}
		got = newInvitations(t, e, &seen)
		if want := []string{"claire.martin@hopital.example.fr", "nora.nobody@example.org"}; !slices.Equal(keys(got), want) {
			t.Fatalf("cancellation went to %v, want %v", keys(got), want)
		}
		for to, inv := range got {
			if inv.subject != "Cancelled: Quarterly meeting (Pharmacist Working Group), Thursday 4 February 2027, 10:00–12:00 (Europe/Brussels)" ||
				!strings.Contains(inv.text, "Reason: The chair is at a conference.") || inv.method != "CANCEL" || inv.calMethod() != "CANCEL" ||
				inv.prop(ics.ComponentPropertyUniqueId) != uid || inv.prop(ics.ComponentPropertySequence) != "2" ||
				inv.prop(ics.ComponentPropertyStatus) != "CANCELLED" || inv.prop(ics.ComponentPropertyAttendee) != "mailto:"+to {
				t.Errorf("%s cancellation: %q method %q SEQUENCE %q STATUS %q", to, inv.subject, inv.method,
					inv.prop(ics.ComponentPropertySequence), inv.prop(ics.ComponentPropertyStatus))
			}
		}
		// A cancelled meeting cannot change or be cancelled again.
		for _, q := range []struct {
			m  string
			in map[string]any
		}{{updateMeetingM, map[string]any{"id": m.ID, "title": "Again"}}, {cancelMeetingM, map[string]any{"id": m.ID, "reason": "Twice"}}} {
			if p := mmutate(t, staff, q.m, q.in); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
				t.Errorf("after cancelling: %+v", p.UserErrors)
			}
		}
		if got := newInvitations(t, e, &seen); len(got) != 0 {
			t.Errorf("refused changes sent %v", keys(got))
		}
	})
}

func TestMeetingsWhoSeesWhat(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e)
		a, staff := w.a, w.a.staff
		sched := func(group, title, start string) string {
			return mmust(t, staff, scheduleM, map[string]any{"groupId": group, "title": title, "start": start,
				"end": start[:11] + "18:00", "timeZone": "Europe/Brussels", "videoLink": "https://meet.example.org/" + strings.ReplaceAll(title, " ", "-")}).ID
		}
		pharmMeeting := sched(w.pharm, "Pharmacists January", "2027-01-20T16:00")
		panelMeeting := sched(w.panel, "Delphi round 1", "2027-01-21T16:00")
		registryMeeting := sched(w.registry, "Registry kickoff", "2027-01-22T16:00")

		list := func(c *testkit.Client, filter map[string]any) []string {
			t.Helper()
			var out struct {
				Meetings struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID, Title string } }
				}
			}
			c.MustDo(meetingsQ, map[string]any{"f": filter}, &out)
			got := names(out.Meetings.Edges, func(e struct{ Node struct{ ID, Title string } }) string { return e.Node.Title })
			if out.Meetings.TotalCount != len(got) {
				t.Errorf("totalCount %d for %v", out.Meetings.TotalCount, got)
			}
			return got
		}
		node := func(c *testkit.Client, id string) string {
			t.Helper()
			var out struct{ Node *struct{ Title string } }
			r := c.Do(`query($id: ID!) { node(id: $id) { ... on Meeting { title } } }`, map[string]any{"id": id})
			if len(r.Errors) > 0 {
				if r.Code() != "NOT_FOUND" {
					t.Errorf("node %s: %s", id, r.Body)
				}
				return ""
			}
			if err := json.Unmarshal(r.Data, &out); err != nil {
				t.Fatal(err)
			}
			if out.Node == nil {
				return ""
			}
			return out.Node.Title
		}
		groupMeetings := func(c *testkit.Client, group string) []string {
			t.Helper()
			var out struct {
				Node *struct {
					Meetings struct {
						Edges []struct{ Node struct{ Title string } }
					}
				}
			}
			c.MustDo(`query($id: ID!) { node(id: $id) { ... on WorkingGroup { meetings(first: 10) { edges { node { title } } } } } }`, map[string]any{"id": group}, &out)
			if out.Node == nil {
				return nil
			}
			return names(out.Node.Meetings.Edges, func(e struct{ Node struct{ Title string } }) string { return e.Node.Title })
		}
		all := []string{"Pharmacists January", "Delphi round 1", "Registry kickoff"}
		for _, c := range []struct {
			who  string
			cl   *testkit.Client
			want []string
		}{
			{"anonymous", a.anon, nil},
			{"signed in, no group (Nora)", w.nora, nil},
			{"member of the pharmacists and the panel (Marek)", a.trainee, []string{"Pharmacists January", "Delphi round 1"}},
			{"member of the panel (Jana)", w.jana, []string{"Delphi round 1"}},
			{"chair of the pharmacists, only invited to the panel (Claire)", a.host, []string{"Pharmacists January"}},
			{"chair of the registry (Ioana)", a.other, []string{"Registry kickoff"}},
			{"staff", staff, all},
		} {
			t.Run(c.who, func(t *testing.T) {
				if got := list(c.cl, nil); !slices.Equal(got, c.want) {
					t.Errorf("meetings: %v, want %v", got, c.want)
				}
				for i, id := range []string{pharmMeeting, panelMeeting, registryMeeting} {
					want := ""
					if slices.Contains(c.want, all[i]) {
						want = all[i]
					}
					if got := node(c.cl, id); got != want {
						t.Errorf("node(%s) = %q, want %q", all[i], got, want)
					}
				}
				// A filter narrows what one may see; it never widens it.
				if got := list(c.cl, map[string]any{"groupId": w.panel}); slices.Contains(got, "Delphi round 1") != slices.Contains(c.want, "Delphi round 1") || len(got) > 1 {
					t.Errorf("filtered by the panel: %v", got)
				}
				// The public group's meetings through the group: only for who may see them.
				if got := groupMeetings(c.cl, w.pharm); slices.Contains(got, "Pharmacists January") != slices.Contains(c.want, "Pharmacists January") {
					t.Errorf("pharmacists' meetings through the group: %v", got)
				}
			})
		}

		// After Marek's term in the pharmacists ends he no longer sees their meeting list,
		// except a meeting he attended.
		e.Clock.Set(time.Date(2027, 1, 20, 18, 0, 0, 0, time.UTC))
		mmust(t, staff, minutesM, map[string]any{"id": pharmMeeting, "minutes": "Agreed on the survey.", "attendeeIds": []string{a.traineeID}})
		next := sched(w.pharm, "Pharmacists February", "2027-02-10T16:00")
		e.Clock.Set(time.Date(2027, 2, 2, 9, 0, 0, 0, time.UTC))
		if got := list(a.trainee, map[string]any{"groupId": w.pharm}); !slices.Equal(got, []string{"Pharmacists January"}) {
			t.Errorf("former member sees %v, want only the meeting he attended", got)
		}
		if got := node(a.trainee, next); got != "" {
			t.Errorf("former member sees the next meeting: %q", got)
		}
	})
}

func TestMeetingRulesAndBadInput(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e)
		a, staff := w.a, w.a.staff
		good := func() map[string]any {
			return map[string]any{"groupId": w.panel, "title": "Delphi round 1", "start": "2027-03-28T10:00", "end": "2027-03-28T12:00",
				"timeZone": "Europe/Paris", "location": "Online"}
		}
		count := func() int {
			var out struct{ Meetings struct{ TotalCount int } }
			staff.MustDo(`{ meetings(first: 1, filter: {includeCancelled: true}) { totalCount } }`, nil, &out)
			return out.Meetings.TotalCount
		}
		e.DrainOutbox()
		mails := len(e.SMTP.Messages())

		// Only staff and the panel's chairs (it has none) schedule, change, cancel and record
		// minutes. A meeting the caller cannot see is not found, as for any unknown id.
		m := mmust(t, staff, scheduleM, good())
		e.DrainOutbox()
		mails = len(e.SMTP.Messages())
		for _, c := range []struct {
			who              string
			cl               *testkit.Client
			schedule, others string
		}{
			{"anonymous", a.anon, "UNAUTHENTICATED", "UNAUTHENTICATED"},
			{"member", a.trainee, "FORBIDDEN", "FORBIDDEN"},
			{"chair of another group", a.other, "FORBIDDEN", "user error NOT_FOUND"},
			{"host coordinator, chair of another group", a.host, "FORBIDDEN", "user error NOT_FOUND"},
		} {
			for name, q := range map[string]struct {
				m  string
				in map[string]any
			}{
				"schedule": {scheduleM, good()},
				"update":   {updateMeetingM, map[string]any{"id": m.ID, "title": "Mine now"}},
				"cancel":   {cancelMeetingM, map[string]any{"id": m.ID, "reason": "Because"}},
				"minutes":  {minutesM, map[string]any{"id": m.ID, "minutes": "x", "attendeeIds": []string{}}},
			} {
				want := c.others
				if name == "schedule" {
					want = c.schedule
				}
				if r := c.cl.Do(q.m, map[string]any{"in": q.in}); outcome(t, r) != want {
					t.Errorf("%s %s: %s, want %s", c.who, name, r.Body, want)
				}
			}
		}

		bad := []struct {
			name   string
			change map[string]any
			field  string
			code   string
		}{
			{"unknown group", map[string]any{"groupId": "wgp_01J0000000000000000000000"}, "groupId", "NOT_FOUND"},
			{"no title", map[string]any{"title": "  "}, "title", "REQUIRED"},
			{"title too long", map[string]any{"title": strings.Repeat("é", 201)}, "title", "TOO_LONG"},
			{"title two lines", map[string]any{"title": "a\nb"}, "title", "INVALID"},
			{"no zone", map[string]any{"timeZone": ""}, "timeZone", "REQUIRED"},
			{"unknown zone", map[string]any{"timeZone": "Mars/Olympus"}, "timeZone", "INVALID"},
			{"Local is no zone", map[string]any{"timeZone": "Local"}, "timeZone", "INVALID"},
			{"bad start", map[string]any{"start": "2027-13-01T10:00"}, "start", "INVALID"},
			{"start with offset", map[string]any{"start": "2027-03-28T10:00+01:00"}, "start", "INVALID"},
			{"no end", map[string]any{"end": ""}, "end", "REQUIRED"},
			{"clocks go forward", map[string]any{"start": "2027-03-28T02:30"}, "start", "INVALID"},
			{"ends before it starts", map[string]any{"end": "2027-03-28T09:00"}, "end", "INVALID"},
			{"longer than a week", map[string]any{"end": "2027-04-05T10:00"}, "end", "INVALID"},
			{"in the past", map[string]any{"start": "2027-01-11T10:00", "end": "2027-01-11T12:00"}, "start", "INVALID"},
			{"nowhere", map[string]any{"location": ""}, "location", "REQUIRED"},
			{"video over http", map[string]any{"videoLink": "http://meet.example.org/x"}, "videoLink", "INVALID"},
			{"video not a URL", map[string]any{"videoLink": "meet me"}, "videoLink", "INVALID"},
			{"agenda too long", map[string]any{"agenda": strings.Repeat("a", 20001)}, "agenda", "TOO_LONG"},
		}
		before := count()
		for _, c := range bad {
			in := good()
			for k, v := range c.change {
				in[k] = v
			}
			p := mmutate(t, staff, scheduleM, in)
			if p.Meeting != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != c.code || p.UserErrors[0].Field[1] != c.field {
				t.Errorf("%s: %+v, want %s on %s", c.name, p.UserErrors, c.code, c.field)
			}
			// The same through an update.
			if c.field != "groupId" {
				delete(in, "groupId")
				upd := map[string]any{"id": m.ID}
				for k, v := range c.change {
					upd[k] = v
				}
				if p := mmutate(t, staff, updateMeetingM, upd); p.Meeting != nil || len(p.UserErrors) == 0 || p.UserErrors[0].Code != c.code {
					t.Errorf("update %s: %+v, want %s", c.name, p.UserErrors, c.code)
				}
			}
		}
		if p := mmutate(t, staff, cancelMeetingM, map[string]any{"id": m.ID, "reason": " "}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("cancel without a reason: %+v", p.UserErrors)
		}
		gmust(t, staff, updateGroupM, map[string]any{"id": w.registry, "archived": true})
		in := good()
		in["groupId"] = w.registry
		if p := mmutate(t, staff, scheduleM, in); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("archived group: %+v", p.UserErrors)
		}
		if after := count(); after != before {
			t.Errorf("refused input wrote meetings: %d → %d", before, after)
		}
		var got struct{ Node meetingOut }
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Meeting { `+meetingFields+` } } }`, map[string]any{"id": m.ID}, &got)
		if got.Node.Title != "Delphi round 1" || got.Node.Sequence != 0 || got.Node.StartLocal != "2027-03-28T10:00" {
			t.Errorf("refused updates changed the meeting: %+v", got.Node)
		}
		e.DrainOutbox()
		if n := len(e.SMTP.Messages()); n != mails {
			t.Errorf("refused input sent %d emails", n-mails)
		}

		// Minutes: only once it has started, attendees only members on the day.
		if p := mmutate(t, staff, minutesM, map[string]any{"id": m.ID, "minutes": "Too early", "attendeeIds": []string{}}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("minutes before the start: %+v", p.UserErrors)
		}
		e.Clock.Set(time.Date(2027, 3, 28, 8, 0, 0, 0, time.UTC))                                     // 10:00 in Paris (CEST)
		staff, jana := e.SignIn("office@coalition.test"), e.SignIn("jana.novakova@fnbrno.example.cz") // sessions have expired
		if p := mmutate(t, staff, updateMeetingM, map[string]any{"id": m.ID, "title": "Late"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("update after the start: %+v", p.UserErrors)
		}
		if p := mmutate(t, staff, minutesM, map[string]any{"id": m.ID, "minutes": "x", "attendeeIds": []string{w.noraID}}); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("a non-member as attendee: %+v", p.UserErrors)
		}
		if p := mmutate(t, staff, minutesM, map[string]any{"id": m.ID, "minutes": "", "attendeeIds": []string{}}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("empty minutes: %+v", p.UserErrors)
		}
		done := mmust(t, staff, minutesM, map[string]any{"id": m.ID, "minutes": "## Decisions\n- Round 2 in May", "attendeeIds": []string{w.janaID, a.traineeID, w.janaID}})
		att := names(done.Attendees, func(u struct{ ID, Name string }) string { return u.Name })
		slices.Sort(att)
		if !slices.Equal(att, []string{"Jana Nováková", "Marek Dvořák"}) || !strings.Contains(done.MinutesHTML, "<h2") || !strings.Contains(done.MinutesHTML, "<li>Round 2 in May</li>") {
			t.Errorf("minutes: %v %q", att, done.MinutesHTML)
		}
		// Members read the minutes.
		var mine struct{ Node *meetingOut }
		jana.MustDo(`query($id: ID!) { node(id: $id) { ... on Meeting { `+meetingFields+` } } }`, map[string]any{"id": m.ID}, &mine)
		if mine.Node == nil || mine.Node.Minutes != "## Decisions\n- Round 2 in May" {
			t.Errorf("member reading minutes: %+v", mine.Node)
		}
	})
}
