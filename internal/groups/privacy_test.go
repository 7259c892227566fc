package groups_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/conflictofinterestdeclaration"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestEraseWorkingGroups erases Marek Novák, who shares a group, a meeting and its minutes
// with his near-namesake Marek Novak: Marek's membership (a chair's) and declarations go,
// he leaves the meeting's lists and his name and address leave its minutes and the group's
// purpose; the twin's rows and mentions stay; Marek's export holds nothing of him
// afterwards.
func TestEraseWorkingGroups(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w, twin := testkit.MustTwins(t, s)
		sys, c := s.System(), s.DB.Client
		g, err := c.WorkingGroup.Create().SetName("Pharmacist Working Group").SetWorkPackage(workinggroup.WorkPackageSTANDARDS_OF_CARE).
			SetPurpose("Chaired by Marek Novák; Marek Novak keeps the minutes.").Save(sys)
		testkit.MustOK(t, err)
		for _, m := range []struct {
			u    *ent.User
			role membership.Role
		}{{w.Trainee, membership.RoleCHAIR}, {twin, membership.RoleMEMBER}} {
			_, err := c.Membership.Create().SetGroupID(g.ID).SetUserID(m.u.ID).SetRole(m.role).
				SetTermStart("2027-01-01").SetTermEnd("2028-12-31").SetAnswer(membership.AnswerACCEPTED).Save(sys)
			testkit.MustOK(t, err)
			for _, on := range []vocab.Date{"2026-01-10", "2027-01-10"} {
				_, err := c.ConflictOfInterestDeclaration.Create().SetUserID(m.u.ID).SetDeclaredOn(on).SetNothingToDeclare(false).
					SetInterests([]vocab.Interest{{Organisation: "Acme Cell Therapies", Kind: vocab.InterestAdvisoryBoard, Description: "board of " + m.u.Name, From: "2025-01-01"}}).Save(sys)
				testkit.MustOK(t, err)
			}
		}
		start := time.Date(2027, 3, 1, 13, 0, 0, 0, time.UTC)
		mt, err := c.Meeting.Create().SetGroupID(g.ID).SetTitle("Quarterly meeting with Marek Novák").SetStartsAt(start).SetEndsAt(start.Add(time.Hour)).
			SetTimeZone("Europe/Paris").SetAgenda("1. Report of Marek Novák (marek.novak@fnbrno.example.cz)").
			SetMinutes("Marek Novák presented the survey; Marek Novak (marek.novak@fnbrno.example.com) seconded. Marek Nováková abstained.").
			AddAttendeeIDs(w.Trainee.ID, twin.ID).AddInviteeIDs(w.Trainee.ID, twin.ID, w.Staff.ID).Save(sys)
		testkit.MustOK(t, err)
		other, err := c.Meeting.Create().SetGroupID(g.ID).SetTitle("Kick-off").SetStartsAt(start).SetEndsAt(start.Add(time.Hour)).
			SetTimeZone("Europe/Paris").SetMinutes("Nothing about anyone.").AddAttendeeIDs(twin.ID).Save(sys)
		testkit.MustOK(t, err)
		if before := testkit.ExportJSON(t, s, groups.PrivacyDomain{}, w.Trainee); strings.Count(before, "ADVISORY_BOARD") != 2 {
			t.Fatalf("Marek's export before erasure should hold 2 declarations: %s", before)
		}

		erased := testkit.MustErase(t, s, groups.PrivacyDomain{}, w.Trainee)
		if len(erased.Documents) != 0 || erased.Rows < 6 {
			t.Errorf("erased = %+v, want at least 6 rows (membership, 2 declarations, 2 meeting lists, minutes, purpose) and no document", erased)
		}

		for _, x := range []struct {
			u                  *ent.User
			memberships, decls int
		}{{w.Trainee, 0, 0}, {twin, 1, 2}} {
			testkit.WantCount(t, s, x.u.Name+"'s memberships", c.Membership.Query().Where(membership.UserID(x.u.ID)), x.memberships)
			testkit.WantCount(t, s, x.u.Name+"'s declarations", c.ConflictOfInterestDeclaration.Query().Where(conflictofinterestdeclaration.UserID(x.u.ID)), x.decls)
		}
		mt, err = c.Meeting.Get(sys, mt.ID)
		testkit.MustOK(t, err)
		if mt.Title != "Quarterly meeting with [erased]" || mt.Agenda != "1. Report of [erased] ([erased])" ||
			mt.Minutes != "[erased] presented the survey; Marek Novak (marek.novak@fnbrno.example.com) seconded. Marek Nováková abstained." {
			t.Errorf("meeting after erasure: title %q, agenda %q, minutes %q", mt.Title, mt.Agenda, mt.Minutes)
		}
		attendees, err := mt.QueryAttendees().IDs(sys)
		testkit.MustOK(t, err)
		invitees, err := mt.QueryInvitees().IDs(sys)
		testkit.MustOK(t, err)
		if len(attendees) != 1 || attendees[0] != twin.ID || len(invitees) != 2 || !slices.Contains(invitees, twin.ID) || !slices.Contains(invitees, w.Staff.ID) {
			t.Errorf("after erasure attendees %v, invitees %v; want the twin, and the twin and staff", attendees, invitees)
		}
		testkit.WantCount(t, s, "the other meeting's attendees (the twin)", other.QueryAttendees(), 1)
		g, err = c.WorkingGroup.Get(sys, g.ID)
		testkit.MustOK(t, err)
		if g.Purpose != "Chaired by [erased]; Marek Novak keeps the minutes." {
			t.Errorf("group purpose after erasure: %q", g.Purpose)
		}

		if after := testkit.ExportJSON(t, s, groups.PrivacyDomain{}, w.Trainee); after != `{"memberships":[],"declarations":[],"meetings":[]}` {
			t.Errorf("Marek's export after erasure = %s, want empty lists", after)
		}
		twinAfter := testkit.ExportJSON(t, s, groups.PrivacyDomain{}, twin)
		if strings.Count(twinAfter, "board of Marek Novak") != 2 || strings.Count(twinAfter, `"invited":`) != 2 {
			t.Errorf("the twin's export after erasure lost data: %s", twinAfter)
		}
	})
}
