package graph_test

import (
	"slices"
	"strings"
	"testing"

	ics "github.com/arran4/golang-ical"

	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// publishRealRun starts a real run of r's call as staff and publishes it.
func publishRealRun(t *testing.T, staff *testkit.Client, r rankedCall) {
	t.Helper()
	var run struct {
		StartMatchRun struct{ MatchRun struct{ ID string } }
	}
	staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": false}}, &run)
	amust(t, staff, publishRunM, map[string]any{"id": run.StartMatchRun.MatchRun.ID})
}

// TestErasureCancelsPlacementsAndTellsTheHost: after the pilot match, Ioana's placement at
// Lyon is confirmed and Aoife's at Musterstadt offered; Marek is unmatched. Marek's
// erasure mails nobody at any centre. Ioana's and Aoife's erasures,
// approved by staff, cancel their placements, and each centre's coordinator gets one
// email over SMTP naming the centre and the dates but neither the trainee's name nor
// address (Lyon's with a calendar cancellation of the entry that names nobody); the
// erased trainees get nothing.
func TestErasureCancelsPlacementsAndTellsTheHost(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		publishRealRun(t, staff, r)
		ioanaC, claire := e.SignIn("ioana.popescu@example.ro"), e.SignIn("claire.martin@hopital.example.fr")
		ioanaPl, aoifePl := placementOf(t, e, r.ioana), placementOf(t, e, r.aoife)
		plcMust(t, ioanaC, acceptPlcM, map[string]any{"id": ioanaPl})
		plcMust(t, claire, confirmPlcM, map[string]any{"id": ioanaPl})
		marekC, aoifeC := e.SignIn("marek.dvorak@example.cz"), e.SignIn("aoife.byrne@example.ie")
		seen := 0
		mailSince(e, &seen)

		// erasureOf asks for the signed-in person's erasure and, when it waits for a
		// decision (something in progress), staff approve it.
		erasureOf := func(c *testkit.Client) {
			t.Helper()
			var out struct {
				RequestErasure struct {
					ErasureRequest *struct{ ID, Status string }
					UserErrors     []userErr
				}
			}
			c.MustDo(requestErasureM, map[string]any{"p": nil}, &out)
			er := out.RequestErasure.ErasureRequest
			if er == nil {
				t.Fatalf("erasure request: %+v", out.RequestErasure.UserErrors)
			}
			if er.Status == "PENDING" {
				var ok struct {
					ApproveErasure struct{ UserErrors []userErr }
				}
				staff.MustDo(approveErasureM, map[string]any{"id": er.ID}, &ok)
				if len(ok.ApproveErasure.UserErrors) > 0 {
					t.Fatalf("approve: %+v", ok.ApproveErasure.UserErrors)
				}
			}
		}
		erase := func(want int) {
			t.Helper()
			if n, err := e.App.Privacy.RunErasures(e.System()); err != nil || n != want {
				t.Fatalf("erasures: %d %v, want %d", n, err, want)
			}
		}

		// No active placement: nobody is told.
		erasureOf(marekC)
		erase(1)
		if got, _ := mailSince(e, &seen); len(got) != 0 {
			t.Errorf("Marek's erasure sent %q, want nothing", got)
		}

		// Active placements: staff approve, the hosts are told.
		erasureOf(ioanaC)
		erasureOf(aoifeC)
		erase(2)
		for _, id := range []string{ioanaPl, aoifePl} {
			p, err := e.DB.Client.Placement.Get(e.System(), pulid.ID(id))
			if err != nil || p.Status != placement.StatusCANCELLED {
				t.Errorf("placement %s after the erasure: %+v %v", id, p, err)
			}
		}
		got, msgs := mailSince(e, &seen)
		want := []string{
			"claire.martin@hopital.example.fr: Placement cancelled at CAR-T Unit, Hôpital Saint-Exemple: Monday 12 April 2027 to Friday 23 April 2027",
			"lukas.becker@klinikum-musterstadt.example.de: Placement cancelled at Zentrum für Zelltherapie, Universitätsklinikum Musterstadt: Monday 5 April 2027 to Friday 9 April 2027",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("mail after the erasures:\n%q\nwant\n%q", got, want)
		}
		for _, m := range msgs {
			text := m.TextBody()
			if !strings.Contains(text, "personal data to be erased") || !strings.Contains(text, "waiting list") || !strings.Contains(m.HTMLBody(), "personal data to be erased") {
				t.Errorf("%s: the email does not say why:\n%s", m.To[0], text)
			}
			testkit.MustNotContain(t, "the email to "+m.To[0], string(m.Data)+text+m.HTMLBody(),
				"Ioana", "Popescu", "ioana.popescu", "Aoife", "Byrne", "aoife.byrne")
			method, ev := calendarOf(t, m)
			switch m.To[0] {
			case "claire.martin@hopital.example.fr":
				if method != "CANCEL" || ev.Id() != ioanaPl+"@127.0.0.1" || ev.GetProperty(ics.ComponentPropertySequence).Value != "1" {
					t.Errorf("Lyon's calendar cancellation: %s %v", method, ev)
				}
				for _, a := range ev.Attendees() {
					if !strings.Contains(a.Email(), "claire.martin") {
						t.Errorf("the cancellation invites %s", a.Email())
					}
				}
			default:
				if method != "" {
					t.Errorf("an offer's cancellation carries a calendar object (%s)", method)
				}
			}
		}
	})
}
