package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The fixtures below build the people, directory and calls that package-level tests of
// the services share, through the services themselves (as staff or as the person), and
// fail the test on any error: MustX(tb, s, …) in the style of benbjohnson/wtf's tests.

// MustUser creates a user with roles (TRAINEE when none) as the system.
func MustUser(tb testing.TB, s *Services, email, name string, roles ...viewer.Role) *ent.User {
	tb.Helper()
	if len(roles) == 0 {
		roles = []viewer.Role{viewer.RoleTrainee}
	}
	var u *ent.User
	MustDo(tb, s, s.System(), func(ctx context.Context, tx *ent.Client) (err error) {
		u, err = s.Auth.CreateUser(ctx, tx, auth.CreateUserInput{Email: email, Name: name, Roles: roles})
		return err
	})
	return u
}

// MustRevoke revokes role from u (as the system) and returns u as it is now.
func MustRevoke(tb testing.TB, s *Services, u *ent.User, role viewer.Role) *ent.User {
	tb.Helper()
	MustDo(tb, s, s.System(), func(ctx context.Context, tx *ent.Client) (err error) {
		u, err = s.Auth.RevokeRole(ctx, tx, u.ID, role)
		return err
	})
	return u
}

// MustDo runs fn in a transaction (Services.Do) and fails tb on any error.
func MustDo(tb testing.TB, s *Services, ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) {
	tb.Helper()
	if err := s.Do(ctx, fn); err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}

// MustOrganisation creates an active organisation (as the system).
func MustOrganisation(tb testing.TB, s *Services, name string, kind organisation.Kind, country string) *ent.Organisation {
	tb.Helper()
	var o *ent.Organisation
	MustDo(tb, s, s.System(), func(ctx context.Context, tx *ent.Client) (err error) {
		o, err = s.Directory.CreateOrganisation(ctx, tx, directory.CreateOrganisationInput{Name: name, Kind: kind, Country: country})
		return err
	})
	return o
}

