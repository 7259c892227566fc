package access_test

import (
	"testing"

	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// TestStatementPredicates is the table of the statements' predicates over every kind of
// viewer, for a statement written by "ana" whose organisation has the signatory "sam".
func TestStatementPredicates(t *testing.T) {
	user := func(id string, roles ...viewer.Role) viewer.Viewer {
		return viewer.Viewer{Kind: viewer.User, UserID: id, Roles: roles}
	}
	authors, signatories := []string{"ana"}, []string{"sam"}
	for _, c := range []struct {
		name               string
		v                  viewer.Viewer
		manage, edit, sign bool
	}{
		{"anonymous", viewer.Viewer{}, false, false, false},
		{"author", user("ana", viewer.RoleTrainee), false, true, false},
		{"signatory", user("sam", viewer.RoleTrainee), false, false, true},
		{"other trainee", user("tom", viewer.RoleTrainee), false, false, false},
		{"host coordinator", user("hana", viewer.RoleHostCoordinator), false, false, false},
		{"staff", user("office", viewer.RoleStaff), true, true, false},
		{"designated staff", user("sam", viewer.RoleStaff), true, true, true},
		{"system", viewer.Viewer{Kind: viewer.System}, true, true, false},
		{"read-only system", viewer.Viewer{Kind: viewer.System, ReadOnly: true}, false, false, false},
	} {
		if got := access.CanManageStatements(c.v); got != c.manage {
			t.Errorf("CanManageStatements(%s) = %v, want %v", c.name, got, c.manage)
		}
		if got := access.CanEditStatement(c.v, authors); got != c.edit {
			t.Errorf("CanEditStatement(%s) = %v, want %v", c.name, got, c.edit)
		}
		if got := access.CanSignStatement(c.v, signatories); got != c.sign {
			t.Errorf("CanSignStatement(%s) = %v, want %v", c.name, got, c.sign)
		}
	}
}
