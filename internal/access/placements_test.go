package access_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// TestPlacementRules decides every placement and match-run predicate for every viewer:
// the placement is the trainee's at a centre the host and the former host are listed as
// coordinating (the former host no longer holds HOST_COORDINATOR); "facts" is the
// read-only system viewer of viewer.ForFacts. Each row lists who the rule allows.
func TestPlacementRules(t *testing.T) {
	user := func(id string, roles ...viewer.Role) viewer.Viewer {
		return viewer.Viewer{Kind: viewer.User, UserID: id, Roles: roles}
	}
	viewers := []struct {
		name string
		v    viewer.Viewer
	}{
		{"anonymous", viewer.Viewer{}},
		{"trainee", user("usr_trainee", viewer.RoleTrainee)},
		{"revoked trainee", user("usr_trainee")},
		{"other trainee", user("usr_other", viewer.RoleTrainee)},
		{"host", user("usr_host", viewer.RoleHostCoordinator)},
		{"other host", user("usr_otherhost", viewer.RoleHostCoordinator)},
		{"former host", user("usr_former")},
		{"staff", user("usr_staff", viewer.RoleStaff)},
		{"system", viewer.Viewer{Kind: viewer.System}},
		{"facts", viewer.Viewer{Kind: viewer.System, ReadOnly: true}},
	}
	p := access.PlacementParties{TraineeID: "usr_trainee", IsCoordinator: func(id string) bool { return id == "usr_host" || id == "usr_former" }}
	on := func(can func(viewer.Viewer, access.PlacementParties) bool) func(viewer.Viewer) bool {
		return func(v viewer.Viewer) bool { return can(v, p) }
	}
	rules := []struct {
		name string
		can  func(viewer.Viewer) bool
		want string
	}{
		{"CanRunMatch", access.CanRunMatch, "staff system facts"},
		{"CanSeePlacement", on(access.CanSeePlacement), "trainee, revoked trainee, host, staff system facts"},
		{"CanAnswerOffer", on(access.CanAnswerOffer), "trainee"},
		{"CanAnswerDateChange", on(access.CanAnswerDateChange), "trainee"},
		{"CanReportOnPlacement", on(access.CanReportOnPlacement), "trainee"},
		{"CanConfirmPlacement", on(access.CanConfirmPlacement), "host, staff system facts"},
		{"CanCancelPlacement", on(access.CanCancelPlacement), "host, staff system facts"},
		{"CanProposeDates", on(access.CanProposeDates), "host, staff system facts"},
		{"CanEvaluatePlacement", on(access.CanEvaluatePlacement), "host"},
		{"CanReadPlacementReport", on(access.CanReadPlacementReport), "trainee, revoked trainee, staff system facts"},
		{"CanReadPlacementEvaluation", on(access.CanReadPlacementEvaluation), "host, staff system facts"},
		{"CanSeeMatchOutcome", func(v viewer.Viewer) bool { return access.CanSeeMatchOutcome(v, p.TraineeID) }, "trainee, revoked trainee, staff system facts"},
	}
	for _, r := range rules {
		var got []string
		for _, x := range viewers {
			if r.can(x.v) {
				got = append(got, x.name)
			}
		}
		want := strings.Fields(strings.ReplaceAll(r.want, ",", ""))
		if g := strings.Join(got, " "); g != strings.Join(want, " ") {
			t.Errorf("%s allows %s, want %s", r.name, fmt.Sprint(got), fmt.Sprint(want))
		}
	}
}
