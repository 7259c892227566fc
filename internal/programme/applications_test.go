package programme_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

func appStatus(t *testing.T, s *testkit.Services, id pulid.ID) application.Status {
	t.Helper()
	a, err := s.DB.Client.Application.Get(s.System(), id)
	if err != nil {
		t.Fatalf("load application: %v", err)
	}
	return a.Status
}

func mailCount(s *testkit.Services, template string) int {
	return testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ(template)))
}

func TestApplicationFromDraftToDecision(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		o := testkit.MustOpenCall(t, s, w)

		// An empty draft, and what it lacks.
		a := testkit.MustApply(t, s, w.Trainee, programme.SaveApplicationInput{CallID: o.Call.ID}, false)
		missing, err := s.Programme.Missing(s.As(w.Trainee), s.DB.Client, a)
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		for _, m := range missing {
			fields = append(fields, strings.Join(m.Field, "."))
		}
		if got, want := strings.Join(fields, " "), "input.homeOrganisationId input.role input.motivation input.languages input.availability input.preferredWeeks input.hostCentreIds"; got != want {
			t.Errorf("missing = %s\nwant      %s", got, want)
		}
		submit := func(as *ent.User) string {
			return testkit.Outcome(s.Do(s.As(as), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Submit(ctx, tx, a.ID)
				return err
			}))
		}
		if got := submit(w.Trainee); got != "REQUIRED" || appStatus(t, s, a.ID) != application.StatusDRAFT {
			t.Fatalf("submit an empty draft: %s, %s; want REQUIRED, still DRAFT", got, appStatus(t, s, a.ID))
		}

		// Completed and submitted: the trainee gets a summary by email.
		a = testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA, w.CentreB), false)
		if got := submit(w.Trainee); got != "ok" || appStatus(t, s, a.ID) != application.StatusSUBMITTED {
			t.Fatalf("submit: %s, %s", got, appStatus(t, s, a.ID))
		}
		if n := mailCount(s, "application_status"); n != 1 {
			t.Errorf("%d application emails after submitting, want 1", n)
		}
		if got := submit(w.Trainee); got != "INVALID_STATE" {
			t.Errorf("submit twice: %s, want INVALID_STATE", got)
		}
		// A submitted application no longer changes.
		err = s.Do(s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.SaveApplication(ctx, tx, programme.SaveApplicationInput{CallID: o.Call.ID, Role: ptr("Nurse")})
			return err
		})
		if testkit.Outcome(err) != "INVALID_STATE" {
			t.Errorf("change a submitted application: %s, want INVALID_STATE", testkit.Outcome(err))
		}

		// Staff decide once the call has closed; an ineligible decision needs a reason.
		decide := func(eligible bool, reason string) string {
			return testkit.Outcome(s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.DecideEligibility(ctx, tx, a.ID, eligible, reason)
				return err
			}))
		}
		if got := decide(true, ""); got != "INVALID_STATE" {
			t.Errorf("decide while the call is open: %s, want INVALID_STATE", got)
		}
		s.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.CloseCall(ctx, tx, o.Call.ID, false, "")
			return err
		})
		if got := decide(false, ""); got != "REQUIRED" || appStatus(t, s, a.ID) != application.StatusSUBMITTED {
			t.Errorf("ineligible without a reason: %s, %s", got, appStatus(t, s, a.ID))
		}
		if got := decide(true, ""); got != "ok" || appStatus(t, s, a.ID) != application.StatusELIGIBLE {
			t.Fatalf("eligible: %s, %s", got, appStatus(t, s, a.ID))
		}
		if got := decide(true, ""); got != "INVALID_STATE" {
			t.Errorf("eligible twice: %s, want INVALID_STATE", got)
		}
		if n := mailCount(s, "application_status"); n != 2 {
			t.Errorf("%d application emails after the decision, want 2", n)
		}

		// The trainee withdraws; withdrawn stays withdrawn.
		withdraw := func() string {
			return testkit.Outcome(s.Do(s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Withdraw(ctx, tx, a.ID, "A family matter.")
				return err
			}))
		}
		if got := withdraw(); got != "ok" || appStatus(t, s, a.ID) != application.StatusWITHDRAWN {
			t.Fatalf("withdraw: %s, %s", got, appStatus(t, s, a.ID))
		}
		if got := withdraw(); got != "INVALID_STATE" {
			t.Errorf("withdraw twice: %s, want INVALID_STATE", got)
		}
	})
}

