package groups

import (
	"context"
	"fmt"
	"strings"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// maxEndReasonLen bounds the reason for ending a membership early.
const maxEndReasonLen = 500

// Intents of the sign-in links in an invitation: "<intent>:<membership id>".
const (
	IntentAccept  = "membership.accept"
	IntentDecline = "membership.decline"
)

// workPackageNames are the work packages as people read them.
var workPackageNames = map[workinggroup.WorkPackage]string{
	workinggroup.WorkPackageDATA_HARMONISATION:     "Data harmonisation",
	workinggroup.WorkPackageSTANDARDS_OF_CARE:      "Standards of care",
	workinggroup.WorkPackageEDUCATION_AND_TRAINING: "Education and training",
	workinggroup.WorkPackagePOLICY_AND_ADVOCACY:    "Policy and advocacy",
	workinggroup.WorkPackageSCIENTIFIC_EXCELLENCE:  "Scientific excellence",
}

// InviteInput is what staff provide to invite a person to a group.
type InviteInput struct {
	GroupID pulid.ID
	UserID  pulid.ID
	Role    membership.Role
	// OrganisationID is the organisation the member represents; nil for none.
	OrganisationID *pulid.ID
	TermStart      vocab.Date
	TermEnd        vocab.Date
}

// Invite invites a person to a working group for a role and a term, and emails them
// accept and decline links that work through sign-in. Staff only. User errors: NOT_FOUND
// for an unknown group, user or organisation; INVALID_STATE for an archived group, a
// disabled account or an inactive organisation; INVALID for an unknown role or a term
// that does not end after it starts or has already ended; TAKEN when the person has a
// membership of the group (not declined) whose term overlaps; INVALID_STATE for a CHAIR
// whose term overlaps another chair's (invited or accepted).
func (s *WorkingGroups) Invite(ctx context.Context, tx *ent.Client, in InviteInput) (*ent.Membership, error) {
	if err := access.Require(ctx, access.CanManageWorkingGroups, "manage working groups"); err != nil {
		return nil, err
	}
	today := s.today()
	var errs apperr.UserErrors
	// The group first: on PostgreSQL this takes the lock that serialises the rules below.
	g, err := s.lockGroup(ctx, tx, in.GroupID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such working group.", check.Path("groupId")...)
	case err != nil:
		return nil, fmt.Errorf("load working group %s: %w", in.GroupID, err)
	case g.Archived:
		errs.Add(apperr.CodeInvalidState, "This working group is archived and takes no new members.", check.Path("groupId")...)
	}
	u, err := tx.User.Get(ctx, in.UserID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such user.", check.Path("userId")...)
	case err != nil:
		return nil, fmt.Errorf("load user %s: %w", in.UserID, err)
	case u.Disabled:
		errs.Add(apperr.CodeInvalidState, "This account is disabled.", check.Path("userId")...)
	}
	if membership.RoleValidator(in.Role) != nil {
		errs.Add(apperr.CodeInvalid, "Choose the role: CHAIR, CO_CHAIR, MEMBER, OBSERVER or SECRETARIAT.", check.Path("role")...)
	}
	if in.OrganisationID != nil {
		o, err := tx.Organisation.Get(ctx, *in.OrganisationID)
		switch {
		case ent.IsNotFound(err):
			errs.Add(apperr.CodeNotFound, "No such organisation.", check.Path("organisationId")...)
		case err != nil:
			return nil, fmt.Errorf("load organisation %s: %w", *in.OrganisationID, err)
		case !o.Active:
			errs.Add(apperr.CodeInvalidState, "This organisation is no longer active.", check.Path("organisationId")...)
		}
	}
	datesOK := in.TermStart.Validate() == nil && in.TermEnd.Validate() == nil
	switch {
	case !datesOK:
		errs.Add(apperr.CodeInvalid, "Give the term's dates as YYYY-MM-DD.", check.Path("termStart")...)
	case in.TermEnd <= in.TermStart:
		errs.Add(apperr.CodeInvalid, "The term must end after it starts.", check.Path("termEnd")...)
	case in.TermEnd < today:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("This term ended on %s; it is %s today.", in.TermEnd, today), check.Path("termEnd")...)
	}
	if len(errs) == 0 {
		if err := s.checkTerm(ctx, tx, &errs, g.ID, in.UserID, in.Role, in.TermStart, in.TermEnd, ""); err != nil {
			return nil, err
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	c := tx.Membership.Create().
		SetGroupID(g.ID).SetUserID(u.ID).SetRole(in.Role).
		SetNillableOrganisationID(in.OrganisationID).
		SetTermStart(in.TermStart).SetTermEnd(in.TermEnd)
	if v := viewer.FromContext(ctx); v.Kind == viewer.User {
		c.SetInvitedByID(pulid.ID(v.UserID))
	}
	m, err := c.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create membership: %w", err)
	}
	accept, err := s.cfg.Links.IssueIntentLink(ctx, tx, u, IntentAccept+":"+string(m.ID), s.cfg.InvitationTTL)
	if err != nil {
		return nil, err
	}
	decline, err := s.cfg.Links.IssueIntentLink(ctx, tx, u, IntentDecline+":"+string(m.ID), s.cfg.InvitationTTL)
	if err != nil {
		return nil, err
	}
	orgName := ""
	if in.OrganisationID != nil {
		o, err := tx.Organisation.Get(ctx, *in.OrganisationID)
		if err != nil {
			return nil, fmt.Errorf("load organisation %s: %w", *in.OrganisationID, err)
		}
		orgName = o.Name
	}
	err = s.cfg.Notifier.MembershipInvitation(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, notify.MembershipInvitationData{
		Name: u.Name, GroupName: g.Name, WorkPackage: workPackageNames[g.WorkPackage], Role: RoleName(m.Role),
		Organisation: orgName, TermStart: string(m.TermStart), TermEnd: string(m.TermEnd),
		AcceptURL: accept, DeclineURL: decline, ValidDays: int(s.cfg.InvitationTTL.Hours() / 24),
	}, "membership_invitation:"+string(m.ID))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// checkTerm adds the user errors of a term from start to end for user in role in group:
// another membership of the same person overlapping it (TAKEN), and for a CHAIR another
// chair overlapping it (INVALID_STATE). Memberships that were declined do not count; one
// ended early counts up to its last day. self is the membership being checked, if it
// exists already (accepting), and is left out. The memberships are read as facts
// (viewer.ForFacts): an invitee accepting may not see the other chair's membership, and
// only its dates and its holder's name reach them, in the refusal.
func (s *WorkingGroups) checkTerm(ctx context.Context, tx *ent.Client, errs *apperr.UserErrors, group, user pulid.ID, role membership.Role, start, end vocab.Date, self pulid.ID) error {
	facts := viewer.ForFacts(ctx)
	q := tx.Membership.Query().Where(membership.GroupID(group), membership.UserID(user), overlapping(start, end))
	if self != "" {
		q.Where(membership.IDNEQ(self))
	}
	other, err := q.Order(membership.ByTermStart()).First(facts)
	switch {
	case err == nil:
		errs.Add(apperr.CodeTaken, fmt.Sprintf("This person already has a membership of the group from %s to %s that overlaps this term.",
			other.TermStart, effectiveEnd(other)), check.Path("termStart")...)
	case !ent.IsNotFound(err):
		return fmt.Errorf("check overlapping memberships: %w", err)
	}
	if role != membership.RoleCHAIR {
		return nil
	}
	q = tx.Membership.Query().
		Where(membership.GroupID(group), membership.RoleEQ(membership.RoleCHAIR), overlapping(start, end)).
		WithUser()
	if self != "" {
		q.Where(membership.IDNEQ(self))
	}
	chair, err := q.Order(membership.ByTermStart()).First(facts)
	switch {
	case err == nil:
		who := "someone else"
		if chair.Edges.User != nil && chair.Edges.User.Name != "" {
			who = chair.Edges.User.Name
		}
		state := "is the chair"
		if chair.Answer == membership.AnswerPENDING {
			state = "is invited as chair"
		}
		errs.Add(apperr.CodeInvalidState, fmt.Sprintf("A group has one chair at a time, and %s %s from %s to %s.",
			who, state, chair.TermStart, effectiveEnd(chair)), check.Path("role")...)
	case !ent.IsNotFound(err):
		return fmt.Errorf("check chairs: %w", err)
	}
	return nil
}

// Accept accepts an invitation as the invitee. UNAUTHENTICATED when anonymous, NOT_FOUND
// when the caller cannot see the membership, FORBIDDEN when it is someone else's. User
// errors (INVALID_STATE): already answered, the term is over, or (for a CHAIR) the group
// has another chair for an overlapping term by now.
func (s *WorkingGroups) Accept(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Membership, error) {
	return s.answer(ctx, tx, id, membership.AnswerACCEPTED)
}

// Decline declines an invitation as the invitee; errors as for Accept, less the chair rule.
func (s *WorkingGroups) Decline(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Membership, error) {
	return s.answer(ctx, tx, id, membership.AnswerDECLINED)
}

func (s *WorkingGroups) answer(ctx context.Context, tx *ent.Client, id pulid.ID, answer membership.Answer) (*ent.Membership, error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to answer an invitation")
	}
	m, err := tx.Membership.Get(ctx, id) // as the caller: what they cannot see is not found
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such membership")
	}
	if err != nil {
		return nil, fmt.Errorf("load membership %s: %w", id, err)
	}
	if string(m.UserID) != v.UserID {
		return nil, apperr.New(apperr.Forbidden, "only the invitee can answer an invitation")
	}
	g, err := s.lockGroup(ctx, tx, m.GroupID)
	if err != nil {
		return nil, fmt.Errorf("load working group %s: %w", m.GroupID, err)
	}
	if m, err = tx.Membership.Get(ctx, id); err != nil { // again, under the lock
		return nil, fmt.Errorf("load membership %s: %w", id, err)
	}
	today := s.today()
	var errs apperr.UserErrors
	switch {
	case m.Answer == membership.AnswerACCEPTED:
		errs.Add(apperr.CodeInvalidState, "You have already accepted this invitation.", check.Path("id")...)
	case m.Answer == membership.AnswerDECLINED:
		errs.Add(apperr.CodeInvalidState, "You have already declined this invitation.", check.Path("id")...)
	case today > m.TermEnd:
		errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This invitation was for a term that ended on %s.", m.TermEnd), check.Path("id")...)
	case answer == membership.AnswerACCEPTED && m.Role == membership.RoleCHAIR:
		if err := s.checkTerm(ctx, tx, &errs, m.GroupID, m.UserID, m.Role, m.TermStart, m.TermEnd, m.ID); err != nil {
			return nil, err
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	m, err = tx.Membership.UpdateOne(m).SetAnswer(answer).SetAnsweredAt(s.cfg.Now().UTC()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("answer membership %s: %w", id, err)
	}
	u, err := tx.User.Get(ctx, m.UserID) // the invitee, themself
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", m.UserID, err)
	}
	err = s.cfg.Notifier.MembershipAnswered(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, notify.MembershipAnsweredData{
		Name: u.Name, GroupName: g.Name, Role: RoleName(m.Role), TermStart: string(m.TermStart), TermEnd: string(m.TermEnd),
		Accepted: answer == membership.AnswerACCEPTED,
	}, "membership_answered:"+string(m.ID))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// EndInput ends a membership early.
type EndInput struct {
	ID pulid.ID
	// LastDay is the membership's last day: from today (or the term's start, if later)
	// to the term's end.
	LastDay vocab.Date
	Reason  string
}

// End ends an accepted membership early, with a reason, and tells the member. Staff only.
// User errors: NOT_FOUND for an unknown id; INVALID_STATE for a membership that is not
// accepted, already ended early, or over; REQUIRED or TOO_LONG for the reason (1–500
// characters); INVALID for a last day outside [max(term start, today), term end].
func (s *WorkingGroups) End(ctx context.Context, tx *ent.Client, in EndInput) (*ent.Membership, error) {
	if err := access.Require(ctx, access.CanManageWorkingGroups, "manage working groups"); err != nil {
		return nil, err
	}
	m, err := tx.Membership.Query().Where(membership.ID(in.ID)).WithGroup().WithUser().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such membership.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load membership %s: %w", in.ID, err)
	}
	today := s.today()
	var errs apperr.UserErrors
	reason := check.RequiredText(&errs, in.Reason, maxEndReasonLen, "The reason", "Say why the membership ends early.", check.Path("reason"))
	switch {
	case m.Answer != membership.AnswerACCEPTED:
		errs.Add(apperr.CodeInvalidState, "Only an accepted membership can be ended; the invitation has not been accepted.", check.Path("id")...)
	case m.EndedOn != nil:
		errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This membership was already ended; its last day is %s.", *m.EndedOn), check.Path("id")...)
	case today > m.TermEnd:
		errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This membership's term ended on %s.", m.TermEnd), check.Path("id")...)
	default:
		first := m.TermStart
		if today > first {
			first = today
		}
		if in.LastDay.Validate() != nil || in.LastDay < first || in.LastDay > m.TermEnd {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The last day must be from %s to %s.", first, m.TermEnd), check.Path("lastDay")...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	g, u := m.Edges.Group, m.Edges.User
	m, err = tx.Membership.UpdateOne(m).SetEndedOn(in.LastDay).SetEndReason(reason).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("end membership %s: %w", in.ID, err)
	}
	err = s.cfg.Notifier.MembershipEnded(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name, Suppressed: u.Disabled}, notify.MembershipEndedData{
		Name: u.Name, GroupName: g.Name, Role: RoleName(m.Role), LastDay: string(in.LastDay), Reason: reason,
	}, "membership_ended:"+string(m.ID))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// parseIntent splits "<action>:<membership id>".
func parseIntent(intent string) (action string, id pulid.ID, ok bool) {
	action, rest, ok := strings.Cut(intent, ":")
	if !ok || (action != IntentAccept && action != IntentDecline) || !strings.HasPrefix(rest, "mbr_") {
		return "", "", false
	}
	return action, pulid.ID(rest), true
}

// RunIntent answers the invitation named by a sign-in link's intent, as u who has just
// signed in (auth.IntentHandler). An intent that cannot be carried out (someone else's,
// already answered, the term over, the chair taken) does not fail the sign-in: the message
// says what happened. Only internal errors are returned.
func (s *WorkingGroups) RunIntent(ctx context.Context, tx *ent.Client, u *ent.User, intent string) (string, error) {
	action, id, ok := parseIntent(intent)
	if !ok {
		return "You are signed in. The link's action is not one we know, so nothing else was done.", nil
	}
	answer := s.Accept
	if action == IntentDecline {
		answer = s.Decline
	}
	m, err := answer(ctx, tx, id)
	if err != nil {
		if ue, ok := apperr.AsUserErrors(err); ok {
			return "You are signed in. " + ue[0].Message, nil
		}
		switch apperr.KindOf(err) {
		case apperr.NotFound, apperr.Forbidden:
			return "You are signed in. This invitation is not for your account, so it was not answered.", nil
		}
		return "", err
	}
	g, err := tx.WorkingGroup.Get(ctx, m.GroupID) // theirs now: a member sees their group
	if err != nil {
		return "", fmt.Errorf("load working group %s: %w", m.GroupID, err)
	}
	if action == IntentDecline {
		return fmt.Sprintf("You declined the invitation to the %s.", g.Name), nil
	}
	return fmt.Sprintf("You accepted the invitation to the %s as %s, from %s to %s.", g.Name, RoleName(m.Role), m.TermStart, m.TermEnd), nil
}

// DescribeIntent says what signing in with an invitation link will do, for the sign-in
// page; "" for an intent it does not know or a membership that is gone or answered. ctx
// is auth's sign-in viewer (see auth.IntentHandler): it reads the membership the link is
// for, and only its group, role and term reach the page.
func (s *WorkingGroups) DescribeIntent(ctx context.Context, intent string) string {
	action, id, ok := parseIntent(intent)
	if !ok {
		return ""
	}
	m, err := s.cfg.Client.Membership.Query().Where(membership.ID(id)).WithGroup().Only(ctx)
	if err != nil {
		if !ent.IsNotFound(err) {
			s.log.WarnContext(ctx, "describe intent", "err", err)
		}
		return ""
	}
	if m.Answer != membership.AnswerPENDING {
		return ""
	}
	verb := "accept"
	if action == IntentDecline {
		verb = "decline"
	}
	return fmt.Sprintf("Sign in and %s the invitation to the %s (%s, %s to %s).", verb, m.Edges.Group.Name, RoleName(m.Role), m.TermStart, m.TermEnd)
}
