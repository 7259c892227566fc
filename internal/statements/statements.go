package statements

import (
	"context"

	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/affiliation"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/statementrevision"
	"github.com/gocart-coalition/coalition/ent/statementsignatory"
	"github.com/gocart-coalition/coalition/ent/statementsignoff"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/markdown"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of a statement.
const (
	MaxTitleLen   = 200
	MaxSummaryLen = 1000
	MaxBodyLen    = markdown.MaxLen
	MaxSlugLen    = 120
	MaxTopics     = 10
	MaxTopicLen   = 40
	MaxPeople     = 50
	MaxNoteLen    = 2000
)

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	topicRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Text is a revision's text.
type Text struct {
	Title, Summary, Body string
}

// Hash is the SHA-256 (hex) of the canonical form of t: each part with Windows line
// breaks made plain and surrounding space trimmed (what the service stores), prefixed by
// its length in bytes, so no two different texts share a form.
func Hash(t Text) string {
	h := sha256.New()
	for _, part := range []string{t.Title, t.Summary, t.Body} {
		part = strings.TrimSpace(strings.ReplaceAll(part, "\r\n", "\n"))
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// OpenInput is what staff give to open a statement.
type OpenInput struct {
	Slug string
	Text
	Topics                    []string
	AuthorIDs                 []pulid.ID
	CoAuthorIDs, EndorserIDs  []pulid.ID
	WorkingGroupID            *pulid.ID
	AnnounceToGroup           bool
	ReviewBy, SignoffDeadline *time.Time
}

// Open opens a DRAFT statement with its first revision. Staff only. User errors: INVALID,
// TOO_LONG, REQUIRED on the fields; TAKEN for a slug any statement ever had; NOT_FOUND for
// unknown people, organisations or working group.
func (s *Service) Open(ctx context.Context, tx *ent.Client, in OpenInput) (*ent.PolicyStatement, error) {
	if err := access.Require(ctx, access.CanManageStatements, "open policy statements"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	slug := strings.TrimSpace(in.Slug)
	switch {
	case slug == "":
		errs.Add(apperr.CodeRequired, "Give the statement its address (slug), e.g. soho-regulation-2027.", check.Path("slug")...)
	case len(slug) > MaxSlugLen:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("The slug can be at most %d characters.", MaxSlugLen), check.Path("slug")...)
	case !slugRE.MatchString(slug):
		errs.Add(apperr.CodeInvalid, "The slug is lower-case letters, digits and single hyphens, e.g. soho-regulation-2027.", check.Path("slug")...)
	default:
		taken, err := tx.PolicyStatement.Query().Where(policystatement.Slug(slug)).Exist(viewer.ForFacts(ctx))
		if err != nil {
			return nil, fmt.Errorf("check slug: %w", err)
		}
		if taken {
			errs.Add(apperr.CodeTaken, "Another statement has (or had) this address; addresses are never reused. Choose another slug.", check.Path("slug")...)
		}
	}
	text := checkText(&errs, in.Text)
	topics := checkTopics(&errs, in.Topics)
	authors := s.checkUsers(ctx, tx, &errs, in.AuthorIDs, "authorIds", true)
	coauthors := s.checkOrganisations(ctx, tx, &errs, in.CoAuthorIDs, "coAuthorIds")
	endorsers := s.checkOrganisations(ctx, tx, &errs, in.EndorserIDs, "endorserIds")
	for _, o := range endorsers {
		if slices.Contains(coauthors, o) {
			errs.Add(apperr.CodeInvalid, "An organisation either co-authors or endorses a statement, not both.", check.Path("endorserIds")...)
			break
		}
	}
	if in.WorkingGroupID != nil {
		ok, err := tx.WorkingGroup.Query().Where(workinggroup.ID(*in.WorkingGroupID)).Exist(viewer.ForFacts(ctx))
		if err != nil {
			return nil, fmt.Errorf("check working group: %w", err)
		}
		if !ok {
			errs.Add(apperr.CodeNotFound, "No such working group.", check.Path("workingGroupId")...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	c := tx.PolicyStatement.Create().
		SetSlug(slug).SetTitle(text.Title).SetSummary(text.Summary).SetTopics(topics).
		SetCreatedByID(me).SetAnnounceToGroup(in.AnnounceToGroup).SetNillableWorkingGroupID(in.WorkingGroupID).
		AddAuthorIDs(authors...).AddCoauthorIDs(coauthors...).AddEndorserIDs(endorsers...).
		SetRevisionsCount(1)
	if in.ReviewBy != nil {
		c.SetReviewBy(in.ReviewBy.UTC())
	}
	if in.SignoffDeadline != nil {
		c.SetSignoffDeadline(in.SignoffDeadline.UTC())
	}
	st, err := c.Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "another statement took this slug meanwhile; choose another", "open statement")
	}
	rev, err := s.writeRevision(ctx, tx, st.ID, 1, text, me)
	if err != nil {
		return nil, err
	}
	return tx.PolicyStatement.UpdateOneID(st.ID).SetCurrentRevisionID(rev.ID).Save(ctx)
}

// SettingsInput changes what staff decide about a statement; nil fields stay as they are.
type SettingsInput struct {
	Topics                    *[]string
	AuthorIDs                 *[]pulid.ID
	ReviewBy, SignoffDeadline *time.Time
}

// UpdateSettings changes a statement's topics, authors, review-by date and sign-off
// deadline. Staff only. User errors: NOT_FOUND, the field errors of Open.
func (s *Service) UpdateSettings(ctx context.Context, tx *ent.Client, id pulid.ID, in SettingsInput) (*ent.PolicyStatement, error) {
	st, err := s.staffStatement(ctx, tx, id, "change policy statements")
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	u := tx.PolicyStatement.UpdateOne(st)
	if in.Topics != nil {
		u.SetTopics(checkTopics(&errs, *in.Topics))
	}
	if in.AuthorIDs != nil {
		u.ClearAuthors().AddAuthorIDs(s.checkUsers(ctx, tx, &errs, *in.AuthorIDs, "authorIds", true)...)
	}
	if in.ReviewBy != nil {
		u.SetReviewBy(in.ReviewBy.UTC()).ClearReviewRemindedAt()
	}
	if in.SignoffDeadline != nil {
		u.SetSignoffDeadline(in.SignoffDeadline.UTC())
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return u.Save(ctx)
}

// DesignateSignatory names person as a signatory of the statement for org, one of its
// co-authoring (signs off) or endorsing (endorses) organisations. Staff only. User
// errors: NOT_FOUND; INVALID when org neither co-authors nor endorses it, or when the
// person is not affiliated with org; INVALID_STATE once published.
func (s *Service) DesignateSignatory(ctx context.Context, tx *ent.Client, id, org, person pulid.ID) (*ent.StatementSignatory, error) {
	st, err := s.staffStatement(ctx, tx, id, "designate signatories")
	if err != nil {
		return nil, err
	}
	if Published(st.Status) {
		return nil, apperr.Invalid(apperr.CodeInvalidState, "This statement is published; its signatories are final.", "input", "id")
	}
	facts := viewer.ForFacts(ctx)
	role := statementsignatory.RoleCO_AUTHOR
	co, err := st.QueryCoauthors().Where(organisation.ID(org)).Exist(facts)
	if err != nil {
		return nil, fmt.Errorf("read co-authors: %w", err)
	}
	if !co {
		en, err := st.QueryEndorsers().Where(organisation.ID(org)).Exist(facts)
		if err != nil {
			return nil, fmt.Errorf("read endorsers: %w", err)
		}
		if !en {
			return nil, apperr.Invalid(apperr.CodeInvalid, "This organisation neither co-authors nor endorses the statement.", "input", "organisationId")
		}
		role = statementsignatory.RoleENDORSER
	}
	aff, err := tx.Affiliation.Query().Where(affiliation.UserID(person), affiliation.OrganisationID(org)).Exist(facts)
	if err != nil {
		return nil, fmt.Errorf("read affiliation: %w", err)
	}
	if !aff {
		return nil, apperr.Invalid(apperr.CodeInvalid, "Only a person affiliated with the organisation can sign for it: add the affiliation first.", "input", "userId")
	}
	existing, err := tx.StatementSignatory.Query().Where(statementsignatory.StatementID(id), statementsignatory.OrganisationID(org), statementsignatory.UserID(person)).Only(facts)
	if err == nil {
		return existing, nil
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("read signatory: %w", err)
	}
	sg, err := tx.StatementSignatory.Create().SetStatementID(id).SetOrganisationID(org).SetUserID(person).SetRole(role).Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "this person was designated meanwhile", "designate signatory")
	}
	return sg, nil
}

// EditInput is an edit: the revision it is based on and the new text.
type EditInput struct {
	StatementID, BaseRevisionID pulid.ID
	Text
}

// Edit writes a new revision of a statement that is not published, based on its current
// revision: an author or staff (FORBIDDEN otherwise). An edit based on an older revision
// (someone else edited meanwhile) is refused with CONFLICT, and changes nothing. The edit
// voids every sign-off given on earlier revisions and emails their signatories; an
// approved or scheduled statement is in review again. User errors: NOT_FOUND; the field
// errors of Open; INVALID_STATE once published.
func (s *Service) Edit(ctx context.Context, tx *ent.Client, in EditInput) (*ent.PolicyStatement, error) {
	if err := access.RequireSignedIn(ctx, "edit policy statements"); err != nil {
		return nil, err
	}
	st, err := s.visibleStatement(ctx, tx, in.StatementID)
	if err != nil {
		return nil, err
	}
	authors, err := st.QueryAuthors().IDs(viewer.ForFacts(ctx))
	if err != nil {
		return nil, fmt.Errorf("read authors: %w", err)
	}
	if err := access.RequireThat(ctx, access.CanEditStatement(viewer.FromContext(ctx), ids(authors)), "edit policy statements", "its authors and coalition staff can edit a statement"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	text := checkText(&errs, in.Text)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	next, err := Next(st.Status, EventEdit, Facts{})
	if err != nil {
		return nil, apperr.OnField(err, "input", "id")
	}
	if st.CurrentRevisionID == nil || *st.CurrentRevisionID != in.BaseRevisionID {
		return nil, apperr.New(apperr.Conflict, "the statement was edited since the revision this edit is based on; read the current revision and edit that")
	}
	cur, err := tx.StatementRevision.Get(viewer.ForFacts(ctx), in.BaseRevisionID)
	if err != nil {
		return nil, fmt.Errorf("read revision: %w", err)
	}
	if Hash(text) == cur.Hash {
		return st, nil
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	number := st.RevisionsCount + 1
	rev, err := s.writeRevision(ctx, tx, st.ID, number, text, me)
	if err != nil {
		if apperr.KindOf(err) == apperr.Conflict {
			return nil, apperr.New(apperr.Conflict, "the statement was edited since the revision this edit is based on; read the current revision and edit that")
		}
		return nil, err
	}
	u := tx.PolicyStatement.Update().
		Where(policystatement.ID(st.ID), policystatement.CurrentRevisionID(in.BaseRevisionID), policystatement.StatusEQ(st.Status)).
		SetCurrentRevisionID(rev.ID).SetRevisionsCount(number).SetTitle(text.Title).SetSummary(text.Summary).SetStatus(next)
	if next != st.Status {
		u.ClearScheduledAt().ClearLateSince()
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("edit statement %s: %w", st.ID, err)
	}
	if n == 0 {
		return nil, apperr.New(apperr.Conflict, "the statement was edited since the revision this edit is based on; read the current revision and edit that")
	}
	if err := s.voidSignoffs(ctx, tx, st, rev); err != nil {
		return nil, err
	}
	return tx.PolicyStatement.Get(ctx, st.ID)
}

// voidSignoffs voids every sign-off of st given on a revision before rev and emails
// their signatories (once per person and organisation).
func (s *Service) voidSignoffs(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement, rev *ent.StatementRevision) error {
	facts := viewer.ForFacts(ctx)
	old, err := tx.StatementSignoff.Query().
		Where(statementsignoff.StatementID(st.ID), statementsignoff.VoidedAtIsNil(), statementsignoff.RevisionIDNEQ(rev.ID)).
		WithUser().WithOrganisation().WithRevision().All(facts)
	if err != nil {
		return fmt.Errorf("read sign-offs: %w", err)
	}
	if len(old) == 0 {
		return nil
	}
	if _, err := tx.StatementSignoff.Update().
		Where(statementsignoff.StatementID(st.ID), statementsignoff.VoidedAtIsNil(), statementsignoff.RevisionIDNEQ(rev.ID)).
		SetVoidedAt(s.now()).Save(ctx); err != nil {
		return fmt.Errorf("void sign-offs: %w", err)
	}
	if s.cfg.Notifier == nil {
		return nil
	}
	told := map[string]bool{}
	for _, so := range old {
		k := string(so.UserID) + "/" + string(so.OrganisationID)
		if told[k] {
			continue
		}
		told[k] = true
		u, o := so.Edges.User, so.Edges.Organisation
		err := s.cfg.Notifier.SignoffsVoided(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name, Suppressed: u.Disabled}, notify.SignoffsVoidedData{
			Name: u.Name, Title: rev.Title, Organisation: o.Name, Voided: so.Edges.Revision.Number, Revision: rev.Number,
			Hash: rev.Hash, ID: string(st.ID),
		}, fmt.Sprintf("statement_signoffs_voided:%s:%s:%s", rev.ID, u.ID, o.ID))
		if err != nil {
			return err
		}
	}
	return nil
}

// Submit sends a draft for review: staff, once every co-authoring organisation has a
// designated signatory. User errors: NOT_FOUND; INVALID_STATE; REQUIRED.
func (s *Service) Submit(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.PolicyStatement, error) {
	st, err := s.staffStatement(ctx, tx, id, "send policy statements for review")
	if err != nil {
		return nil, err
	}
	missing, err := s.coauthorsWithoutSignatory(ctx, tx, st)
	if err != nil {
		return nil, err
	}
	return s.step(ctx, tx, st, EventSubmit, Facts{NoSignatories: missing}, nil)
}

func (s *Service) coauthorsWithoutSignatory(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement) (bool, error) {
	facts := viewer.ForFacts(ctx)
	orgs, err := st.QueryCoauthors().IDs(facts)
	if err != nil {
		return false, fmt.Errorf("read co-authors: %w", err)
	}
	if len(orgs) == 0 {
		return true, nil
	}
	n, err := tx.StatementSignatory.Query().Where(statementsignatory.StatementID(st.ID), statementsignatory.RoleEQ(statementsignatory.RoleCO_AUTHOR), statementsignatory.OrganisationIDIn(orgs...)).
		GroupBy(statementsignatory.FieldOrganisationID).Strings(facts)
	if err != nil {
		return false, fmt.Errorf("read signatories: %w", err)
	}
	return len(n) < len(orgs), nil
}

// Decision is a signatory's decision on a revision.
type Decision string

// Decisions.
const (
	Approve        Decision = "APPROVE"
	RequestChanges Decision = "REQUEST_CHANGES"
)

// SignInput is a sign-off: for an organisation, on a revision named by its id and hash.
type SignInput struct {
	StatementID, OrganisationID, RevisionID pulid.ID
	// Hash, when not empty, must be the revision's hash (what the signatory read).
	Hash     string
	Decision Decision
	Comment  string
}

// Sign records the viewer's decision for an organisation on the statement's current
// revision: only a designated co-author signatory of that organisation (FORBIDDEN
// otherwise). When every co-author has approved the current revision, the statement is
// APPROVED. User errors: NOT_FOUND; INVALID_STATE for a revision that is not the current
// one (stale: the text changed) or a hash that does not match it, or when the statement is
// not in review; EXPIRED after the deadline.
func (s *Service) Sign(ctx context.Context, tx *ent.Client, in SignInput) (*ent.PolicyStatement, error) {
	if in.Decision != Approve && in.Decision != RequestChanges {
		return nil, apperr.Invalid(apperr.CodeInvalid, "Decide APPROVE or REQUEST_CHANGES.", "input", "decision")
	}
	return s.signoff(ctx, tx, in, statementsignatory.RoleCO_AUTHOR)
}

// Endorse records the viewer's endorsement for an endorsing organisation of the final
// (current) revision of an approved or scheduled statement: only a designated endorser
// signatory of that organisation. User errors as Sign.
func (s *Service) Endorse(ctx context.Context, tx *ent.Client, in SignInput) (*ent.PolicyStatement, error) {
	in.Decision = "ENDORSE"
	return s.signoff(ctx, tx, in, statementsignatory.RoleENDORSER)
}

func (s *Service) signoff(ctx context.Context, tx *ent.Client, in SignInput, role statementsignatory.Role) (*ent.PolicyStatement, error) {
	if err := access.RequireSignedIn(ctx, "sign policy statements"); err != nil {
		return nil, err
	}
	st, err := s.visibleStatement(ctx, tx, in.StatementID)
	if err != nil {
		return nil, err
	}
	facts := viewer.ForFacts(ctx)
	signers, err := tx.StatementSignatory.Query().
		Where(statementsignatory.StatementID(st.ID), statementsignatory.OrganisationID(in.OrganisationID), statementsignatory.RoleEQ(role)).
		Select(statementsignatory.FieldUserID).Strings(facts)
	if err != nil {
		return nil, fmt.Errorf("read signatories: %w", err)
	}
	v := viewer.FromContext(ctx)
	if err := access.RequireThat(ctx, access.CanSignStatement(v, signers), "sign policy statements", "a designated signatory of the organisation can sign for it"); err != nil {
		return nil, err
	}
	comment := check.Text(new(apperr.UserErrors), in.Comment, MaxNoteLen, "The comment", check.Path("comment"))
	if len([]rune(comment)) > MaxNoteLen {
		return nil, apperr.Invalid(apperr.CodeTooLong, fmt.Sprintf("The comment can be at most %d characters.", MaxNoteLen), check.Path("comment")...)
	}
	if st.CurrentRevisionID == nil || *st.CurrentRevisionID != in.RevisionID {
		return nil, apperr.Invalid(apperr.CodeInvalidState, "This revision is not the statement's current text any more (it was edited): read the current revision and sign that.", "input", "revisionId")
	}
	rev, err := tx.StatementRevision.Get(facts, in.RevisionID)
	if err != nil {
		return nil, fmt.Errorf("read revision: %w", err)
	}
	if in.Hash != "" && in.Hash != rev.Hash {
		return nil, apperr.Invalid(apperr.CodeInvalidState, "The hash does not match this revision: the text you read is not the text you would sign.", "input", "hash")
	}
	ev := EventSign
	if role == statementsignatory.RoleENDORSER {
		ev = EventEndorse
	}
	f := Facts{Now: s.now()}
	if st.SignoffDeadline != nil && ev == EventSign {
		f.Deadline = *st.SignoffDeadline
	}
	if ev == EventSign && in.Decision == Approve {
		if f.AllApproved, err = s.allApproved(ctx, tx, st, rev.ID, in.OrganisationID); err != nil {
			return nil, err
		}
	}
	if _, err := Next(st.Status, ev, f); err != nil {
		return nil, apperr.OnField(err, "input", "id")
	}
	if _, err := tx.StatementSignoff.Create().
		SetStatementID(st.ID).SetRevisionID(rev.ID).SetRevisionHash(rev.Hash).
		SetOrganisationID(in.OrganisationID).SetUserID(pulid.ID(v.UserID)).
		SetDecision(statementsignoff.Decision(in.Decision)).SetComment(comment).SetSignedAt(s.now()).
		Save(ctx); err != nil {
		return nil, fmt.Errorf("record sign-off: %w", err)
	}
	// The step is conditional on the revision too: an edit racing this sign-off makes it
	// a lost race, so nobody approves a text that changed under them.
	return s.step(ctx, tx, st, ev, f, func(u *ent.PolicyStatementUpdate) {
		u.Where(policystatement.CurrentRevisionID(rev.ID))
	})
}

// allApproved says whether every co-authoring organisation's latest decision on rev is
// APPROVE, counting org as approving now.
func (s *Service) allApproved(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement, rev, org pulid.ID) (bool, error) {
	facts := viewer.ForFacts(ctx)
	orgs, err := st.QueryCoauthors().IDs(facts)
	if err != nil {
		return false, fmt.Errorf("read co-authors: %w", err)
	}
	sos, err := tx.StatementSignoff.Query().
		Where(statementsignoff.RevisionID(rev), statementsignoff.VoidedAtIsNil(), statementsignoff.DecisionNEQ(statementsignoff.DecisionENDORSE)).
		Order(ent.Asc(statementsignoff.FieldSignedAt), ent.Asc(statementsignoff.FieldID)).All(facts)
	if err != nil {
		return false, fmt.Errorf("read sign-offs: %w", err)
	}
	latest := map[pulid.ID]statementsignoff.Decision{org: statementsignoff.DecisionAPPROVE}
	for _, so := range sos {
		if so.OrganisationID != org {
			latest[so.OrganisationID] = so.Decision
		}
	}
	for _, o := range orgs {
		if latest[o] != statementsignoff.DecisionAPPROVE {
			return false, nil
		}
	}
	return true, nil
}

// Schedule sets (or moves) the embargo of an approved statement to at, a time to come.
// Staff only. User errors: NOT_FOUND; INVALID_STATE; INVALID for a time not in the future
// (on the field at); REQUIRED when an author has no current declaration.
func (s *Service) Schedule(ctx context.Context, tx *ent.Client, id pulid.ID, at time.Time) (*ent.PolicyStatement, error) {
	st, err := s.staffStatement(ctx, tx, id, "schedule policy statements")
	if err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond)
	_, missing, err := s.declarations(ctx, tx, st)
	if err != nil {
		return nil, err
	}
	f := Facts{Now: s.now(), At: at, MissingDeclarations: missing}
	if _, err := Next(st.Status, EventSchedule, f); err != nil {
		if u, ok := apperr.AsUserErrors(err); ok && len(u) == 1 && u[0].Code == apperr.CodeInvalid {
			return nil, apperr.OnField(err, "input", "at")
		}
		return nil, apperr.OnField(err, "input", "id")
	}
	return s.step(ctx, tx, st, EventSchedule, f, func(u *ent.PolicyStatementUpdate) {
		u.SetScheduledAt(at).ClearLateSince()
	})
}

// Unschedule takes a scheduled statement back to APPROVED. Staff only.
func (s *Service) Unschedule(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.PolicyStatement, error) {
	st, err := s.staffStatement(ctx, tx, id, "schedule policy statements")
	if err != nil {
		return nil, err
	}
	return s.step(ctx, tx, st, EventUnschedule, Facts{}, func(u *ent.PolicyStatementUpdate) {
		u.ClearScheduledAt().ClearLateSince()
	})
}

// PublishNow publishes an approved (or scheduled, also late) statement at once and
// announces it. Staff only. User errors: NOT_FOUND; INVALID_STATE; REQUIRED when an
// author has no current declaration.
func (s *Service) PublishNow(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.PolicyStatement, error) {
	st, err := s.staffStatement(ctx, tx, id, "publish policy statements")
	if err != nil {
		return nil, err
	}
	return s.publish(ctx, tx, st, EventPublish)
}

// publish decides ev (publish or release) and publishes st's current revision: the
// revision gets its version, the signers and the declarations it is published with; the
// statement moves by a conditional update on its status and revision (so two processes
// never both publish); the announcement campaign is written and started in the same
// transaction.
func (s *Service) publish(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement, ev Event) (*ent.PolicyStatement, error) {
	frozen, missing, err := s.declarations(ctx, tx, st)
	if err != nil {
		return nil, err
	}
	f := Facts{Now: s.now(), LateAfter: s.cfg.LateAfter, MissingDeclarations: missing}
	if st.ScheduledAt != nil {
		f.At = *st.ScheduledAt
	}
	if _, err := Next(st.Status, ev, f); err != nil {
		return nil, apperr.OnField(err, "input", "id")
	}
	if st.CurrentRevisionID == nil {
		return nil, fmt.Errorf("statement %s has no revision", st.ID)
	}
	rev := *st.CurrentRevisionID
	signers, err := s.signers(ctx, tx, st, rev)
	if err != nil {
		return nil, err
	}
	now := s.now()
	version := st.PublishedVersions + 1
	st, err = s.step(ctx, tx, st, ev, f, func(u *ent.PolicyStatementUpdate) {
		u.Where(policystatement.CurrentRevisionID(rev)).
			SetPublishedRevisionID(rev).SetPublishedAt(now).SetPublishedVersions(version).ClearLateSince()
		if st.FirstPublishedAt == nil {
			u.SetFirstPublishedAt(now)
		}
	})
	if err != nil {
		return nil, err
	}
	r, err := tx.StatementRevision.UpdateOneID(rev).SetVersion(version).SetPublishedAt(now).
		SetDeclarations(frozen).SetSigners(signers).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish revision %s: %w", rev, err)
	}
	if err := s.announce(ctx, tx, st, r, false); err != nil {
		return nil, err
	}
	return st, nil
}

// CorrectInput is a correction of a published statement.
type CorrectInput struct {
	StatementID, BaseRevisionID pulid.ID
	Text
	Note     string
	Material bool
}

// Correct publishes a corrected revision of a published statement with a note of what
// changed; a material correction is announced like a publication. The signers and
// declarations shown are those of the version corrected. Staff only. User errors:
// NOT_FOUND; INVALID_STATE; REQUIRED for the note; CONFLICT for a stale base revision.
func (s *Service) Correct(ctx context.Context, tx *ent.Client, in CorrectInput) (*ent.PolicyStatement, error) {
	st, err := s.staffStatement(ctx, tx, in.StatementID, "correct policy statements")
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	text := checkText(&errs, in.Text)
	note := check.RequiredText(&errs, in.Note, MaxNoteLen, "The note", "Say what the correction changes: readers see this note.", check.Path("note"))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if _, err := Next(st.Status, EventCorrect, Facts{}); err != nil {
		return nil, apperr.OnField(err, "input", "id")
	}
	if st.CurrentRevisionID == nil || *st.CurrentRevisionID != in.BaseRevisionID {
		return nil, apperr.New(apperr.Conflict, "the statement was changed since the revision this correction is based on; read the current revision and correct that")
	}
	prev, err := tx.StatementRevision.Get(ctx, in.BaseRevisionID)
	if err != nil {
		return nil, fmt.Errorf("read revision: %w", err)
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	number := st.RevisionsCount + 1
	rev, err := s.writeRevision(ctx, tx, st.ID, number, text, me)
	if err != nil {
		return nil, err
	}
	now := s.now()
	version := st.PublishedVersions + 1
	st, err = s.step(ctx, tx, st, EventCorrect, Facts{}, func(u *ent.PolicyStatementUpdate) {
		u.Where(policystatement.CurrentRevisionID(in.BaseRevisionID)).
			SetCurrentRevisionID(rev.ID).SetRevisionsCount(number).SetTitle(text.Title).SetSummary(text.Summary).
			SetPublishedRevisionID(rev.ID).SetPublishedAt(now).SetPublishedVersions(version)
	})
	if err != nil {
		return nil, err
	}
	r, err := tx.StatementRevision.UpdateOneID(rev.ID).SetVersion(version).SetPublishedAt(now).
		SetCorrectionNote(note).SetMaterial(in.Material).
		SetDeclarations(prev.Declarations).SetSigners(prev.Signers).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish correction %s: %w", rev.ID, err)
	}
	if in.Material {
		if err := s.announce(ctx, tx, st, r, true); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Withdraw withdraws a published statement with a reason: it stays readable, marked.
// Staff only. User errors: NOT_FOUND; INVALID_STATE; REQUIRED for the reason.
func (s *Service) Withdraw(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.PolicyStatement, error) {
	st, err := s.staffStatement(ctx, tx, id, "withdraw policy statements")
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason = check.RequiredText(&errs, reason, MaxNoteLen, "The reason", "Say why the statement is withdrawn: readers see the reason.", check.Path("reason"))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.step(ctx, tx, st, EventWithdraw, Facts{}, func(u *ent.PolicyStatementUpdate) {
		u.SetWithdrawnAt(s.now()).SetWithdrawalReason(reason)
	})
}

// step decides ev for st with f and applies it with an update conditional on the status
// read, plus what set adds; a conditional update that changes nothing is a lost race
// (CONFLICT).
func (s *Service) step(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement, ev Event, f Facts, set func(*ent.PolicyStatementUpdate)) (*ent.PolicyStatement, error) {
	next, err := Next(st.Status, ev, f)
	if err != nil {
		return nil, apperr.OnField(err, "input", "id")
	}
	u := tx.PolicyStatement.Update().Where(policystatement.ID(st.ID), policystatement.StatusEQ(st.Status)).SetStatus(next)
	if set != nil {
		set(u)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s statement %s: %w", ev, st.ID, err)
	}
	if n == 0 {
		return nil, apperr.LostRace("statement")
	}
	return tx.PolicyStatement.Get(ctx, st.ID)
}

// staffStatement refuses anyone but staff, then loads the statement id (NOT_FOUND user
// error on input.id when there is none).
func (s *Service) staffStatement(ctx context.Context, tx *ent.Client, id pulid.ID, action string) (*ent.PolicyStatement, error) {
	if err := access.Require(ctx, access.CanManageStatements, action); err != nil {
		return nil, err
	}
	return s.visibleStatement(ctx, tx, id)
}

// visibleStatement loads id as the viewer sees it: a statement they may not see is
// NOT_FOUND, like one that does not exist.
func (s *Service) visibleStatement(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.PolicyStatement, error) {
	st, err := tx.PolicyStatement.Get(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such statement.", "input", "id")
	case err != nil:
		return nil, fmt.Errorf("load statement %s: %w", id, err)
	}
	return st, nil
}

// writeRevision writes revision number of statement with text (a revision with that
// number already written by a racing edit is a CONFLICT).
func (s *Service) writeRevision(ctx context.Context, tx *ent.Client, statement pulid.ID, number int, text Text, by pulid.ID) (*ent.StatementRevision, error) {
	rev, err := tx.StatementRevision.Create().
		SetStatementID(statement).SetNumber(number).
		SetTitle(text.Title).SetSummary(text.Summary).SetBody(text.Body).SetHash(Hash(text)).
		SetCreatedByID(by).SetEditedAt(s.now()).
		Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "the statement was edited meanwhile; read the current revision and edit that", "write revision")
	}
	return rev, nil
}

func checkText(errs *apperr.UserErrors, in Text) Text {
	t := Text{
		Title:   check.RequiredText(errs, in.Title, MaxTitleLen, "The title", "Give the statement a title.", check.Path("title")),
		Summary: check.Text(errs, in.Summary, MaxSummaryLen, "The summary", check.Path("summary")),
		Body:    check.RequiredText(errs, in.Body, MaxBodyLen, "The text", "Write the statement's text (Markdown).", check.Path("body")),
	}
	if check.HasControl(t.Title) {
		errs.Add(apperr.CodeInvalid, "The title is one line: remove line breaks and invisible characters.", check.Path("title")...)
	}
	return t
}

func checkTopics(errs *apperr.UserErrors, in []string) []string {
	out := []string{}
	if len(in) > MaxTopics {
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("A statement has at most %d topics.", MaxTopics), check.Path("topics")...)
		return out
	}
	for _, t := range in {
		t = strings.TrimSpace(t)
		if len(t) > MaxTopicLen || !topicRE.MatchString(t) {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("A topic is lower-case letters, digits and single hyphens, at most %d characters, e.g. hospital-exemption.", MaxTopicLen), check.Path("topics")...)
			return out
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) checkUsers(ctx context.Context, tx *ent.Client, errs *apperr.UserErrors, in []pulid.ID, field string, required bool) []pulid.ID {
	us := uniqueIDs(in)
	switch {
	case len(us) == 0 && required:
		errs.Add(apperr.CodeRequired, "Name at least one author.", check.Path(field)...)
	case len(us) > MaxPeople:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("At most %d people.", MaxPeople), check.Path(field)...)
	case len(us) > 0:
		n, err := tx.User.Query().Where(user.IDIn(us...)).Count(viewer.ForFacts(ctx))
		if err != nil || n != len(us) {
			errs.Add(apperr.CodeNotFound, "No such person.", check.Path(field)...)
		}
	}
	return us
}

func (s *Service) checkOrganisations(ctx context.Context, tx *ent.Client, errs *apperr.UserErrors, in []pulid.ID, field string) []pulid.ID {
	os := uniqueIDs(in)
	switch {
	case len(os) > MaxPeople:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("At most %d organisations.", MaxPeople), check.Path(field)...)
	case len(os) > 0:
		n, err := tx.Organisation.Query().Where(organisation.IDIn(os...)).Count(viewer.ForFacts(ctx))
		if err != nil || n != len(os) {
			errs.Add(apperr.CodeNotFound, "No such organisation.", check.Path(field)...)
		}
	}
	return os
}

func uniqueIDs(in []pulid.ID) []pulid.ID {
	out := make([]pulid.ID, 0, len(in))
	for _, id := range in {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func ids(in []pulid.ID) []string {
	out := make([]string, len(in))
	for i, id := range in {
		out[i] = string(id)
	}
	return out
}

// revisionOf is used by the diff and by the API: the revision id of statement as the
// viewer may read it.
func (s *Service) revision(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.StatementRevision, error) {
	r, err := client.StatementRevision.Query().Where(statementrevision.ID(id)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, apperr.New(apperr.NotFound, "no such revision")
	case err != nil:
		return nil, fmt.Errorf("read revision %s: %w", id, err)
	}
	return r, nil
}

// HasTopic is the predicate of the statements with topic (a JSON array of strings).
func HasTopic(topic string) predicate.PolicyStatement {
	return predicate.PolicyStatement(func(s *sql.Selector) {
		s.Where(sqljson.ValueContains(s.C(policystatement.FieldTopics), topic))
	})
}