func TestSaveApplicationRefusesBadInputAndWritesNothing(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		o := testkit.MustOpenCall(t, s, w)
		milan := testkit.MustOrganisation(t, s, "Ospedale San Finto", "HOSPITAL", "IT")
		tests := []struct {
			name   string
			change func(*programme.SaveApplicationInput)
			want   string
		}{
			{"no such call", func(in *programme.SaveApplicationInput) { in.CallID = w.Brno.ID }, "NOT_FOUND"},
			{"no such organisation", func(in *programme.SaveApplicationInput) { in.HomeOrganisationID = &w.CentreA.ID }, "NOT_FOUND"},
			{"a home outside the eligible countries", func(in *programme.SaveApplicationInput) { in.HomeOrganisationID = &milan.ID }, "INVALID"},
			{"a role of two lines", func(in *programme.SaveApplicationInput) { in.Role = ptr("Consultant\nand more") }, "INVALID"},
			{"61 years of experience", func(in *programme.SaveApplicationInput) { in.CartExperienceYears = ptr(61) }, "INVALID"},
			{"a motivation too long", func(in *programme.SaveApplicationInput) { in.Motivation = ptr(strings.Repeat("m", 3001)) }, "TOO_LONG"},
			{"an unknown language", func(in *programme.SaveApplicationInput) { in.Languages = []string{"klingon"} }, "INVALID"},
			{"availability outside the window", func(in *programme.SaveApplicationInput) {
				in.Availability = []vocab.DateRange{{From: "2027-07-01", To: "2027-07-31"}}
			}, "INVALID"},
			{"overlapping availability", func(in *programme.SaveApplicationInput) {
				in.Availability = []vocab.DateRange{{From: "2027-03-01", To: "2027-03-31"}, {From: "2027-03-15", To: "2027-04-15"}}
			}, "INVALID"},
			{"three-week preference", func(in *programme.SaveApplicationInput) { in.PreferredWeeks = ptr(3) }, "INVALID"},
			{"a centre twice", func(in *programme.SaveApplicationInput) { in.HostCentreIDs = []pulid.ID{w.CentreA.ID, w.CentreA.ID} }, "INVALID"},
			{"a centre without a slot", func(in *programme.SaveApplicationInput) { in.HostCentreIDs = []pulid.ID{w.Brno.ID} }, "INVALID"},
			{"four centres", func(in *programme.SaveApplicationInput) {
				in.HostCentreIDs = []pulid.ID{w.CentreA.ID, w.CentreB.ID, w.Brno.ID, w.Bucharest.ID}
			}, "INVALID"},
		}
		for _, tc := range tests {
			in := testkit.CompleteDraft(o.Call, w.Brno, w.CentreA, w.CentreB)
			tc.change(&in)
			err := s.Do(s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.SaveApplication(ctx, tx, in)
				return err
			})
			if got := testkit.Outcome(err); got != tc.want {
				t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
			}
		}
		if n := testkit.Count(s, s.DB.Client.Application.Query()); n != 0 {
			t.Errorf("refused saves wrote %d applications", n)
		}
		// After the deadline nothing new is accepted.
		s.Clock.Set(time.Date(2027, 2, 15, 16, 0, 0, 0, time.UTC))
		err := s.Do(s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.SaveApplication(ctx, tx, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA))
			return err
		})
		if got := testkit.Outcome(err); got != "INVALID_STATE" || testkit.Count(s, s.DB.Client.Application.Query()) != 0 {
			t.Errorf("apply at the deadline: %s, want INVALID_STATE and nothing written", got)
		}
	})
}

