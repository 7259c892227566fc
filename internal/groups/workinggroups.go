package groups

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/markdown"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// DefaultInvitationTTL is how long the accept and decline links of an invitation work.
const DefaultInvitationTTL = 14 * 24 * time.Hour

// LinkIssuer issues sign-in links that also do something (auth.Service implements it).
type LinkIssuer interface {
	IssueIntentLink(ctx context.Context, tx *ent.Client, u *ent.User, intent string, ttl time.Duration) (string, error)
}

// WorkingGroupsConfig is what the working-groups service needs.
type WorkingGroupsConfig struct {
	// Client is used for reads outside mutations and by the term-warning job.
	Client *ent.Client
	// Dialect of the database (dialect.SQLite or dialect.Postgres): on PostgreSQL the
	// group's row is locked to serialise the membership rules.
	Dialect string
	// Now is the service clock.
	Now func() time.Time
	// Notifier queues the emails.
	Notifier *notify.Notifier
	// Links issues the accept and decline links of invitations.
	Links LinkIssuer
	// InvitationTTL is how long those links work (DefaultInvitationTTL when zero).
	InvitationTTL time.Duration
	// Organizer is the ORGANIZER of meeting invitations: the address the emails come from.
	Organizer mail.Address
	// CalendarDomain ends the UID of every meeting's calendar entry ("<meeting id>@<domain>"):
	// the host of the public URL, so entries stay unique across calendars.
	CalendarDomain string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// WorkingGroups manages working groups and their memberships.
//
// Write methods take the mutation's transactional client and return, besides internal
// errors: apperr.UserErrors for input the caller can fix or a state that forbids the
// change (nothing is written then), UNAUTHENTICATED for an anonymous caller, FORBIDDEN for
// a caller without the right, NOT_FOUND for a membership the caller cannot see, and
// CONFLICT when a concurrent write took a unique name first.
type WorkingGroups struct {
	cfg WorkingGroupsConfig
	log *slog.Logger
}

// NewWorkingGroups checks cfg and returns the service.
func NewWorkingGroups(cfg WorkingGroupsConfig) (*WorkingGroups, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil || cfg.Links == nil {
		return nil, errors.New("groups: Client, Now, Notifier and Links are required")
	}
	if cfg.Organizer.Email == "" || cfg.CalendarDomain == "" {
		return nil, errors.New("groups: Organizer and CalendarDomain are required")
	}
	if cfg.Dialect != dialect.SQLite && cfg.Dialect != dialect.Postgres {
		return nil, fmt.Errorf("groups: unknown dialect %q", cfg.Dialect)
	}
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = DefaultInvitationTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &WorkingGroups{cfg: cfg, log: cfg.Logger.With("op", "groups.working_groups")}, nil
}

// today is the service's date in the coalition's zone.
func (s *WorkingGroups) today() vocab.Date { return vocab.Today(s.cfg.Now()) }

// CreateWorkingGroupInput is what staff provide to create a working group.
type CreateWorkingGroupInput struct {
	Name        string
	WorkPackage workinggroup.WorkPackage
	// Purpose is Markdown; nil is empty.
	Purpose    *string
	Visibility workinggroup.Visibility
}

// UpdateWorkingGroupInput changes a working group; nil fields stay as they are.
type UpdateWorkingGroupInput struct {
	ID          pulid.ID
	Name        *string
	WorkPackage *workinggroup.WorkPackage
	Purpose     *string
	Visibility  *workinggroup.Visibility
	Archived    *bool
}

// CreateWorkingGroup creates a working group. Staff only. User errors: name missing, too
// long or not one line; name taken (ignoring case); unknown work package or visibility;
// purpose over 20,000 characters.
func (s *WorkingGroups) CreateWorkingGroup(ctx context.Context, tx *ent.Client, in CreateWorkingGroupInput) (*ent.WorkingGroup, error) {
	if err := access.Require(ctx, access.CanManageWorkingGroups, "manage working groups"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	name := check.Name(&errs, in.Name, check.Path("name"))
	if workinggroup.WorkPackageValidator(in.WorkPackage) != nil {
		errs.Add(apperr.CodeInvalid, "Choose the work package.", check.Path("workPackage")...)
	}
	if workinggroup.VisibilityValidator(in.Visibility) != nil {
		errs.Add(apperr.CodeInvalid, "Choose PUBLIC or INTERNAL.", check.Path("visibility")...)
	}
	purpose := ""
	if in.Purpose != nil {
		purpose = check.Text(&errs, *in.Purpose, markdown.MaxLen, "The purpose", check.Path("purpose"))
	}
	if len(errs) == 0 {
		if err := checkGroupNameFree(ctx, tx, &errs, name, ""); err != nil {
			return nil, err
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	g, err := tx.WorkingGroup.Create().
		SetName(name).SetWorkPackage(in.WorkPackage).SetPurpose(purpose).SetVisibility(in.Visibility).
		Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "a working group with this name already exists", "create working group")
	}
	return g, nil
}

// UpdateWorkingGroup changes a working group, or archives it (an archived group takes no
// new invitations; its memberships run their course). Staff only. User errors: as for
// CreateWorkingGroup, plus NOT_FOUND for an unknown id.
func (s *WorkingGroups) UpdateWorkingGroup(ctx context.Context, tx *ent.Client, in UpdateWorkingGroupInput) (*ent.WorkingGroup, error) {
	if err := access.Require(ctx, access.CanManageWorkingGroups, "manage working groups"); err != nil {
		return nil, err
	}
	g, err := tx.WorkingGroup.Get(ctx, in.ID)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such working group.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load working group %s: %w", in.ID, err)
	}
	var errs apperr.UserErrors
	name := g.Name
	if in.Name != nil {
		name = check.Name(&errs, *in.Name, check.Path("name"))
	}
	if in.WorkPackage != nil && workinggroup.WorkPackageValidator(*in.WorkPackage) != nil {
		errs.Add(apperr.CodeInvalid, "Choose the work package.", check.Path("workPackage")...)
	}
	if in.Visibility != nil && workinggroup.VisibilityValidator(*in.Visibility) != nil {
		errs.Add(apperr.CodeInvalid, "Choose PUBLIC or INTERNAL.", check.Path("visibility")...)
	}
	purpose := g.Purpose
	if in.Purpose != nil {
		purpose = check.Text(&errs, *in.Purpose, markdown.MaxLen, "The purpose", check.Path("purpose"))
	}
	if len(errs) == 0 && name != g.Name {
		if err := checkGroupNameFree(ctx, tx, &errs, name, g.ID); err != nil {
			return nil, err
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// Only what changes is written, so the audit trail names the fields that changed.
	u := tx.WorkingGroup.UpdateOne(g)
	m := u.Mutation()
	if name != g.Name {
		m.SetName(name)
	}
	if in.WorkPackage != nil && *in.WorkPackage != g.WorkPackage {
		m.SetWorkPackage(*in.WorkPackage)
	}
	if purpose != g.Purpose {
		m.SetPurpose(purpose)
	}
	if in.Visibility != nil && *in.Visibility != g.Visibility {
		m.SetVisibility(*in.Visibility)
	}
	if in.Archived != nil && *in.Archived != g.Archived {
		m.SetArchived(*in.Archived)
	}
	if len(m.Fields()) == 0 {
		return g, nil
	}
	g, err = u.Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "a working group with this name already exists", "update working group")
	}
	return g, nil
}

// checkGroupNameFree adds TAKEN when another group has the name, ignoring case.
func checkGroupNameFree(ctx context.Context, tx *ent.Client, errs *apperr.UserErrors, name string, self pulid.ID) error {
	q := tx.WorkingGroup.Query().Where(workinggroup.NameEqualFold(name))
	if self != "" {
		q.Where(workinggroup.IDNEQ(self))
	}
	taken, err := q.Exist(viewer.ForFacts(ctx)) // private groups too
	if err != nil {
		return fmt.Errorf("check working group name: %w", err)
	}
	if taken {
		errs.Add(apperr.CodeTaken, "A working group with this name already exists.", check.Path("name")...)
	}
	return nil
}

// WorkingGroupFilter narrows the list of working groups; nil fields do not narrow it.
type WorkingGroupFilter struct {
	WorkPackage *workinggroup.WorkPackage
	Visibility  *workinggroup.Visibility
	// IncludeArchived shows archived groups too (hidden by default).
	IncludeArchived bool
	// Search is a case-insensitive part of the name (at most 100 characters).
	Search *string
}

// WorkingGroupsPage returns a page of the working groups the viewer may see (the privacy
// policy decides which: filters only narrow that set further), by name unless order says
// otherwise. A malformed filter is BAD_REQUEST.
func (s *WorkingGroups) WorkingGroupsPage(ctx context.Context, f WorkingGroupFilter, p db.Page, order *ent.WorkingGroupOrder) (*ent.WorkingGroupConnection, error) {
	q := s.cfg.Client.WorkingGroup.Query()
	if f.WorkPackage != nil {
		if workinggroup.WorkPackageValidator(*f.WorkPackage) != nil {
			return nil, apperr.New(apperr.BadRequest, "filter.workPackage: unknown work package")
		}
		q.Where(workinggroup.WorkPackageEQ(*f.WorkPackage))
	}
	if f.Visibility != nil {
		if workinggroup.VisibilityValidator(*f.Visibility) != nil {
			return nil, apperr.New(apperr.BadRequest, "filter.visibility: PUBLIC or INTERNAL")
		}
		q.Where(workinggroup.VisibilityEQ(*f.Visibility))
	}
	if f.Search != nil {
		search, err := check.Search(*f.Search)
		if err != nil {
			return nil, err
		}
		if search != "" {
			q.Where(workinggroup.NameContainsFold(search))
		}
	}
	if !f.IncludeArchived {
		q.Where(workinggroup.Archived(false))
	}
	if order == nil {
		order = &ent.WorkingGroupOrder{Field: ent.WorkingGroupOrderFieldName, Direction: entgql.OrderDirectionAsc}
	}
	conn, err := q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithWorkingGroupOrder(order))
	if err != nil {
		return nil, fmt.Errorf("list working groups: %w", err)
	}
	return conn, nil
}

