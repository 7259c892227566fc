package directory_test

import (
	"context"
	"slices"
	"strings"
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
		w := testkit.NewWorld(t, s)
		twin := testkit.Twin(t, s)
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
		if err := c.HostCentre.UpdateOneID(w.CentreA.ID).AddCoordinatorIDs(w.Trainee.ID, twin.ID).
			SetDescription("Ask Marek Novák (marek.novak@fnbrno.example.cz) or Marek Novak (marek.novak@fnbrno.example.com).").Exec(sys); err != nil {
			t.Fatal(err)
		}
		if before := testkit.ExportJSON(t, s, directory.PrivacyDomain{}, w.Trainee); !strings.Contains(before, "Consultant haematologist") || !strings.Contains(before, string(w.CentreA.ID)) {
			t.Fatalf("Marek's export before erasure lacks his data: %s", before)
		}

		erased := testkit.MustErase(t, s, directory.PrivacyDomain{}, w.Trainee)
		if erased.Rows != 3 || len(erased.Documents) != 0 {
			t.Errorf("erased = %+v, want 3 rows (affiliation, contact, profile)", erased)
		}

		if n := testkit.Count(s, c.Affiliation.Query().Where(affiliation.UserID(w.Trainee.ID))); n != 0 {
			t.Errorf("Marek keeps %d affiliations", n)
		}
		twinAff, err := c.Affiliation.Query().Where(affiliation.UserID(twin.ID)).Only(sys)
		if err != nil || twinAff.Position != "Registrar in cell therapy" {
			t.Errorf("the twin's affiliation after erasure: %+v, %v", twinAff, err)
		}
		centre, err := c.HostCentre.Get(sys, w.CentreA.ID)
		if err != nil {
			t.Fatal(err)
		}
		if centre.Description != "Ask [erased] ([erased]) or Marek Novak (marek.novak@fnbrno.example.com)." {
			t.Errorf("profile after erasure: %q", centre.Description)
		}
		coords, err := centre.QueryCoordinators().IDs(sys)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(coords, w.Trainee.ID) || !slices.Contains(coords, twin.ID) || !slices.Contains(coords, w.Host.ID) || len(coords) != 3 {
			t.Errorf("centre A's contacts after erasure: %v; want Claire, Paul and the twin", coords)
		}

		if after := testkit.ExportJSON(t, s, directory.PrivacyDomain{}, w.Trainee); after != `{"affiliations":[],"coordinated_centres":[]}` {
			t.Errorf("Marek's export after erasure = %s", after)
		}
		if twinAfter := testkit.ExportJSON(t, s, directory.PrivacyDomain{}, twin); !strings.Contains(twinAfter, "Registrar in cell therapy") || !strings.Contains(twinAfter, string(w.CentreA.ID)) {
			t.Errorf("the twin's export after erasure lost data: %s", twinAfter)
		}
	})
}
