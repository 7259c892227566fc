package directory_test

import (
	"context"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// staffOnly is the answer of a write only staff may make: anonymous callers must sign in,
// everyone else is refused, whatever they hold.
var staffOnly = map[string]string{
	"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN", "host": "FORBIDDEN",
	"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "ok",
}

func ptr[T any](v T) *T { return &v }

// TestDirectoryPermissions is the table of the directory's writes: every operation × every
// kind of caller (testkit.World: anonymous, two trainees, the host of centre A, the host
// of centre B, a former host of A whose role was revoked, staff) → the answer, through the
// service as that caller. Each row runs in a transaction that is rolled back; a refusal
// must write nothing, and an "ok" must write.
func TestDirectoryPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		d := s.Directory
		var aff *ent.Affiliation
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			var err error
			aff, err = d.SetAffiliation(ctx, tx, directory.SetAffiliationInput{UserID: w.Trainee.ID, OrganisationID: w.Brno.ID, Position: "Haematologist"})
			return err
		})
		ops := []struct {
			name string
			do   func(ctx context.Context, tx *ent.Client) error
			want map[string]string
		}{
			{"createOrganisation", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.CreateOrganisation(ctx, tx, directory.CreateOrganisationInput{Name: "Société Française d'Hématologie", Kind: organisation.KindSOCIETY, Country: "FR"})
				return err
			}, staffOnly},
			{"updateOrganisation", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.UpdateOrganisation(ctx, tx, directory.UpdateOrganisationInput{ID: w.Brno.ID, City: ptr("Brno")})
				return err
			}, staffOnly},
			{"deactivateOrganisation", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.UpdateOrganisation(ctx, tx, directory.UpdateOrganisationInput{ID: w.Bucharest.ID, Active: ptr(false)})
				return err
			}, staffOnly},
			{"createHostCentre", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.CreateHostCentre(ctx, tx, directory.CreateHostCentreInput{OrganisationID: w.Brno.ID, HostCentreProfile: directory.HostCentreProfile{
					Name: ptr("CAR-T, Brno"), City: ptr("Brno"), Country: ptr("CZ"), Languages: []string{"cs", "en"}, Adult: ptr(true), Paediatric: ptr(false),
				}})
				return err
			}, staffOnly},
			{"updateHostCentre of A", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.UpdateHostCentre(ctx, tx, directory.UpdateHostCentreInput{ID: w.CentreA.ID, HostCentreProfile: directory.HostCentreProfile{AnnualPatients: ptr(42)}})
				return err
			}, map[string]string{
				"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN", "host": "ok",
				"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "ok",
			}},
			{"updateHostCentre of B", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.UpdateHostCentre(ctx, tx, directory.UpdateHostCentreInput{ID: w.CentreB.ID, HostCentreProfile: directory.HostCentreProfile{AcceptingObservers: ptr(false)}})
				return err
			}, map[string]string{
				"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN", "host": "FORBIDDEN",
				"other host": "ok", "former host": "FORBIDDEN", "staff": "ok",
			}},
			{"addHostCoordinator", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.AddHostCoordinator(ctx, tx, w.CentreB.ID, w.Host.ID)
				return err
			}, staffOnly},
			{"removeHostCoordinator", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.RemoveHostCoordinator(ctx, tx, w.CentreB.ID, w.OtherHost.ID)
				return err
			}, staffOnly},
			{"setAffiliation", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.SetAffiliation(ctx, tx, directory.SetAffiliationInput{UserID: w.OtherTrainee.ID, OrganisationID: w.Bucharest.ID, Position: "Fellow"})
				return err
			}, staffOnly},
			{"removeAffiliation", func(ctx context.Context, tx *ent.Client) error {
				_, err := d.RemoveAffiliation(ctx, tx, aff.ID)
				return err
			}, staffOnly},
		}
		for _, op := range ops {
			for _, a := range w.Actors(s) {
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