// MustHostCentre creates the host centre of a hospital, accepting observers, coordinated
// by coordinators (who must hold HOST_COORDINATOR).
func MustHostCentre(tb testing.TB, s *Services, hospital *ent.Organisation, name string, coordinators ...*ent.User) *ent.HostCentre {
	tb.Helper()
	yes, no := true, false
	var c *ent.HostCentre
	MustDo(tb, s, s.System(), func(ctx context.Context, tx *ent.Client) (err error) {
		c, err = s.Directory.CreateHostCentre(ctx, tx, directory.CreateHostCentreInput{OrganisationID: hospital.ID, HostCentreProfile: directory.HostCentreProfile{
			Name: &name, City: ptr("City"), Country: &hospital.Country, Languages: []string{"en"},
			Adult: &yes, Paediatric: &no, AcceptingObservers: &yes,
		}})
		if err != nil {
			return err
		}
		for _, u := range coordinators {
			if c, err = s.Directory.AddHostCoordinator(ctx, tx, c.ID, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return c
}

// World is the cast of a programme test: staff, two trainees (Marek from Brno, Ioana from
// Bucharest), the coordinators of two host centres (Claire at Lyon, Lukas at Musterstadt),
// and Paul, listed as a coordinator of Lyon whose HOST_COORDINATOR role was revoked.
type World struct {
	Staff, Trainee, OtherTrainee, Host, OtherHost, FormerHost *ent.User
	// Brno (CZ) and Bucharest (RO) are the trainees' home hospitals.
	Brno, Bucharest *ent.Organisation
	// CentreA (Lyon, FR) is coordinated by Host and FormerHost, CentreB (Musterstadt, DE)
	// by OtherHost.
	CentreA, CentreB *ent.HostCentre
}

// NewWorld creates the World.
func NewWorld(tb testing.TB, s *Services) *World {
	tb.Helper()
	w := &World{
		Staff:        MustUser(tb, s, "office@coalition.test", "Office", viewer.RoleStaff),
		Trainee:      MustUser(tb, s, "marek.novak@fnbrno.example.cz", "Marek Novák", viewer.RoleTrainee),
		OtherTrainee: MustUser(tb, s, "ioana.popescu@fundeni.example.ro", "Ioana Popescu", viewer.RoleTrainee),
		Host:         MustUser(tb, s, "claire.martin@hopital.example.fr", "Claire Martin", viewer.RoleHostCoordinator),
		OtherHost:    MustUser(tb, s, "lukas.becker@klinikum.example.de", "Lukas Becker", viewer.RoleHostCoordinator),
		FormerHost:   MustUser(tb, s, "paul.ancien@hopital.example.fr", "Paul Ancien", viewer.RoleHostCoordinator),
	}
	w.Brno = MustOrganisation(tb, s, "Fakultní nemocnice Brno", organisation.KindHOSPITAL, "CZ")
	w.Bucharest = MustOrganisation(tb, s, "Institutul Clinic Fundeni", organisation.KindHOSPITAL, "RO")
	lyon := MustOrganisation(tb, s, "Hôpital Saint-Exemple", organisation.KindHOSPITAL, "FR")
	muster := MustOrganisation(tb, s, "Universitätsklinikum Musterstadt", organisation.KindHOSPITAL, "DE")
	w.CentreA = MustHostCentre(tb, s, lyon, "CAR-T Unit, Lyon", w.Host, w.FormerHost)
	w.CentreB = MustHostCentre(tb, s, muster, "Zelltherapie, Musterstadt", w.OtherHost)
	w.FormerHost = MustRevoke(tb, s, w.FormerHost, viewer.RoleHostCoordinator)
	return w
}

// Actor is a named viewer of a permission table.
type Actor struct {
	Name string
	Ctx  context.Context
}

// Actors are every kind of caller, in a stable order: anonymous, trainee, other trainee,
// host (of centre A), other host (of centre B), former host (role revoked), staff.
func (w *World) Actors(s *Services) []Actor {
	return []Actor{
		{"anonymous", s.Anonymous()},
		{"trainee", s.As(w.Trainee)},
		{"other trainee", s.As(w.OtherTrainee)},
		{"host", s.As(w.Host)},
		{"other host", s.As(w.OtherHost)},
		{"former host", s.As(w.FormerHost)},
		{"staff", s.As(w.Staff)},
	}
}

// PilotCall is the settings of the pilot call (clock at DefaultNow, 12 January 2027):
// open from 12 January to 15 February 17:00 in Brussels, placements of 1 or 2 weeks from
// 1 March to 30 June, no documents or referee letters required, ranking due 26 February.
func PilotCall() programme.CallInput {
	return programme.CallInput{
		Title: ptr("Observership pilot, Q1 2027"), Description: ptr("Observe **CAR-T** care."),
		Opens: ptr("2027-01-12T00:00"), Closes: ptr("2027-02-15T17:00"), TimeZone: ptr("Europe/Brussels"),
		PlacementStart: ptr(vocab.Date("2027-03-01")), PlacementEnd: ptr(vocab.Date("2027-06-30")),
		PlacementWeeks: []int{1, 2}, EligibleCountries: []string{"CZ", "RO", "PL", "IE"}, FundedPlaces: ptr(6),
		RequiredDocuments: []vocab.DocumentKind{}, RefereeLetters: ptr(0),
		ReviewCriteria: []vocab.Criterion{
			{Key: "motivation", Name: "Motivation and fit", Weight: 60},
			{Key: "experience", Name: "CAR-T experience", Weight: 40},
		},
		RankingDeadline: ptr("2027-02-26T17:00"),
	}
}

// MustCreateCall creates a draft call as staff.
func MustCreateCall(tb testing.TB, s *Services, w *World, in programme.CallInput) *ent.Call {
	tb.Helper()
	var c *ent.Call
	MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		c, err = s.Programme.CreateCall(ctx, tx, in)
		return err
	})
	return c
}

// MustSlot proposes a slot of centre as its coordinator (or staff) and, with approve,
// approves it as staff.
func MustSlot(tb testing.TB, s *Services, w *World, as *ent.User, c *ent.Call, centre *ent.HostCentre, start vocab.Date, weeks, capacity int, approve bool) *ent.HostSlot {
	tb.Helper()
	var sl *ent.HostSlot
	MustDo(tb, s, s.As(as), func(ctx context.Context, tx *ent.Client) (err error) {
		sl, err = s.Programme.ProposeSlot(ctx, tx, programme.ProposeSlotInput{
			CallID: c.ID, HostCentreID: centre.ID, StartDate: start, Weeks: weeks, Capacity: capacity,
		})
		return err
	})
	if approve {
		MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			sl, err = s.Programme.ApproveSlot(ctx, tx, sl.ID)
			return err
		})
	}
	return sl
}

// OpenCall is the pilot call, open, with an approved slot at each centre: A from 12 April
// (2 weeks) and B from 5 April (1 week), one place each.
type OpenCall struct {
	Call         *ent.Call
	SlotA, SlotB *ent.HostSlot
}

// MustOpenCall creates, stocks and opens the pilot call.
func MustOpenCall(tb testing.TB, s *Services, w *World) OpenCall {
	tb.Helper()
	o := OpenCall{Call: MustCreateCall(tb, s, w, PilotCall())}
	o.SlotA = MustSlot(tb, s, w, w.Host, o.Call, w.CentreA, "2027-04-12", 2, 1, true)
	o.SlotB = MustSlot(tb, s, w, w.OtherHost, o.Call, w.CentreB, "2027-04-05", 1, 1, true)
	o.Call = MustStep(tb, s, w, o.Call, s.Programme.OpenCall)
	return o
}

// MustStep moves a call on as staff with one of the programme's steps (OpenCall,
// StartReview, StartRanking…).
func MustStep(tb testing.TB, s *Services, w *World, c *ent.Call, step func(context.Context, *ent.Client, pulid.ID) (*ent.Call, error)) *ent.Call {
	tb.Helper()
	MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		c, err = step(ctx, tx, c.ID)
		return err
	})
	return c
}

