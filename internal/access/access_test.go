package access_test

import (
	"context"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// actors are the columns of the table, in testkit.World.Actors order.
var actors = []string{"anonymous", "trainee", "other trainee", "host", "other host", "former host", "staff"}

// allow lists the actors an operation allows; everyone else must be refused.
func allow(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// TestPoliciesByRole is the table of the privacy layer for the programme: every operation
// × every kind of caller → allowed or not, through real ent queries and mutations as that
// viewer (deny by default, filters for own rows). Writes run in a transaction that is
// rolled back, so each row starts from the same data.
//
// The data: the pilot call in RANKING then published (testkit.MustRankedCall), with an
// extra draft call and a proposed slot. "trainee" is Marek (applied to A and B), "other
// trainee" is Ioana (applied to A only, placed at A); "host" coordinates A, "other host" B;
// "former host" is listed at A but lost the HOST_COORDINATOR role.
func TestPoliciesByRole(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		draft := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		proposed := testkit.MustSlot(t, s, w, w.Host, draft, w.CentreA, "2027-05-03", 1, 1, false)
		r := testkit.MustRankedCall(t, s, w)
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			run, err := s.MatchRuns.StartRun(ctx, tx, r.Call.ID, false)
			if err != nil {
				return err
			}
			_, err = s.MatchRuns.Publish(ctx, tx, run.ID)
			return err
		})
		ioanaPlacement, err := s.DB.Client.Placement.Query().Where(placement.ApplicationID(r.Ioana.ID)).Only(s.System())
		if err != nil {
			t.Fatal(err)
		}
		c := s.DB.Client

		reads := []struct {
			name  string
			count func(ctx context.Context) (int, error)
			want  map[string]bool
		}{
			{"read the open call", func(ctx context.Context) (int, error) { return c.Call.Query().Where(call.ID(r.Call.ID)).Count(ctx) },
				allow(actors...)},
			{"read a draft call", func(ctx context.Context) (int, error) { return c.Call.Query().Where(call.ID(draft.ID)).Count(ctx) },
				allow("host", "other host", "staff")},
			{"read an approved slot of a matched call", func(ctx context.Context) (int, error) {
				return c.HostSlot.Query().Where(hostslot.ID(r.SlotA.ID)).Count(ctx)
			}, allow("trainee", "other trainee", "host", "other host", "former host", "staff")},
			{"read a proposed slot of A", func(ctx context.Context) (int, error) {
				return c.HostSlot.Query().Where(hostslot.ID(proposed.ID)).Count(ctx)
			}, allow("host", "staff")},
			{"read Ioana's application", func(ctx context.Context) (int, error) {
				return c.Application.Query().Where(application.ID(r.Ioana.ID)).Count(ctx)
			}, allow("other trainee", "host", "staff")},
			{"read Marek's application", func(ctx context.Context) (int, error) {
				return c.Application.Query().Where(application.ID(r.Marek.ID)).Count(ctx)
			}, allow("trainee", "host", "other host", "staff")},
			{"read Ioana's ranked choices", func(ctx context.Context) (int, error) {
				return c.ApplicationChoice.Query().Where(applicationchoice.ApplicationID(r.Ioana.ID)).Count(ctx)
			}, allow("other trainee", "staff")},
			{"read A's ranking", func(ctx context.Context) (int, error) {
				return c.HostRanking.Query().Where(hostranking.HostCentreID(w.CentreA.ID)).Count(ctx)
			}, allow("host", "staff")},
			{"read Ioana's placement", func(ctx context.Context) (int, error) {
				return c.Placement.Query().Where(placement.ID(ioanaPlacement.ID)).Count(ctx)
			}, allow("other trainee", "host", "staff")},
			{"read Ioana's user record", func(ctx context.Context) (int, error) {
				return c.User.Query().Where(user.ID(w.OtherTrainee.ID)).Count(ctx)
			}, allow("other trainee", "host", "staff")},
			// Before the coordinator consents to being shown as a contact (HOST_CONTACT).
			{"read a coordinator's user record", func(ctx context.Context) (int, error) {
				return c.User.Query().Where(user.ID(w.Host.ID)).Count(ctx)
			}, allow("host", "staff")},
			{"read the audit trail", func(ctx context.Context) (int, error) { return c.AuditEvent.Query().Count(ctx) },
				allow("staff")},
		}
		for _, op := range reads {
			for i, a := range w.Actors(s) {
				n, err := op.count(a.Ctx)
				got := err == nil && n > 0
				if got != op.want[actors[i]] {
					t.Errorf("%s as %s: allowed %v (%d rows, %v), want %v", op.name, a.Name, got, n, err, op.want[actors[i]])
				}
			}
		}

		// Once the coordinator consents to being shown as a contact, every signed-in
		// person sees them; anonymous viewers still do not.
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Consent.Publish(ctx, tx, consent.PublishInput{Purpose: vocab.ConsentHostContact, Body: "Show my name as a contact of my centre."})
			return err
		})
		testkit.MustDo(t, s, s.As(w.Host), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Consent.Give(ctx, tx, vocab.ConsentHostContact)
			return err
		})
		contactWant := allow("trainee", "other trainee", "host", "other host", "former host", "staff")
		for i, a := range w.Actors(s) {
			n, err := c.User.Query().Where(user.ID(w.Host.ID)).Count(a.Ctx)
			if got := err == nil && n > 0; got != contactWant[actors[i]] {
				t.Errorf("read a consenting coordinator's user record as %s: allowed %v (%d rows, %v), want %v", a.Name, got, n, err, contactWant[actors[i]])
			}
		}

		writes := []struct {
			name  string
			write func(ctx context.Context, tx *ent.Client) error
			want  map[string]bool
		}{
			{"create a call", func(ctx context.Context, tx *ent.Client) error {
				return tx.Call.Create().SetTitle("Mine").SetOpensAt(s.Clock.Now()).SetClosesAt(s.Clock.Now()).SetTimeZone("UTC").
					SetPlacementStart("2027-03-01").SetPlacementEnd("2027-03-31").SetPlacementWeeks([]int{1}).
					SetEligibleCountries([]string{"CZ"}).SetFundedPlaces(1).SetRequiredDocuments([]vocab.DocumentKind{}).
					SetReviewCriteria([]vocab.Criterion{{Key: "k", Name: "K", Weight: 1}}).Exec(ctx)
			}, allow("staff")},
			{"change the call", func(ctx context.Context, tx *ent.Client) error {
				return tx.Call.UpdateOneID(r.Call.ID).SetTitle("Mine").Exec(ctx)
			}, allow("staff")},
			{"change A's slot", func(ctx context.Context, tx *ent.Client) error {
				return tx.HostSlot.UpdateOneID(r.SlotA.ID).SetCapacity(3).Exec(ctx)
			}, allow("host", "staff")},
			{"change Ioana's application", func(ctx context.Context, tx *ent.Client) error {
				return tx.Application.UpdateOneID(r.Ioana.ID).SetRole("Nurse").Exec(ctx)
			}, allow("other trainee", "staff")},
			{"replace A's ranking", func(ctx context.Context, tx *ent.Client) error {
				n, err := tx.HostRanking.Delete().Where(hostranking.HostCentreID(w.CentreA.ID)).Exec(ctx)
				if err == nil && n == 0 {
					return errNothing
				}
				return err
			}, allow("host", "staff")},
			{"change Ioana's placement", func(ctx context.Context, tx *ent.Client) error {
				return tx.Placement.UpdateOneID(ioanaPlacement.ID).SetStatus(placement.StatusDECLINED).Exec(ctx)
			}, allow("other trainee", "host", "staff")},
			{"create a placement", func(ctx context.Context, tx *ent.Client) error {
				return tx.Placement.Create().SetCallID(r.Call.ID).SetNillableRunID(ioanaPlacement.RunID).SetSlotID(r.SlotB.ID).
					SetHostCentreID(w.CentreB.ID).SetApplicationID(r.Ioana.ID).SetTraineeID(w.OtherTrainee.ID).
					SetStartDate(r.SlotB.StartDate).SetEndDate(r.SlotB.EndDate).SetOfferDeadline(s.Clock.Now()).Exec(ctx)
			}, allow("staff")},
			{"grant oneself a role", func(ctx context.Context, tx *ent.Client) error {
				return tx.User.UpdateOneID(w.Trainee.ID).SetRoles(append(w.Trainee.Roles, "STAFF")).Exec(ctx)
			}, allow("staff")},
			{"delete an audit event", func(ctx context.Context, tx *ent.Client) error {
				n, err := tx.AuditEvent.Delete().Exec(ctx)
				if err == nil && n == 0 {
					return errNothing
				}
				return err
			}, allow()},
		}
		for _, op := range writes {
			for i, a := range w.Actors(s) {
				err := rolledBack(t, s, a.Ctx, op.write)
				if got := err == nil; got != op.want[actors[i]] {
					t.Errorf("%s as %s: allowed %v (%v), want %v", op.name, a.Name, got, err, op.want[actors[i]])
				}
			}
		}
	})
}

