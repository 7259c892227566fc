package groups

import (
	"context"
	"fmt"
	"slices"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/conflictofinterestdeclaration"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// DeclarationReminderJobName is the name of the daily job that asks members to declare
// their interests.
const DeclarationReminderJobName = "groups.declaration_reminders"

// DeclarationRenewalNoticeDays is how many days before a declaration is due the reminder goes out.
const DeclarationRenewalNoticeDays = 30

// Limits of a declaration.
const (
	maxInterests           = 50
	maxInterestOrgLen      = 200
	maxInterestDescription = 500
)

// InterestInput is one declared interest.
type InterestInput struct {
	Organisation string
	Kind         vocab.InterestKind
	// Description is optional (nil is empty).
	Description *string
	From        vocab.Date
	// To is nil while the interest is ongoing.
	To *vocab.Date
}

// DeclareInput is a conflict-of-interest declaration.
type DeclareInput struct {
	NothingToDeclare bool
	Interests        []InterestInput
}

// RenewBy is the last day a declaration made on day counts as current: a year later.
func RenewBy(day vocab.Date) vocab.Date {
	return vocab.Date(day.Time().AddDate(1, 0, 0).Format(vocab.DateLayout))
}

// Declare files the signed-in person's conflict-of-interest declaration, dated today. It
// becomes their current declaration; the earlier ones stay on record. UNAUTHENTICATED
// when anonymous. User errors: INVALID when nothing is declared and interests are given
// anyway; REQUIRED when neither; INVALID for more than 50 interests; per interest,
// REQUIRED, TOO_LONG or INVALID for the organisation (one line, 1–200 characters), the
// kind, the description (up to 500 characters), a start that is not a date or in the
// future, and an end before the start.
func (s *WorkingGroups) Declare(ctx context.Context, tx *ent.Client, in DeclareInput) (*ent.ConflictOfInterestDeclaration, error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to declare your interests")
	}
	today := s.today()
	var errs apperr.UserErrors
	switch {
	case in.NothingToDeclare && len(in.Interests) > 0:
		errs.Add(apperr.CodeInvalid, "Either declare that you have nothing to declare or list your interests, not both.", check.Path("interests")...)
	case !in.NothingToDeclare && len(in.Interests) == 0:
		errs.Add(apperr.CodeRequired, "List your interests, or declare that you have nothing to declare.", check.Path("interests")...)
	case len(in.Interests) > maxInterests:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("At most %d interests can be declared at once.", maxInterests), check.Path("interests")...)
	}
	interests := make([]vocab.Interest, 0, len(in.Interests))
	for i, it := range in.Interests {
		if len(in.Interests) > maxInterests {
			break
		}
		at := func(field string) []string { return check.Path("interests", fmt.Sprint(i), field) }
		out := vocab.Interest{Kind: it.Kind, From: it.From, To: it.To}
		out.Organisation = check.RequiredText(&errs, it.Organisation, maxInterestOrgLen, "The organisation", "Name the organisation.", at("organisation"))
		if check.HasControl(out.Organisation) {
			errs.Add(apperr.CodeInvalid, "The organisation must be a single line of text.", at("organisation")...)
		}
		if !it.Kind.Valid() {
			errs.Add(apperr.CodeInvalid, "Choose the kind of interest.", at("kind")...)
		}
		out.Description = check.Text(&errs, deref(it.Description), maxInterestDescription, "The description", at("description"))
		switch {
		case it.From.Validate() != nil:
			errs.Add(apperr.CodeInvalid, "Give the first day as YYYY-MM-DD.", at("from")...)
		case it.From > today:
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The interest cannot start after today (%s); declare it when it begins.", today), at("from")...)
		case it.To == nil:
		case it.To.Validate() != nil:
			errs.Add(apperr.CodeInvalid, "Give the last day as YYYY-MM-DD, or leave it out while the interest is ongoing.", at("to")...)
		case *it.To < it.From:
			errs.Add(apperr.CodeInvalid, "The last day cannot be before the first.", at("to")...)
		}
		interests = append(interests, out)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	d, err := tx.ConflictOfInterestDeclaration.Create().
		SetUserID(pulid.ID(v.UserID)).SetDeclaredOn(today).
		SetNothingToDeclare(in.NothingToDeclare).SetInterests(interests).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("file declaration: %w", err)
	}
	return d, nil
}