// Motivation is long enough to submit.
const Motivation = "I lead the new CAR-T programme of our haematology department and want to see how an experienced " +
	"centre organises apheresis, bridging therapy and the management of cytokine release syndrome."

// CompleteDraft is a complete application of trainee from home to c, ranking centres.
func CompleteDraft(c *ent.Call, home *ent.Organisation, centres ...*ent.HostCentre) programme.SaveApplicationInput {
	ids := make([]pulid.ID, len(centres))
	for i, h := range centres {
		ids[i] = h.ID
	}
	return programme.SaveApplicationInput{
		CallID: c.ID, HomeOrganisationID: &home.ID, Role: ptr("Haematology consultant"), CartExperienceYears: ptr(3),
		Motivation: ptr(Motivation), Languages: []string{"en"},
		Availability:   []vocab.DateRange{{From: "2027-03-01", To: "2027-06-30"}},
		PreferredWeeks: ptr(1), HostCentreIDs: ids,
	}
}

// MustApply saves in as trainee's draft and, with submit, submits it.
func MustApply(tb testing.TB, s *Services, trainee *ent.User, in programme.SaveApplicationInput, submit bool) *ent.Application {
	tb.Helper()
	var a *ent.Application
	MustDo(tb, s, s.As(trainee), func(ctx context.Context, tx *ent.Client) (err error) {
		if a, err = s.Programme.SaveApplication(ctx, tx, in); err != nil || !submit {
			return err
		}
		a, err = s.Programme.Submit(ctx, tx, a.ID)
		return err
	})
	return a
}

// RankedCall is the pilot call in RANKING (clock: 16 February 2027): Marek (Trainee)
// chose A then B, Ioana (OtherTrainee) chose A; both are eligible; A ranks Ioana then
// Marek, B ranks Marek. The match: Ioana at A, Marek at B.
type RankedCall struct {
	OpenCall
	Marek, Ioana *ent.Application
}

// MustRankedCall builds the RankedCall.
func MustRankedCall(tb testing.TB, s *Services, w *World) RankedCall {
	tb.Helper()
	o := MustOpenCall(tb, s, w)
	return MustRankCall(tb, s, w, o,
		MustApply(tb, s, w.Trainee, CompleteDraft(o.Call, w.Brno, w.CentreA, w.CentreB), true),
		MustApply(tb, s, w.OtherTrainee, CompleteDraft(o.Call, w.Bucharest, w.CentreA), true))
}

// MustRankCall takes the open call o, holding Marek's and Ioana's submitted applications
// (choosing A then B, and A), to the RankedCall: for a test that does more than
// MustRankedCall while the call is open (a document uploaded to a draft).
func MustRankCall(tb testing.TB, s *Services, w *World, o OpenCall, marek, ioana *ent.Application) RankedCall {
	tb.Helper()
	r := RankedCall{OpenCall: o, Marek: marek, Ioana: ioana}
	s.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
	MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		if r.Call, err = s.Programme.CloseCall(ctx, tx, r.Call.ID, false, ""); err != nil {
			return err
		}
		for _, a := range []*ent.Application{r.Marek, r.Ioana} {
			if _, err = s.Programme.DecideEligibility(ctx, tx, a.ID, true, ""); err != nil {
				return err
			}
		}
		if r.Call, err = s.Programme.StartReview(ctx, tx, r.Call.ID); err != nil {
			return err
		}
		r.Call, err = s.Programme.StartRanking(ctx, tx, r.Call.ID)
		return err
	})
	MustRank(tb, s, w.Host, r.Call, w.CentreA, r.Ioana, r.Marek)
	MustRank(tb, s, w.OtherHost, r.Call, w.CentreB, r.Marek)
	return r
}

// MustRank submits centre's ranking of apps as the coordinator as.
func MustRank(tb testing.TB, s *Services, as *ent.User, c *ent.Call, centre *ent.HostCentre, apps ...*ent.Application) {
	tb.Helper()
	ids := make([]pulid.ID, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}
	MustDo(tb, s, s.As(as), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Programme.SubmitHostRanking(ctx, tx, c.ID, centre.ID, ids)
		return err
	})
}

func ptr[T any](v T) *T { return &v }

// MustStartRun starts a match run of c as staff.
func MustStartRun(tb testing.TB, s *Services, w *World, c *ent.Call, dryRun bool) *ent.MatchRun {
	tb.Helper()
	var run *ent.MatchRun
	MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		run, err = s.MatchRuns.StartRun(ctx, tx, c.ID, dryRun)
		return err
	})
	return run
}

// MustPublish publishes run as staff and returns the placements by application.
func MustPublish(tb testing.TB, s *Services, w *World, run *ent.MatchRun) map[pulid.ID]*ent.Placement {
	tb.Helper()
	MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.MatchRuns.Publish(ctx, tx, run.ID)
		return err
	})
	ps, err := s.DB.Client.Placement.Query().Where(placement.RunID(run.ID)).All(s.System())
	if err != nil {
		tb.Fatalf("placements: %v", err)
	}
	out := map[pulid.ID]*ent.Placement{}
	for _, p := range ps {
		out[p.ApplicationID] = p
	}
	return out
}
