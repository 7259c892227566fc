package graph_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// outcome names how a mutation answered: its top-level error code, "user error CODE" for
// its first user error, or "OK".
func outcome(t *testing.T, r *testkit.Response) string {
	t.Helper()
	if c := r.Code(); c != "" {
		return c
	}
	var out map[string]struct{ UserErrors []userErr }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	for _, p := range out {
		if len(p.UserErrors) > 0 {
			return "user error " + p.UserErrors[0].Code
		}
	}
	return "OK"
}

// meetingActors returns who made each audited change of a meeting, in order: "action by
// email".
func meetingActors(t *testing.T, e *testkit.Env, id string) []string {
	t.Helper()
	evs, err := e.DB.Client.AuditEvent.Query().Where(auditevent.ObjectID(id)).
		Order(auditevent.ByOccurredAt(), auditevent.ByID()).All(e.System())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action+" by "+ev.ActorEmail)
	}
	return out
}

// TestChairsRunTheirGroupsMeetings: a working group's current chair and co-chair schedule,
// change and cancel its meetings and record their minutes, as themselves (the audit trail
// names them), with the same invitations as when staff do it; nobody else does, and a
// chair's power ends with their term or their membership.
func TestChairsRunTheirGroupsMeetings(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e) // 2027-01-12; Claire chairs the pharmacists, Ioana the registry
		a, staff := w.a, w.a.staff
		// Jana co-chairs the registry and is a member of the panel; Nora co-chairs the
		// pharmacists until 20 January and is invited (not yet answered) to co-chair the panel.
		janaRegistry := invite(t, staff, w.registry, w.janaID, "CO_CHAIR", "2027-01-01", "2027-12-31")
		accept(t, w.jana, janaRegistry)
		accept(t, w.nora, invite(t, staff, w.pharm, w.noraID, "CO_CHAIR", "2027-01-01", "2027-01-20"))
		invite(t, staff, w.panel, w.noraID, "CO_CHAIR", "2027-02-01", "2027-12-31")
		panel := mmust(t, staff, scheduleM, map[string]any{"groupId": w.panel, "title": "Delphi round 1",
			"start": "2027-01-28T10:00", "end": "2027-01-28T12:00", "timeZone": "Europe/Brussels", "location": "Brussels"})
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())

		// The chair schedules: every member on the day is invited, the coalition organises.
		m := mmust(t, a.host, scheduleM, map[string]any{"groupId": w.pharm, "title": "Pharmacists January",
			"start": "2027-01-20T14:00", "end": "2027-01-20T15:30", "timeZone": "Europe/Paris", "videoLink": "https://meet.example.org/pharm"})
		members := []string{"claire.martin@hopital.example.fr", "marek.dvorak@example.cz", "nora.nobody@example.org"}
		got := newInvitations(t, e, &seen)
		if !slices.Equal(keys(got), members) {
			t.Fatalf("the chair's meeting invited %v, want %v", keys(got), members)
		}
		for to, inv := range got {
			if inv.calMethod() != "REQUEST" || inv.prop(ics.ComponentPropertyOrganizer) != "mailto:office@coalition.test" ||
				inv.prop(ics.ComponentPropertySequence) != "0" || inv.prop(ics.ComponentPropertyUniqueId) != m.ID+"@127.0.0.1" {
				t.Errorf("%s: METHOD %q ORGANIZER %q SEQUENCE %q UID %q", to, inv.calMethod(), inv.prop(ics.ComponentPropertyOrganizer),
					inv.prop(ics.ComponentPropertySequence), inv.prop(ics.ComponentPropertyUniqueId))
			}
		}
		// The co-chair changes it: the same entry, one version up.
		if u := mmust(t, w.nora, updateMeetingM, map[string]any{"id": m.ID, "agenda": "1. Survey"}); u.Sequence != 1 || u.Agenda != "1. Survey" {
			t.Errorf("co-chair's update: %+v", u)
		}
		if got := newInvitations(t, e, &seen); !slices.Equal(keys(got), members) || got[members[0]].prop(ics.ComponentPropertySequence) != "1" {
			t.Errorf("co-chair's update sent %v", keys(got))
		}
		// The registry's co-chair schedules for the registry.
		reg := mmust(t, w.jana, scheduleM, map[string]any{"groupId": w.registry, "title": "Registry kickoff",
			"start": "2027-01-21T16:00", "end": "2027-01-21T17:00", "timeZone": "Europe/Brussels", "videoLink": "https://meet.example.org/reg"})
		if got := newInvitations(t, e, &seen); !slices.Equal(keys(got), []string{"ioana.popescu@example.ro", "jana.novakova@fnbrno.example.cz"}) {
			t.Errorf("registry meeting invited %v", keys(got))
		}

		// Nobody manages the meetings of a group they do not chair. A meeting they cannot
		// see is not found, as an unknown id would be; one they see (as a member or
		// invitee) is forbidden.
		schedule := func(group string) (string, map[string]any) {
			return scheduleM, map[string]any{"groupId": group, "title": "Mine", "start": "2027-02-15T10:00", "end": "2027-02-15T11:00",
				"timeZone": "Europe/Brussels", "location": "Here"}
		}
		update := func(id string) (string, map[string]any) {
			return updateMeetingM, map[string]any{"id": id, "title": "Mine now"}
		}
		cancel := func(id string) (string, map[string]any) {
			return cancelMeetingM, map[string]any{"id": id, "reason": "Because"}
		}
		minutes := func(id string) (string, map[string]any) {
			return minutesM, map[string]any{"id": id, "minutes": "x", "attendeeIds": []string{}}
		}
		type op = func(string) (string, map[string]any)
		for _, c := range []struct {
			who    string
			cl     *testkit.Client
			do     op
			target string
			want   string
		}{
			{"anonymous", a.anon, schedule, w.pharm, "UNAUTHENTICATED"},
			{"anonymous", a.anon, update, m.ID, "UNAUTHENTICATED"},
			{"anonymous", a.anon, minutes, m.ID, "UNAUTHENTICATED"},
			{"member (Marek)", a.trainee, schedule, w.pharm, "FORBIDDEN"},
			{"member (Marek)", a.trainee, update, m.ID, "FORBIDDEN"},
			{"member (Marek)", a.trainee, cancel, m.ID, "FORBIDDEN"},
			{"member (Marek)", a.trainee, minutes, panel.ID, "FORBIDDEN"},
			{"pharmacists' chair (Claire, host coordinator)", a.host, schedule, w.panel, "FORBIDDEN"},
			{"pharmacists' chair (Claire, host coordinator)", a.host, schedule, w.registry, "FORBIDDEN"},
			{"pharmacists' chair (Claire, host coordinator)", a.host, update, panel.ID, "user error NOT_FOUND"},
			{"pharmacists' chair (Claire, host coordinator)", a.host, cancel, reg.ID, "user error NOT_FOUND"},
			{"pharmacists' chair (Claire, host coordinator)", a.host, minutes, panel.ID, "user error NOT_FOUND"},
			{"registry's co-chair, panel member (Jana)", w.jana, schedule, w.panel, "FORBIDDEN"},
			{"registry's co-chair, panel member (Jana)", w.jana, update, panel.ID, "FORBIDDEN"},
			{"registry's co-chair, panel member (Jana)", w.jana, cancel, panel.ID, "FORBIDDEN"},
			{"registry's co-chair, panel member (Jana)", w.jana, schedule, w.pharm, "FORBIDDEN"},
			{"registry's co-chair, panel member (Jana)", w.jana, update, m.ID, "user error NOT_FOUND"},
			{"invited co-chair of the panel (Nora)", w.nora, schedule, w.panel, "FORBIDDEN"},
			{"invited co-chair of the panel (Nora)", w.nora, update, panel.ID, "user error NOT_FOUND"},
			{"registry's chair (Ioana, trainee)", a.other, schedule, w.pharm, "FORBIDDEN"},
			{"registry's chair (Ioana, trainee)", a.other, update, m.ID, "user error NOT_FOUND"},
		} {
			q, in := c.do(c.target)
			if r := c.cl.Do(q, map[string]any{"in": in}); outcome(t, r) != c.want {
				t.Errorf("%s on %s: %s, want %s", c.who, c.target, r.Body, c.want)
			}
		}
		var p struct{ Node meetingOut }
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Meeting { `+meetingFields+` } } }`, map[string]any{"id": panel.ID}, &p)
		if p.Node.Title != "Delphi round 1" || p.Node.Sequence != 0 || p.Node.Cancelled {
			t.Errorf("refused changes changed the panel's meeting: %+v", p.Node)
		}
		if got := newInvitations(t, e, &seen); len(got) != 0 {
			t.Errorf("refused changes sent %v", keys(got))
		}
		// Staff still manage every group's meetings.
		if u := mmust(t, staff, updateMeetingM, map[string]any{"id": reg.ID, "title": "Registry kick-off"}); u.Sequence != 1 {
			t.Errorf("staff update: %+v", u)
		}

		// After the meeting, the chair records the minutes.
		e.Clock.Set(time.Date(2027, 1, 20, 15, 0, 0, 0, time.UTC))
		done := mmust(t, a.host, minutesM, map[string]any{"id": m.ID, "minutes": "Survey agreed.", "attendeeIds": []string{a.hostID, a.traineeID, w.noraID}})
		if done.Minutes != "Survey agreed." || len(done.Attendees) != 3 {
			t.Errorf("chair's minutes: %+v", done)
		}
		if r := a.trainee.Do(minutesM, map[string]any{"in": map[string]any{"id": m.ID, "minutes": "Mine", "attendeeIds": []string{}}}); r.Code() != "FORBIDDEN" {
			t.Errorf("member records minutes: %s", r.Body)
		}
		// Staff end Jana's co-chairing: tomorrow is her last day.
		gmust(t, staff, endM, map[string]any{"id": janaRegistry, "lastDay": "2027-01-21", "reason": "Moved to another hospital."})

		// 21 January: Nora's term ended yesterday; it is Jana's last day.
		e.Clock.Set(time.Date(2027, 1, 21, 17, 30, 0, 0, time.UTC))
		if r := w.nora.Do(minutesM, map[string]any{"in": map[string]any{"id": m.ID, "minutes": "Mine", "attendeeIds": []string{}}}); r.Code() != "FORBIDDEN" {
			t.Errorf("co-chair after her term records minutes: %s", r.Body)
		}
		if q, in := schedule(w.pharm); outcome(t, w.nora.Do(q, map[string]any{"in": in})) != "FORBIDDEN" {
			t.Errorf("co-chair after her term schedules")
		}
		mmust(t, w.jana, minutesM, map[string]any{"id": reg.ID, "minutes": "Kicked off.", "attendeeIds": []string{w.janaID}})

		// 22 January: Jana's membership has ended; she still sees the meeting she attended.
		e.Clock.Set(time.Date(2027, 1, 22, 9, 0, 0, 0, time.UTC))
		if r := w.jana.Do(minutesM, map[string]any{"in": map[string]any{"id": reg.ID, "minutes": "Amended", "attendeeIds": []string{}}}); r.Code() != "FORBIDDEN" {
			t.Errorf("co-chair ended early records minutes: %s", r.Body)
		}
		if q, in := schedule(w.registry); outcome(t, w.jana.Do(q, map[string]any{"in": in})) != "FORBIDDEN" {
			t.Errorf("co-chair ended early schedules")
		}
		// The chair still can, and can cancel.
		next := mmust(t, a.host, scheduleM, map[string]any{"groupId": w.pharm, "title": "Pharmacists February",
			"start": "2027-02-17T14:00", "end": "2027-02-17T15:00", "timeZone": "Europe/Paris", "location": "Paris"})
		mmust(t, a.host, cancelMeetingM, map[string]any{"id": next.ID, "reason": "Clashes with the congress."})

		// The audit trail names the person who acted, never the system.
		for id, want := range map[string][]string{
			m.ID: {"meeting.create by claire.martin@hopital.example.fr", "meeting.update by nora.nobody@example.org",
				"meeting.update by claire.martin@hopital.example.fr"},
			reg.ID: {"meeting.create by jana.novakova@fnbrno.example.cz", "meeting.update by office@coalition.test",
				"meeting.update by jana.novakova@fnbrno.example.cz"},
			next.ID: {"meeting.create by claire.martin@hopital.example.fr", "meeting.update by claire.martin@hopital.example.fr"},
		} {
			if got := meetingActors(t, e, id); !slices.Equal(got, want) {
				t.Errorf("audit trail of %s: %q, want %q", id, got, want)
			}
		}
	})
}
