package access_test

import (
	"context"
	"testing"

	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// TestProgrammePredicates is the table of the programme's predicates over every kind of
// viewer, with centre A coordinated by "claire" and "paul" (who lost HOST_COORDINATOR) and
// the application of "marek". The services and the privacy rules both decide through these
// functions (the service-level table is programme's TestProgrammePermissionTable).
func TestProgrammePredicates(t *testing.T) {
	user := func(id string, roles ...viewer.Role) viewer.Viewer {
		return viewer.Viewer{Kind: viewer.User, UserID: id, Roles: roles}
	}
	viewers := []struct {
		name string
		v    viewer.Viewer
	}{
		{"anonymous", viewer.Viewer{}},
		{"trainee", user("marek", viewer.RoleTrainee)},
		{"other trainee", user("ioana", viewer.RoleTrainee)},
		{"host", user("claire", viewer.RoleHostCoordinator)},
		{"other host", user("lukas", viewer.RoleHostCoordinator)},
		{"former host", user("paul")},
		{"former trainee", user("marek")},
		{"staff", user("office", viewer.RoleStaff)},
		{"system", viewer.Viewer{Kind: viewer.System}},
	}
	centreA := func(id string) bool { return id == "claire" || id == "paul" }
	predicates := []struct {
		name string
		can  func(viewer.Viewer) bool
		want []string // the viewers allowed; everyone else is refused
	}{
		{"CanRunCalls", access.CanRunCalls, []string{"staff", "system"}},
		{"CanDecideSlots", access.CanDecideSlots, []string{"staff", "system"}},
		{"CanDecideEligibility", access.CanDecideEligibility, []string{"staff", "system"}},
		{"CanExportApplications", access.CanExportApplications, []string{"staff", "system"}},
		{"CanOfferSlots (centre A)", func(v viewer.Viewer) bool { return access.CanOfferSlots(v, centreA) }, []string{"host", "staff", "system"}},
		{"CanRankApplicants (centre A)", func(v viewer.Viewer) bool { return access.CanRankApplicants(v, centreA) }, []string{"host", "staff", "system"}},
		{"CanApply", access.CanApply, []string{"trainee", "other trainee"}},
		{"CanEditApplication (Marek's)", func(v viewer.Viewer) bool { return access.CanEditApplication(v, "marek") }, []string{"trainee"}},
	}
	for _, p := range predicates {
		for _, vw := range viewers {
			want := false
			for _, a := range p.want {
				want = want || a == vw.name
			}
			if got := p.can(vw.v); got != want {
				t.Errorf("%s for %s = %v, want %v", p.name, vw.name, got, want)
			}
		}
	}
}

// TestRequireThat: an anonymous caller is asked to sign in whatever the answer; anyone
// else refused is FORBIDDEN with the rule's words.
func TestRequireThat(t *testing.T) {
	anon := viewer.NewContext(context.Background(), viewer.Viewer{})
	someone := viewer.NewContext(context.Background(), viewer.Viewer{Kind: viewer.User, UserID: "u"})
	cases := []struct {
		ctx     context.Context
		allowed bool
		want    apperr.Code
	}{
		{anon, true, apperr.Unauthenticated},
		{anon, false, apperr.Unauthenticated},
		{someone, false, apperr.Forbidden},
	}
	for _, c := range cases {
		err := access.RequireThat(c.ctx, c.allowed, "offer a slot", "the centre's coordinators and coalition staff can offer its slots")
		if got := apperr.KindOf(err); got != c.want {
			t.Errorf("allowed=%v as %v: %v, want %s", c.allowed, viewer.FromContext(c.ctx).Kind, err, c.want)
		}
	}
	if err := access.RequireThat(someone, true, "offer a slot", "…"); err != nil {
		t.Errorf("allowed: %v", err)
	}
	if err := access.RequireSignedIn(anon, "offer a slot"); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Errorf("RequireSignedIn anonymous: %v", err)
	}
	if err := access.RequireSignedIn(someone, "offer a slot"); err != nil {
		t.Errorf("RequireSignedIn signed in: %v", err)
	}
}
