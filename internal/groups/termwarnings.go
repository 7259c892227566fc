package groups

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// TermWarningJobName is the name of the daily job that warns of terms about to end.
const TermWarningJobName = "groups.term_warnings"

// TermWarningDays is how many days before a term's last day the warnings go out.
const TermWarningDays = 30

// WarnTermsEnding emails a warning about every current membership whose term ends within
// the next TermWarningDays days (after today, in the coalition's zone) and that staff have
// not ended early: to the member, to the group's current chairs and co-chairs, and to every
// staff member. Each email has the dedupe key term_warning:<membership>:<term end>:<user>,
// so running it again sends nothing new, a day the job did not run is caught up the next
// day, and a term that is extended (a new end) is warned about again. It returns how many
// memberships it warned about.
func (s *WorkingGroups) WarnTermsEnding(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	today := s.today()
	due, err := s.cfg.Client.Membership.Query().
		Where(currentOn(today), membership.EndedOnIsNil(),
			membership.TermEndGT(today), membership.TermEndLTE(today.AddDays(TermWarningDays))).
		WithGroup().WithUser().
		Order(membership.ByTermEnd(), membership.ByID()).
		All(sys)
	if err != nil {
		return 0, fmt.Errorf("find terms ending: %w", err)
	}
	if len(due) == 0 {
		return 0, nil
	}
	staff, err := ActiveStaff(sys, s.cfg.Client)
	if err != nil {
		return 0, err
	}
	for _, m := range due {
		chairs, err := s.cfg.Client.Membership.Query().
			Where(membership.GroupID(m.GroupID), membership.RoleIn(membership.RoleCHAIR, membership.RoleCO_CHAIR), currentOn(today)).
			WithUser().
			All(sys)
		if err != nil {
			return 0, fmt.Errorf("find chairs of %s: %w", m.GroupID, err)
		}
		member := m.Edges.User
		recipients := []*ent.User{member}
		seen := map[pulid.ID]bool{member.ID: true}
		for _, c := range chairs {
			recipients = append(recipients, c.Edges.User)
		}
		recipients = append(recipients, staff...)
		data := notify.TermWarningData{
			MemberName: member.Name, GroupName: m.Edges.Group.Name, Role: RoleName(m.Role), TermEnd: string(m.TermEnd),
			DaysLeft: int(m.TermEnd.Time().Sub(today.Time()).Hours() / 24),
		}
		for i, r := range recipients {
			if r == nil || r.Disabled || (i > 0 && seen[r.ID]) {
				continue
			}
			seen[r.ID] = true
			d := data
			d.RecipientName, d.Self = r.Name, r.ID == member.ID
			key := fmt.Sprintf("term_warning:%s:%s:%s", m.ID, m.TermEnd, r.ID)
			if err := db.InTx(sys, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
				return s.cfg.Notifier.TermWarning(ctx, tx, notify.Recipient{Email: r.Email, Name: r.Name}, d, key)
			}); err != nil {
				return 0, err
			}
		}
	}
	return len(due), nil
}

// ActiveStaff returns the enabled staff members, by id: who is told about the
// coalition's own deadlines (terms ending, calls closing).
func ActiveStaff(ctx context.Context, client *ent.Client) ([]*ent.User, error) {
	staff, err := client.User.Query().Where(user.Disabled(false), hasRole(viewer.RoleStaff)).Order(user.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	return staff, nil
}

// hasRole matches users whose roles (a JSON array) include r.
func hasRole(r viewer.Role) predicate.User {
	return predicate.User(func(s *sql.Selector) {
		s.Where(sqljson.ValueContains(s.C(user.FieldRoles), string(r)))
	})
}