// TestApplicationPermissions: who may apply, submit, withdraw and decide. An application
// is its trainee's: others do not find it (NOT_FOUND), whatever their role, except staff,
// who decide but never apply or submit for a trainee.
func TestApplicationPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		o := testkit.MustOpenCall(t, s, w)
		draft := testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA), false)
		ops := []struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
			want map[string]string // by actor; "ok" where not listed is wrong: every actor is listed
		}{
			{"saveApplication (a draft of one's own)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.SaveApplication(ctx, tx, programme.SaveApplicationInput{CallID: o.Call.ID})
				return err
			}, map[string]string{"anonymous": "UNAUTHENTICATED", "trainee": "ok", "other trainee": "ok", "host": "FORBIDDEN",
				"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "FORBIDDEN"}},
			{"submit (the trainee's)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Submit(ctx, tx, draft.ID)
				return err
			}, map[string]string{"anonymous": "UNAUTHENTICATED", "trainee": "ok", "other trainee": "NOT_FOUND", "host": "FORBIDDEN",
				"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "FORBIDDEN"}},
			{"withdraw (the trainee's)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Withdraw(ctx, tx, draft.ID, "")
				return err
			}, map[string]string{"anonymous": "UNAUTHENTICATED", "trainee": "ok", "other trainee": "NOT_FOUND", "host": "FORBIDDEN",
				"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "FORBIDDEN"}},
			{"decideEligibility", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.DecideEligibility(ctx, tx, draft.ID, true, "")
				return err
			}, map[string]string{"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN", "host": "FORBIDDEN",
				"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "INVALID_STATE"}}, // allowed, but the call is open
		}
		for _, op := range ops {
			for _, a := range w.Actors(s) {
				if a.Name == "trainee" {
					continue // last: it changes the application
				}
				if got := testkit.Outcome(s.Do(a.Ctx, op.run)); got != op.want[a.Name] {
					t.Errorf("%s by %s: %s, want %s", op.name, a.Name, got, op.want[a.Name])
				}
			}
		}
		if got := appStatus(t, s, draft.ID); got != application.StatusDRAFT {
			t.Fatalf("refused calls moved the draft to %s", got)
		}
		if n := testkit.Count(s, s.DB.Client.Application.Query().Where(application.TraineeID(w.Trainee.ID))); n != 1 {
			t.Fatalf("the trainee has %d applications, want 1", n)
		}
		for _, op := range ops[:3] {
			if got := testkit.Outcome(s.Do(s.As(w.Trainee), op.run)); got != op.want["trainee"] {
				t.Errorf("%s by the trainee: %s, want %s", op.name, got, op.want["trainee"])
			}
		}

		// A trainee whose role was revoked no longer applies, though the application stays theirs.
		former := testkit.MustRevoke(t, s, w.OtherTrainee, viewer.RoleTrainee)
		err := s.Do(s.As(former), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.SaveApplication(ctx, tx, programme.SaveApplicationInput{CallID: o.Call.ID, Role: ptr("Fellow")})
			return err
		})
		if got := testkit.Outcome(err); got != "FORBIDDEN" {
			t.Errorf("save as a former trainee: %s, want FORBIDDEN", got)
		}
		if _, err := s.DB.Client.Application.Query().Where(application.TraineeID(former.ID)).Only(s.As(former)); err != nil {
			t.Errorf("a former trainee reads their application: %v", err)
		}
	})
}

// TestHostRankingPermissionsAndRules: a centre ranks its eligible applicants while the
// call is in RANKING, before the deadline; only its coordinators (holding the role) and staff.
func TestHostRankingPermissionsAndRules(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		rank := func(ctx context.Context, centre *ent.HostCentre, apps ...*ent.Application) string {
			ids := make([]pulid.ID, len(apps))
			for i, a := range apps {
				ids[i] = a.ID
			}
			return testkit.Outcome(s.Do(ctx, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.SubmitHostRanking(ctx, tx, r.Call.ID, centre.ID, ids)
				return err
			}))
		}
		rankingOfA := func() []pulid.ID {
			rows, err := s.DB.Client.HostRanking.Query().Where(hostranking.HostCentreID(w.CentreA.ID)).Order(hostranking.ByRank()).All(s.System())
			if err != nil {
				t.Fatal(err)
			}
			var ids []pulid.ID
			for _, row := range rows {
				ids = append(ids, row.ApplicationID)
			}
			return ids
		}
		want := map[string]string{
			"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN",
			"host": "ok", "other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "ok",
		}
		for _, a := range w.Actors(s) {
			if got := rank(a.Ctx, w.CentreA, r.Marek, r.Ioana); got != want[a.Name] {
				t.Errorf("rank centre A as %s: %s, want %s", a.Name, got, want[a.Name])
			}
		}
		if got := rankingOfA(); len(got) != 2 || got[0] != r.Marek.ID {
			t.Errorf("ranking of A = %v, want Marek, Ioana", got)
		}
		host := s.As(w.Host)
		if got := rank(host, w.CentreA, r.Ioana, r.Ioana); got != "INVALID" {
			t.Errorf("rank an application twice: %s, want INVALID", got)
		}
		if got := rank(s.As(w.OtherHost), w.CentreB, r.Ioana); got != "INVALID" {
			t.Errorf("rank an applicant of another centre: %s, want INVALID", got)
		}
		if got := rankingOfA(); len(got) != 2 || got[0] != r.Marek.ID {
			t.Errorf("refused rankings changed A's to %v", got)
		}
		// An empty ranking is a ranking: nobody is acceptable.
		if got := rank(host, w.CentreA); got != "ok" || len(rankingOfA()) != 0 {
			t.Errorf("empty ranking: %s, %d rows", got, len(rankingOfA()))
		}
		s.Clock.Set(time.Date(2027, 2, 26, 16, 0, 0, 0, time.UTC)) // 17:00 in Brussels: the deadline
		if got := rank(host, w.CentreA, r.Ioana); got != "INVALID_STATE" || len(rankingOfA()) != 0 {
			t.Errorf("rank at the deadline: %s, want INVALID_STATE and nothing written", got)
		}
	})
}
