package directory_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/affiliation"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestEraseDirectory erases Marek Novák, who, like his near-namesake Marek Novak, is
// affiliated with Brno and a contact of the Lyon centre, whose profile names them both:
// Marek's affiliation and contact entry go and his name and address leave the profile;
// the twin's stay; Marek's export holds nothing afterwards.
func TestEraseDirectory(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w, twin := testkit.MustTwins(t, s)
		sys, c := s.System(), s.DB.Client
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			for _, a := range []struct {
				u   *ent.User
				pos string
			}{{w.Trainee, "Consultant haematologist"}, {twin, "Registrar in cell therapy"}} {
				if _, err := s.Directory.SetAffiliation(ctx, tx, directory.SetAffiliationInput{UserID: a.u.ID, OrganisationID: w.Brno.ID, Position: a.pos}); err != nil {
					return err
				}
			}
			return nil
		})
		testkit.MustOK(t, c.HostCentre.UpdateOneID(w.CentreA.ID).AddCoordinatorIDs(w.Trainee.ID, twin.ID).
			SetDescription("Ask Marek Novák (marek.novak@fnbrno.example.cz) or Marek Novak (marek.novak@fnbrno.example.com).").Exec(sys))
		testkit.MustContain(t, "Marek's export before erasure", testkit.ExportJSON(t, s, directory.PrivacyDomain{}, w.Trainee),
			"Consultant haematologist", string(w.CentreA.ID))

		erased := testkit.MustErase(t, s, directory.PrivacyDomain{}, w.Trainee)
		if erased.Rows != 3 || len(erased.Documents) != 0 {
			t.Errorf("erased = %+v, want 3 rows (affiliation, contact, profile)", erased)
		}

		testkit.WantCount(t, s, "Marek's affiliations", c.Affiliation.Query().Where(affiliation.UserID(w.Trainee.ID)), 0)
		twinAff, err := c.Affiliation.Query().Where(affiliation.UserID(twin.ID)).Only(sys)
		if err != nil || twinAff.Position != "Registrar in cell therapy" {
			t.Errorf("the twin's affiliation after erasure: %+v, %v", twinAff, err)
		}
		centre, err := c.HostCentre.Get(sys, w.CentreA.ID)
		testkit.MustOK(t, err)
		if centre.Description != "Ask [erased] ([erased]) or Marek Novak (marek.novak@fnbrno.example.com)." {
			t.Errorf("profile after erasure: %q", centre.Description)
		}
		coords, err := centre.QueryCoordinators().IDs(sys)
		testkit.MustOK(t, err)
		if slices.Contains(coords, w.Trainee.ID) || !slices.Contains(coords, twin.ID) || !slices.Contains(coords, w.Host.ID) || len(coords) != 3 {
			t.Errorf("centre A's contacts after erasure: %v; want Claire, Paul and the twin", coords)
		}

		if after := testkit.ExportJSON(t, s, directory.PrivacyDomain{}, w.Trainee); after != `{"affiliations":[],"coordinated_centres":[]}` {
			t.Errorf("Marek's export after erasure = %s", after)
		}
		testkit.MustContain(t, "the twin's export after erasure", testkit.ExportJSON(t, s, directory.PrivacyDomain{}, twin),
			"Registrar in cell therapy", string(w.CentreA.ID))
	})
}
