package groups_test

import (
	"context"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

func ptr[T any](v T) *T { return &v }

// answers builds a row of the table: def for every caller not named in the pairs
// (name, answer, name, answer, …).
func answers(def string, pairs ...string) map[string]string {
	m := map[string]string{}
	for _, a := range allActors {
		m[a] = def
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// allActors are the columns: testkit.World's callers, then the people of the working group.
var allActors = []string{"anonymous", "trainee", "other trainee", "host", "other host", "former host", "staff",
	"chair", "co-chair", "member", "invitee"}

// staffOnly is the answer of a write only staff may make, whatever the caller holds in the group.
var staffOnly = answers("FORBIDDEN", "anonymous", "UNAUTHENTICATED", "staff", "ok")

// TestWorkingGroupPermissions is the table of the working groups' writes (groups,
// memberships, meetings, declarations): every operation × every kind of caller → the
// answer, through the service as that caller. The callers are testkit.World's (anonymous,
// two trainees, two hosts, a former host whose role was revoked, staff) and the people of
// an INTERNAL working group: its chair, co-chair and a member (accepted, current), and an
// invitee who has not answered. Meetings: one that has started (minutes) and one next
// month (changes). Each row runs in a transaction that is rolled back; a refusal must
// write nothing, and an "ok" must write.
func TestWorkingGroupPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		g := s.WorkingGroups
		chair := testkit.MustUser(t, s, "chair@example.org", "Chair", viewer.RoleTrainee)
		coChair := testkit.MustUser(t, s, "cochair@example.org", "Co-chair", viewer.RoleTrainee)
		member := testkit.MustUser(t, s, "member@example.org", "Member", viewer.RoleTrainee)
		invitee := testkit.MustUser(t, s, "invitee@example.org", "Invitee", viewer.RoleTrainee)
		var group *ent.WorkingGroup
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			var err error
			group, err = g.CreateWorkingGroup(ctx, tx, groups.CreateWorkingGroupInput{
				Name: "Pharmacist Working Group", WorkPackage: workinggroup.WorkPackageSTANDARDS_OF_CARE, Visibility: workinggroup.VisibilityINTERNAL,
			})
			return err
		})
		memberships := map[string]*ent.Membership{}
		for _, p := range []struct {
			u    *ent.User
			role membership.Role
			acc  bool
		}{{chair, membership.RoleCHAIR, true}, {coChair, membership.RoleCO_CHAIR, true}, {member, membership.RoleMEMBER, true}, {invitee, membership.RoleMEMBER, false}} {
			testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				m, err := g.Invite(ctx, tx, groups.InviteInput{GroupID: group.ID, UserID: p.u.ID, Role: p.role, TermStart: "2027-01-01", TermEnd: "2028-12-31"})
				memberships[p.u.Name] = m
				return err
			})
			if p.acc {
				testkit.MustDo(t, s, s.As(p.u), func(ctx context.Context, tx *ent.Client) error {
					_, err := g.Accept(ctx, tx, memberships[p.u.Name].ID)
					return err
				})
			}
		}
		schedule := func(start, end string) *ent.Meeting {
			var m *ent.Meeting
			testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				var err error
				m, err = g.ScheduleMeeting(ctx, tx, groups.ScheduleMeetingInput{GroupID: group.ID, Title: "Quarterly", Start: start, End: end,
					TimeZone: "Europe/Brussels", VideoURL: ptr("https://meet.example.org/wg")})
				return err
			})
			return m
		}
		started := schedule("2027-01-13T10:00", "2027-01-13T11:00")
		nextMonth := schedule("2027-02-15T10:00", "2027-02-15T11:00")
		s.Clock.Advance(48 * time.Hour) // the first meeting has taken place

		actors := append(w.Actors(s),
			testkit.Actor{Name: "chair", Ctx: s.As(chair)}, testkit.Actor{Name: "co-chair", Ctx: s.As(coChair)},
			testkit.Actor{Name: "member", Ctx: s.As(member)}, testkit.Actor{Name: "invitee", Ctx: s.As(invitee)})
		pending := memberships["Invitee"].ID
		// A meeting is NOT_FOUND to those who may not see it (no current membership of the
		// group), FORBIDDEN to a member who sees it but does not chair the group.
		meetingRow := answers("NOT_FOUND", "anonymous", "UNAUTHENTICATED", "staff", "ok", "chair", "ok", "co-chair", "ok", "member", "FORBIDDEN")
		// An invitation is the invitee's to answer; staff see it but may not answer it;
		// to everyone else a pending membership of an INTERNAL group does not exist.
		answerRow := answers("NOT_FOUND", "anonymous", "UNAUTHENTICATED", "staff", "FORBIDDEN", "invitee", "ok")

		ops := []struct {
			name string
			do   func(ctx context.Context, tx *ent.Client) error
			want map[string]string
		}{
			{"createWorkingGroup", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.CreateWorkingGroup(ctx, tx, groups.CreateWorkingGroupInput{Name: "Delphi Expert Panel", WorkPackage: workinggroup.WorkPackageSCIENTIFIC_EXCELLENCE, Visibility: workinggroup.VisibilityPUBLIC})
				return err
			}, staffOnly},
			{"updateWorkingGroup", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.UpdateWorkingGroup(ctx, tx, groups.UpdateWorkingGroupInput{ID: group.ID, Purpose: ptr("Harmonise pharmacy practice.")})
				return err
			}, staffOnly},
			{"archiveWorkingGroup", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.UpdateWorkingGroup(ctx, tx, groups.UpdateWorkingGroupInput{ID: group.ID, Archived: ptr(true)})
				return err
			}, staffOnly},
			{"invite", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.Invite(ctx, tx, groups.InviteInput{GroupID: group.ID, UserID: w.Trainee.ID, Role: membership.RoleOBSERVER, TermStart: "2027-02-01", TermEnd: "2027-12-31"})
				return err
			}, staffOnly},
			{"accept the invitee's invitation", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.Accept(ctx, tx, pending)
				return err
			}, answerRow},
			{"decline the invitee's invitation", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.Decline(ctx, tx, pending)
				return err
			}, answerRow},
			{"end the member's membership", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.End(ctx, tx, groups.EndInput{ID: memberships["Member"].ID, LastDay: "2027-06-30", Reason: "Moved abroad."})
				return err
			}, staffOnly},
			{"scheduleMeeting", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.ScheduleMeeting(ctx, tx, groups.ScheduleMeetingInput{GroupID: group.ID, Title: "Kick-off", Start: "2027-03-01T10:00", End: "2027-03-01T11:00",
					TimeZone: "Europe/Brussels", Location: ptr("Brussels office")})
				return err
			}, answers("FORBIDDEN", "anonymous", "UNAUTHENTICATED", "staff", "ok", "chair", "ok", "co-chair", "ok")},
			{"scheduleMeeting of an unknown group", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.ScheduleMeeting(ctx, tx, groups.ScheduleMeetingInput{GroupID: pulid.ID("wgp_01J0000000000000000000000"), Title: "Kick-off",
					Start: "2027-03-01T10:00", End: "2027-03-01T11:00", TimeZone: "Europe/Brussels", Location: ptr("Brussels office")})
				return err
			}, answers("FORBIDDEN", "anonymous", "UNAUTHENTICATED", "staff", "NOT_FOUND")},
			{"updateMeeting", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.UpdateMeeting(ctx, tx, groups.UpdateMeetingInput{ID: nextMonth.ID, Title: ptr("Quarterly review")})
				return err
			}, meetingRow},
			{"cancelMeeting", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.CancelMeeting(ctx, tx, groups.CancelMeetingInput{ID: nextMonth.ID, Reason: "Clashes with the congress."})
				return err
			}, meetingRow},
			{"recordMinutes", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.RecordMinutes(ctx, tx, groups.MinutesInput{ID: started.ID, Minutes: "Agreed the survey.", AttendeeIDs: []pulid.ID{chair.ID, member.ID}})
				return err
			}, meetingRow},
			{"declare nothing to declare", func(ctx context.Context, tx *ent.Client) error {
				_, err := g.Declare(ctx, tx, groups.DeclareInput{NothingToDeclare: true})
				return err
			}, answers("ok", "anonymous", "UNAUTHENTICATED")},
		}
		for _, op := range ops {
			for _, a := range actors {
				got, wrote := s.TryWrites(a.Ctx, op.do)
				if got != op.want[a.Name] {
					t.Errorf("%s as %s: %s, want %s", op.name, a.Name, got, op.want[a.Name])
				}
				if wrote != (got == "ok") {
					t.Errorf("%s as %s: answered %s and wrote %v", op.name, a.Name, got, wrote)
				}
			}
		}
	})
}