type nothingErr struct{}

func (nothingErr) Error() string { return "no row was changed" }

var errNothing error = nothingErr{}

// rolledBack runs write in a transaction as ctx's viewer and rolls it back.
func rolledBack(t *testing.T, s *testkit.Services, ctx context.Context, write func(ctx context.Context, tx *ent.Client) error) error {
	t.Helper()
	txCtx, _, err := s.DB.Client.OpenTx(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	tx := ent.TxFromContext(txCtx)
	defer tx.Rollback() //nolint:errcheck // the point
	return write(txCtx, tx.Client())
}

// TestForFactsReadsButNeverWrites: the read-only system viewer of viewer.ForFacts sees
// every row (a rule's facts), and every write through it is refused, so a write always
// carries the person acting.
func TestForFactsReadsButNeverWrites(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		facts := viewer.ForFacts(s.As(w.Trainee))
		if v := viewer.FromContext(facts); !v.IsSystem() || !v.ReadOnly || v.OnBehalfOf != string(w.Trainee.ID) {
			t.Fatalf("ForFacts viewer = %+v", v)
		}
		n, err := s.DB.Client.User.Query().Count(facts)
		if err != nil || n < len(actors)-1 {
			t.Fatalf("ForFacts read %d users, err %v; want every user", n, err)
		}
		err = s.DB.Client.User.UpdateOneID(w.Trainee.ID).SetName("Changed").Exec(facts)
		if err == nil {
			t.Fatal("a write through ForFacts succeeded")
		}
		if got, _ := s.DB.Client.User.Get(s.System(), w.Trainee.ID); got.Name == "Changed" {
			t.Fatal("the refused write changed the row")
		}
	})
}
