package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// chairsToday is the date of the table below: 2027-01-12 in Brussels.
var chairsToday = time.Date(2027, 1, 12, 9, 30, 0, 0, time.UTC)

// TestCanManageMeetings is the table of who may write the meetings of a working group, by
// the person's membership of that group (and only that group), through the predicate the
// service asks (CanManageMeetings) and through the Meeting privacy policy itself
// (create, update, delete on the ent client directly, with no service in front).
func TestCanManageMeetings(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		now := func() time.Time { return chairsToday }
		sys := clock.WithNow(viewer.NewSystemContext(context.Background()), now)
		c := d.Client
		group := func(name string) *ent.WorkingGroup {
			return c.WorkingGroup.Create().SetName(name).SetWorkPackage(workinggroup.WorkPackageSTANDARDS_OF_CARE).SaveX(sys)
		}
		a, b := group("Pharmacist Working Group"), group("Delphi Expert Panel")
		meeting := func(g *ent.WorkingGroup) *ent.Meeting {
			return c.Meeting.Create().SetGroupID(g.ID).SetTitle("Quarterly").SetTimeZone("Europe/Paris").
				SetStartsAt(chairsToday.Add(240 * time.Hour)).SetEndsAt(chairsToday.Add(241 * time.Hour)).SaveX(sys)
		}
		meetingA, meetingB := meeting(a), meeting(b)

		type mbr struct {
			g          *ent.WorkingGroup
			role       membership.Role
			answer     membership.Answer
			start, end vocab.Date
			endedOn    vocab.Date
		}
		n := 0
		person := func(roles []viewer.Role, ms ...mbr) viewer.Viewer {
			n++
			u := c.User.Create().SetEmail(string(rune('a'+n)) + "@example.org").SetName("Person").SetRoles(roles).SaveX(sys)
			for _, m := range ms {
				cr := c.Membership.Create().SetGroupID(m.g.ID).SetUserID(u.ID).SetRole(m.role).SetAnswer(m.answer).
					SetTermStart(m.start).SetTermEnd(m.end)
				if m.endedOn != "" {
					cr.SetEndedOn(m.endedOn)
				}
				cr.SaveX(sys)
			}
			return viewer.Viewer{Kind: viewer.User, UserID: string(u.ID), Email: u.Email, Roles: roles,
				Scopes: []viewer.Scope{viewer.ScopeRead, viewer.ScopeWrite}}
		}
		trainee := []viewer.Role{viewer.RoleTrainee}
		acc, pending, declined := membership.AnswerACCEPTED, membership.AnswerPENDING, membership.AnswerDECLINED
		term := func(g *ent.WorkingGroup, role membership.Role, answer membership.Answer) mbr {
			return mbr{g: g, role: role, answer: answer, start: "2027-01-01", end: "2027-12-31"}
		}
		ended := term(a, membership.RoleCO_CHAIR, acc)
		ended.endedOn = "2027-01-11"
		lastDay := term(a, membership.RoleCO_CHAIR, acc)
		lastDay.endedOn = "2027-01-12"

		for _, tc := range []struct {
			who string
			v   viewer.Viewer
			// want and wantB say whether they may write the meetings of group A and B.
			want, wantB bool
		}{
			{"anonymous", viewer.Viewer{}, false, false},
			{"system", viewer.Viewer{Kind: viewer.System}, true, true},
			{"staff", person([]viewer.Role{viewer.RoleStaff}), true, true},
			{"chair", person(trainee, term(a, membership.RoleCHAIR, acc)), true, false},
			{"co-chair", person(trainee, term(a, membership.RoleCO_CHAIR, acc)), true, false},
			{"chair holding the host coordinator role", person([]viewer.Role{viewer.RoleHostCoordinator}, term(a, membership.RoleCHAIR, acc)), true, false},
			{"co-chair on their last day", person(trainee, lastDay), true, false},
			{"member", person(trainee, term(a, membership.RoleMEMBER, acc)), false, false},
			{"secretariat", person(trainee, term(a, membership.RoleSECRETARIAT, acc)), false, false},
			{"observer", person(trainee, term(a, membership.RoleOBSERVER, acc)), false, false},
			{"invited chair (not answered)", person(trainee, term(a, membership.RoleCHAIR, pending)), false, false},
			{"declined chair", person(trainee, term(a, membership.RoleCHAIR, declined)), false, false},
			{"chair whose term starts next month", person(trainee, mbr{g: a, role: membership.RoleCHAIR, answer: acc, start: "2027-02-01", end: "2027-12-31"}), false, false},
			{"chair whose term ended", person(trainee, mbr{g: a, role: membership.RoleCHAIR, answer: acc, start: "2026-01-01", end: "2027-01-11"}), false, false},
			{"co-chair ended early (yesterday)", person(trainee, ended), false, false},
			{"chair of the other group, member of this one", person(trainee, term(b, membership.RoleCHAIR, acc), term(a, membership.RoleMEMBER, acc)), false, true},
			{"signed in, no group", person(trainee), false, false},
		} {
			t.Run(tc.who, func(t *testing.T) {
				ctx := clock.WithNow(viewer.NewContext(context.Background(), tc.v), now)
				for _, g := range []struct {
					g    *ent.WorkingGroup
					m    *ent.Meeting
					want bool
				}{{a, meetingA, tc.want}, {b, meetingB, tc.wantB}} {
					got, err := access.CanManageMeetings(ctx, c, string(g.g.ID))
					if err != nil || got != g.want {
						t.Errorf("%s: CanManageMeetings = %v, %v; want %v", g.g.Name, got, err, g.want)
					}
					// The policy decides the same without the service.
					_, err = c.Meeting.Create().SetGroupID(g.g.ID).SetTitle("Extra").SetTimeZone("UTC").
						SetStartsAt(chairsToday.Add(48 * time.Hour)).SetEndsAt(chairsToday.Add(49 * time.Hour)).Save(ctx)
					if allowed := err == nil; allowed != g.want || (err != nil && !errors.Is(err, privacy.Deny)) {
						t.Errorf("%s: create: %v, want allowed %v", g.g.Name, err, g.want)
					}
					_, err = c.Meeting.UpdateOne(g.m).SetTitle("Renamed by " + tc.who).Save(ctx)
					if allowed := err == nil; allowed != g.want || (err != nil && !ent.IsNotFound(err) && !errors.Is(err, privacy.Deny)) {
						t.Errorf("%s: update: %v, want allowed %v", g.g.Name, err, g.want)
					}
					if tc.v.Kind == viewer.User && !tc.v.IsStaff() {
						if err := c.Meeting.DeleteOne(g.m).Exec(ctx); !errors.Is(err, privacy.Deny) {
							t.Errorf("%s: delete: %v, want denied", g.g.Name, err)
						}
					}
				}
			})
		}
		// An unknown group is nobody's to chair.
		chair := person(trainee, term(a, membership.RoleCHAIR, acc))
		ctx := clock.WithNow(viewer.NewContext(context.Background(), chair), now)
		if ok, err := access.CanManageMeetings(ctx, c, string(pulid.ID("wgp_01J0000000000000000000000"))); ok || err != nil {
			t.Errorf("unknown group: %v, %v", ok, err)
		}
		// The day after a chair's term ends, the same person is refused: the dates decide.
		later := clock.WithNow(viewer.NewContext(context.Background(), chair), func() time.Time { return time.Date(2028, 1, 1, 9, 0, 0, 0, time.UTC) })
		if ok, err := access.CanManageMeetings(later, c, string(a.ID)); ok || err != nil {
			t.Errorf("chair after the term: %v, %v", ok, err)
		}
		if _, err := c.Meeting.UpdateOne(meetingA).SetTitle("Too late").Save(later); !ent.IsNotFound(err) {
			t.Errorf("chair after the term updates: %v, want not found", err)
		}
	})
}