// Chair returns the group's current chair as the viewer may see it, or nil.
func (s *WorkingGroups) Chair(ctx context.Context, g *ent.WorkingGroup, today vocab.Date) (*ent.Membership, error) {
	out, err := s.Chairs(ctx, []*ent.WorkingGroup{g}, today)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Chairs is Chair for several groups (one per group, in order), in one statement, read
// with the request's transaction when there is one.
func (s *WorkingGroups) Chairs(ctx context.Context, gs []*ent.WorkingGroup, today vocab.Date) ([]*ent.Membership, error) {
	client := ent.FromContext(ctx)
	if client == nil {
		client = s.cfg.Client
	}
	ids := make([]pulid.ID, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	ms, err := client.Membership.Query().
		Where(membership.GroupIDIn(ids...), membership.RoleEQ(membership.RoleCHAIR), currentOn(today)).
		Order(membership.ByTermStart(), membership.ByID()).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("chairs: %w", err)
	}
	first := make(map[pulid.ID]*ent.Membership, len(gs))
	for _, m := range ms {
		if first[m.GroupID] == nil {
			first[m.GroupID] = m
		}
	}
	out := make([]*ent.Membership, len(gs))
	for i, g := range gs {
		out[i] = first[g.ID]
	}
	return out, nil
}

// lockGroup loads the group for a membership change. On PostgreSQL it locks the group's row
// (SELECT … FOR UPDATE) until the transaction ends, so that two transactions checking the
// chair and overlap rules of the same group run one after the other and the second sees
// the first's membership. SQLite needs no lock: `_txlock=immediate` makes every write
// transaction take the database's single write lock at BEGIN. It reads as the viewer, so
// a group they may not see is not found (and not locked).
func (s *WorkingGroups) lockGroup(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.WorkingGroup, error) {
	q := db.LockRows(s.cfg.Dialect, tx.WorkingGroup.Query().Where(workinggroup.ID(id)), workinggroup.Table)
	return q.Only(ctx)
}