// LatestDeclaration returns the latest declaration of user as the caller may see it, nil
// when there is none (or the caller may not see it).
func LatestDeclaration(ctx context.Context, client *ent.Client, u pulid.ID) (*ent.ConflictOfInterestDeclaration, error) {
	out, err := LatestDeclarations(ctx, client, []pulid.ID{u})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// LatestDeclarations is LatestDeclaration for several people (one per id, in order), in
// one statement.
func LatestDeclarations(ctx context.Context, client *ent.Client, users []pulid.ID) ([]*ent.ConflictOfInterestDeclaration, error) {
	ds, err := client.ConflictOfInterestDeclaration.Query().
		Where(conflictofinterestdeclaration.UserIDIn(users...)).
		Order(ent.Desc(conflictofinterestdeclaration.FieldDeclaredOn), ent.Desc(conflictofinterestdeclaration.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("latest declarations: %w", err)
	}
	latest := make(map[pulid.ID]*ent.ConflictOfInterestDeclaration, len(users))
	for _, d := range ds {
		if latest[d.UserID] == nil {
			latest[d.UserID] = d
		}
	}
	out := make([]*ent.ConflictOfInterestDeclaration, len(users))
	for i, u := range users {
		out[i] = latest[u]
	}
	return out, nil
}

// IsCurrentDeclaration reports whether d is its person's latest declaration and today is
// no later than its renewal day.
func (s *WorkingGroups) IsCurrentDeclaration(ctx context.Context, d *ent.ConflictOfInterestDeclaration, today vocab.Date) (bool, error) {
	out, err := s.AreCurrentDeclarations(ctx, []*ent.ConflictOfInterestDeclaration{d}, today)
	if err != nil {
		return false, err
	}
	return out[0], nil
}

// AreCurrentDeclarations is IsCurrentDeclaration for several declarations (one answer per
// declaration, in order), in at most one statement.
func (s *WorkingGroups) AreCurrentDeclarations(ctx context.Context, ds []*ent.ConflictOfInterestDeclaration, today vocab.Date) ([]bool, error) {
	out := make([]bool, len(ds))
	var users []pulid.ID
	for _, d := range ds {
		if today <= RenewBy(d.DeclaredOn) && !slices.Contains(users, d.UserID) {
			users = append(users, d.UserID)
		}
	}
	if len(users) == 0 {
		return out, nil
	}
	client := ent.FromContext(ctx) // the mutation's transaction, which may have just filed d
	if client == nil {
		client = s.cfg.Client
	}
	latest, err := LatestDeclarations(viewer.ForFacts(ctx), client, users)
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		if j := slices.Index(users, d.UserID); j >= 0 && today <= RenewBy(d.DeclaredOn) {
			out[i] = latest[j] != nil && latest[j].ID == d.ID
		}
	}
	return out, nil
}

// RemindDeclarations asks every person who is a current member of a working group (and
// whose account is enabled) to declare their interests when they never have, or to renew
// when their latest declaration is due within DeclarationRenewalNoticeDays days or has
// expired. Each reminder has the dedupe key declaration_reminder:<user>:<renewal day>
// ("none" for a first declaration), so running it again sends nothing new and a renewed
// declaration is reminded of again a year later. It returns how many people it reminded.
func (s *WorkingGroups) RemindDeclarations(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	today := s.today()
	members, err := s.cfg.Client.User.Query().
		Where(user.Disabled(false), user.HasMembershipsWith(currentOn(today))).
		WithMemberships(func(q *ent.MembershipQuery) {
			q.Where(currentOn(today)).WithGroup().Order(membership.ByID())
		}).
		Order(user.ByID()).
		All(sys)
	if err != nil {
		return 0, fmt.Errorf("find members: %w", err)
	}
	n := 0
	for _, u := range members {
		latest, err := LatestDeclaration(sys, s.cfg.Client, u.ID)
		if err != nil {
			return n, err
		}
		data := notify.DeclarationReminderData{Name: u.Name}
		key := "declaration_reminder:" + string(u.ID) + ":none"
		if latest != nil {
			due := RenewBy(latest.DeclaredOn)
			if today < due.AddDays(-DeclarationRenewalNoticeDays) {
				continue
			}
			data.LastDeclared, data.RenewBy, data.Expired = string(latest.DeclaredOn), string(due), today > due
			key = "declaration_reminder:" + string(u.ID) + ":" + string(due)
		}
		for _, m := range u.Edges.Memberships {
			data.Groups = append(data.Groups, m.Edges.Group.Name)
		}
		slices.Sort(data.Groups)
		data.Groups = slices.Compact(data.Groups)
		if err := db.InTx(sys, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			return s.cfg.Notifier.DeclarationReminder(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, data, key)
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
