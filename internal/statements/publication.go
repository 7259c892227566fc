package statements

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/statementsignoff"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// StatementsList is the slug of the mailing list every publication is announced to,
// created (PUBLIC) the first time a statement is published.
const StatementsList = "statements"

// JobName is the jobs runner's name of the publication job; ReviewJobName the review
// reminders'.
const (
	JobName       = "statements.publish"
	ReviewJobName = "statements.review_reminders"
)

// declarations returns what the public will read of the authors' declarations, and
// whether an author has no current one (none, or past its renewal day, or superseded).
func (s *Service) declarations(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement) ([]vocab.FrozenDeclaration, bool, error) {
	facts := viewer.ForFacts(ctx)
	authors, err := st.QueryAuthors().Order(user.ByName(), user.ByID()).All(facts)
	if err != nil {
		return nil, false, fmt.Errorf("read authors: %w", err)
	}
	if len(authors) == 0 {
		return nil, true, nil
	}
	uids := make([]pulid.ID, len(authors))
	for i, a := range authors {
		uids[i] = a.ID
	}
	latest, err := groups.LatestDeclarations(facts, tx, uids)
	if err != nil {
		return nil, false, err
	}
	today := vocab.Today(s.now())
	missing := false
	out := make([]vocab.FrozenDeclaration, 0, len(authors))
	for i, a := range authors {
		d := latest[i]
		if d == nil || today > groups.RenewBy(d.DeclaredOn) {
			missing = true
			continue
		}
		out = append(out, vocab.FrozenDeclaration{Person: a.Name, Statement: declarationText(d), DeclaredOn: d.DeclaredOn, DeclarationID: string(d.ID)})
	}
	return out, missing, nil
}

// declarationText writes a declaration in words, as the public page shows it.
func declarationText(d *ent.ConflictOfInterestDeclaration) string {
	if d.NothingToDeclare || len(d.Interests) == 0 {
		return "Nothing to declare."
	}
	lines := make([]string, 0, len(d.Interests))
	for _, in := range d.Interests {
		kind := strings.ToLower(strings.ReplaceAll(string(in.Kind), "_", " "))
		line := fmt.Sprintf("%s: %s", in.Organisation, kind)
		if in.Description != "" {
			line += " (" + in.Description + ")"
		}
		period := "since " + string(in.From)
		if in.To != nil {
			period = string(in.From) + " to " + string(*in.To)
		}
		lines = append(lines, line+", "+period+".")
	}
	return strings.Join(lines, "\n")
}

// signers returns the co-authors (latest approval of each on rev) and endorsers
// (endorsements of rev) as the public will read them.
func (s *Service) signers(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement, rev pulid.ID) ([]vocab.FrozenSigner, error) {
	facts := viewer.ForFacts(ctx)
	sos, err := tx.StatementSignoff.Query().
		Where(statementsignoff.RevisionID(rev), statementsignoff.VoidedAtIsNil(),
			statementsignoff.DecisionIn(statementsignoff.DecisionAPPROVE, statementsignoff.DecisionENDORSE)).
		WithUser().WithOrganisation().
		Order(ent.Asc(statementsignoff.FieldSignedAt), ent.Asc(statementsignoff.FieldID)).All(facts)
	if err != nil {
		return nil, fmt.Errorf("read sign-offs: %w", err)
	}
	byOrg := map[pulid.ID]*vocab.FrozenSigner{}
	var order []pulid.ID
	for _, so := range sos {
		sg := byOrg[so.OrganisationID]
		if sg == nil {
			role := "CO_AUTHOR"
			if so.Decision == statementsignoff.DecisionENDORSE {
				role = "ENDORSER"
			}
			sg = &vocab.FrozenSigner{Organisation: so.Edges.Organisation.Name, Country: so.Edges.Organisation.Country, Role: role}
			byOrg[so.OrganisationID] = sg
			order = append(order, so.OrganisationID)
		}
		if so.SignedAt.After(sg.SignedAt) {
			sg.SignedAt = so.SignedAt.UTC()
		}
		if !slices.Contains(sg.People, so.Edges.User.Name) {
			sg.People = append(sg.People, so.Edges.User.Name)
		}
	}
	out := make([]vocab.FrozenSigner, 0, len(order))
	for _, o := range order {
		out = append(out, *byOrg[o])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Organisation < out[j].Organisation })
	return out, nil
}

// announce writes the announcement campaign of rev (a publication, or a material
// correction) to the statements list and, when asked, the authoring working group, and
// starts it, in the caller's transaction.
func (s *Service) announce(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement, rev *ent.StatementRevision, correction bool) error {
	if s.cfg.Campaigns == nil || s.cfg.Lists == nil {
		return nil
	}
	list, err := s.cfg.Lists.EnsureList(ctx, tx, StatementsList, "Policy statements",
		"An email when the coalition publishes a policy statement, or corrects one materially.")
	if err != nil {
		return err
	}
	var groupIDs []pulid.ID
	if st.AnnounceToGroup && st.WorkingGroupID != nil {
		groupIDs = append(groupIDs, *st.WorkingGroupID)
	}
	link := s.cfg.PublicURL + "/statements/" + st.Slug
	subject := "Policy statement: " + rev.Title
	lead := "The coalition has published a policy statement."
	if correction {
		subject = "Correction to policy statement: " + rev.Title
		lead = fmt.Sprintf("The coalition has corrected a policy statement (version %d). What changed: %s", *rev.Version, rev.CorrectionNote)
	}
	body := fmt.Sprintf("%s\n\n## %s\n\n%s\n\n[Read the statement](%s)\n", lead, rev.Title, rev.Summary, link)
	by := st.CreatedByID
	if v := viewer.FromContext(ctx); v.Kind == viewer.User && v.UserID != "" {
		by = pulid.ID(v.UserID)
	}
	if len([]rune(subject)) > newsletter.MaxSubjectLen {
		subject = string([]rune(subject)[:newsletter.MaxSubjectLen-1]) + "…"
	}
	_, err = s.cfg.Campaigns.Announce(ctx, tx, newsletter.Announcement{
		Subject: subject, Body: body, ListIDs: []pulid.ID{list.ID}, GroupIDs: groupIDs, By: by,
	})
	if err != nil {
		return fmt.Errorf("announce statement %s: %w", st.ID, err)
	}
	return nil
}

// Run is the publication job: it publishes every scheduled statement whose embargo has
// come (each in its own transaction, by the conditional update of publish, so two
// processes never publish one twice); beyond the late delay it leaves it SCHEDULED, sets
// late_since once and tells staff. It returns how many it published.
func (s *Service) Run(ctx context.Context) (int, error) {
	ctx = viewer.NewSystemContext(ctx)
	due, err := s.cfg.Client.PolicyStatement.Query().
		Where(policystatement.StatusEQ(policystatement.StatusSCHEDULED), policystatement.ScheduledAtLTE(s.now()), policystatement.LateSinceIsNil()).
		Order(ent.Asc(policystatement.FieldScheduledAt)).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("find due statements: %w", err)
	}
	published := 0
	for _, st := range due {
		err := db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			_, err := s.publish(ctx, tx, st, EventRelease)
			if err == nil {
				published++
				return nil
			}
			if apperr.KindOf(err) == apperr.Conflict {
				return nil // another process published it
			}
			u, ok := apperr.AsUserErrors(err)
			if !ok {
				return err
			}
			n, uerr := tx.PolicyStatement.Update().
				Where(policystatement.ID(st.ID), policystatement.StatusEQ(policystatement.StatusSCHEDULED), policystatement.LateSinceIsNil()).
				SetLateSince(s.now()).Save(ctx)
			if uerr != nil || n == 0 {
				return uerr
			}
			s.log.WarnContext(ctx, "scheduled statement not published; waiting for staff", "statement", st.ID, "scheduled_at", st.ScheduledAt, "reason", u.Error())
			return s.tellStaffLate(ctx, tx, st)
		})
		if err != nil {
			return published, err
		}
	}
	return published, nil
}

// RemindReviews emails staff about every statement whose review-by date has come, once
// per date (dedupe key statement_review_due:<statement>:<date>:<staff>; review_reminded_at).
func (s *Service) RemindReviews(ctx context.Context) (int, error) {
	ctx = viewer.NewSystemContext(ctx)
	now := s.now()
	due, err := s.cfg.Client.PolicyStatement.Query().
		Where(policystatement.ReviewByLTE(now), policystatement.ReviewRemindedAtIsNil()).All(ctx)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	staff, err := s.cfg.Client.User.Query().Where(user.Disabled(false)).Order(user.ByID()).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("find staff: %w", err)
	}
	n := 0
	for _, st := range due {
		err := db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			day := vocab.Today(*st.ReviewBy)
			for _, u := range staff {
				if !slices.Contains(u.Roles, viewer.RoleStaff) || s.cfg.Notifier == nil {
					continue
				}
				if err := s.cfg.Notifier.StatementReviewDue(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, notify.StatementReviewDueData{
					Name: u.Name, Title: st.Title, ReviewBy: string(day), ID: string(st.ID),
				}, fmt.Sprintf("statement_review_due:%s:%s:%s", st.ID, day, u.ID)); err != nil {
					return err
				}
			}
			return tx.PolicyStatement.UpdateOneID(st.ID).SetReviewRemindedAt(now).Exec(ctx)
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Diff returns the unified diff (go-difflib) of the texts of two revisions of one
// statement, from a to b, as the viewer may read them (NOT_FOUND otherwise).
func (s *Service) Diff(ctx context.Context, client *ent.Client, a, b pulid.ID) (string, error) {
	ra, err := s.revision(ctx, client, a)
	if err != nil {
		return "", err
	}
	rb, err := s.revision(ctx, client, b)
	if err != nil {
		return "", err
	}
	if ra.StatementID != rb.StatementID {
		return "", apperr.Invalid(apperr.CodeInvalid, "Both revisions must belong to the same statement.", "to")
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(canonical(ra)), B: difflib.SplitLines(canonical(rb)),
		FromFile: fmt.Sprintf("revision %d", ra.Number), ToFile: fmt.Sprintf("revision %d", rb.Number),
		Context: 3,
	})
}

func canonical(r *ent.StatementRevision) string {
	return "# " + r.Title + "\n\n" + r.Summary + "\n\n" + r.Body + "\n"
}

// tellStaffLate emails every member of staff once that st missed its embargo.
func (s *Service) tellStaffLate(ctx context.Context, tx *ent.Client, st *ent.PolicyStatement) error {
	if s.cfg.Notifier == nil {
		return nil
	}
	staff, err := tx.User.Query().Where(user.Disabled(false)).Order(user.ByID()).All(ctx)
	if err != nil {
		return fmt.Errorf("find staff: %w", err)
	}
	scheduled := ""
	if st.ScheduledAt != nil {
		scheduled = st.ScheduledAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	for _, u := range staff {
		if !slices.Contains(u.Roles, viewer.RoleStaff) {
			continue
		}
		if err := s.cfg.Notifier.StatementLate(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, notify.StatementLateData{
			Name: u.Name, Title: st.Title, Scheduled: scheduled, LateAfter: s.cfg.LateAfter.String(), ID: string(st.ID),
		}, fmt.Sprintf("statement_late:%s:%s:%s", st.ID, scheduled, u.ID)); err != nil {
			return err
		}
	}
	return nil
}
