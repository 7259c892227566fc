package programme

import (
	"context"
	"fmt"
	"path"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/callreviewer"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/refereerequest"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/reviewassignment"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the programme's part in data-subject requests: the person's
// applications with their ranked choices, documents, referee requests and outcome (not
// the reviews of them: reviewers' scores and comments are the reviewers' notes), and, for
// a reviewer, their appointments, assignments and the reviews they wrote.
type PrivacyDomain struct{}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "programme" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string {
	return []string{"Application", "Document", "RefereeRequest", "Review", "CallReviewer", "ReviewAssignment"}
}

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Applications", Data: "role, experience, motivation, languages, availability, ranked host centres, documents (CV, letters), referee names and addresses, eligibility outcome",
			Purpose: "select trainees for observership placements", LegalBasis: "Art. 6(1)(b) contract (application to the programme)",
			Retention: "unsuccessful applications with their documents and referee letters deleted 12 months (COALITION_RETENTION_APPLICATIONS_MONTHS) after the call is completed or cancelled, the trainee warned a month before (job retention.applications); placed applications kept whole, referee letters included (the record of the selection); on erasure the applications stay only as anonymised rows (call, status, times: the call's counts and match runs need them; a draft is deleted, one submitted or eligible in a call not yet completed withdrawn), their documents, referee requests and the letters the person wrote as a referee are deleted, and the reasons of staff's match overrides of them (in the match runs too) replaced by \"[erased]\"", Recipients: "staff, the call's reviewers, the host centres the application lists"},
		{Name: "Reviews", Data: "scores, comments and conflicts of interest of a reviewer; their appointments and assignments",
			Purpose: "a fair and recorded selection", LegalBasis: "Art. 6(1)(f) legitimate interest (accountable selection)",
			Retention: "with the application reviewed; on erasure of the applicant or of the reviewer the scores stay (other applications' ranks rest on them) without comments or conflict reasons, and the reviewer's appointments and assignments are deleted; their name and address inside other reviews, applications' reasons, overrides' reasons, slots' notes and calls' descriptions are replaced by \"[erased]\"", Recipients: "staff and the call's other reviewers"},
	}
}

// ProgrammeExport is programme.json.
type ProgrammeExport struct {
	// Applications carry their choices, documents and referee requests as edges.
	Applications       []*ent.Application      `json:"applications"`
	ReviewsWritten     []*ent.Review           `json:"reviews_written"`
	ReviewAppointments []*ent.CallReviewer     `json:"review_appointments"`
	ReviewAssignments  []*ent.ReviewAssignment `json:"review_assignments"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	var out ProgrammeExport
	var err error
	if out.Applications, err = c.Application.Query().Where(application.TraineeID(p.ID)).
		WithChoices(func(q *ent.ApplicationChoiceQuery) { q.Order(ent.Asc(applicationchoice.FieldRank)) }).
		WithDocuments(func(q *ent.DocumentQuery) { q.Order(ent.Asc(document.FieldID)) }).
		WithRefereeRequests().
		Order(ent.Asc(application.FieldCreatedAt), ent.Asc(application.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("applications: %w", err)
	}
	var docs []privacy.Document
	for _, a := range out.Applications {
		var own []*ent.Document
		for _, d := range a.Edges.Documents {
			// A referee's letter is confidential to the selection: listed through its
			// request (received or not), never copied out.
			if d.RefereeRequestID == nil {
				own = append(own, d)
				docs = append(docs, privacy.Document{Path: path.Join(string(a.ID), string(d.ID)+"-"+path.Base(d.Filename)), SHA256: d.Sha256})
			}
		}
		a.Edges.Documents = own
	}
	if out.ReviewsWritten, err = c.Review.Query().Where(review.ReviewerID(p.ID)).
		Order(ent.Asc(review.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("reviews: %w", err)
	}
	if out.ReviewAppointments, err = c.CallReviewer.Query().Where(callreviewer.UserID(p.ID)).
		Order(ent.Asc(callreviewer.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("review appointments: %w", err)
	}
	if out.ReviewAssignments, err = c.ReviewAssignment.Query().Where(reviewassignment.ReviewerID(p.ID)).
		Order(ent.Asc(reviewassignment.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("review assignments: %w", err)
	}
	return privacy.Part{Data: out, Documents: docs}, nil
}

// Erase implements privacy.Domain. The applications stay as anonymised rows (call,
// status and times) because the call's counts, its match runs' frozen input and the
// placements refer to them: their personal fields are blanked (motivation, role, reason,
// home organisation, experience, languages, focus areas, availability, preferred length),
// an application submitted or eligible in a call not yet completed is withdrawn so that no match
// places the erased person, and a draft is deleted. Their documents and referee requests
// (the referees' names and addresses) are deleted, and so are the letters the person wrote
// as a referee of someone else. Reviews keep their scores (other applications' ranks rest
// on them) but lose their comments and conflict reasons, both the reviews of the person's
// applications and those the person wrote; the person's reviewer appointments and
// assignments are deleted. Documents are returned for deletion from the store unless
// another row still names the same file. The reasons of staff's match overrides of the
// person's applications become privacy.ErasedText, in the overrides and in the match
// runs' frozen copies; and the person's name and address inside text other people wrote
// (other overrides' reasons, other applications' status reasons, reviews, slots' notes
// and withdrawal reasons, calls' descriptions and reasons) are replaced by it: see
// redactOthers.
func (PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	var out privacy.Erased
	apps, err := c.Application.Query().Where(application.TraineeID(p.ID)).WithCall().All(ctx)
	if err != nil {
		return out, fmt.Errorf("applications: %w", err)
	}
	appIDs := make([]pulid.ID, len(apps))
	for i, a := range apps {
		appIDs[i] = a.ID
	}
	refs, err := c.RefereeRequest.Query().Where(refereerequest.Or(
		refereerequest.ApplicationIDIn(appIDs...), refereerequest.RefereeEmailEqualFold(p.Email))).IDs(ctx)
	if err != nil {
		return out, fmt.Errorf("referee requests: %w", err)
	}
	docs, err := c.Document.Query().Where(document.Or(document.ApplicationIDIn(appIDs...), document.RefereeRequestIDIn(refs...))).
		Order(ent.Asc(document.FieldID)).All(ctx)
	if err != nil {
		return out, fmt.Errorf("documents: %w", err)
	}
	docIDs := make([]pulid.ID, len(docs))
	for i, d := range docs {
		docIDs[i] = d.ID
	}
	n, err := c.Document.Delete().Where(document.IDIn(docIDs...)).Exec(ctx)
	if err != nil {
		return out, fmt.Errorf("delete documents: %w", err)
	}
	out.Rows += n
	if n, err = c.RefereeRequest.Delete().Where(refereerequest.IDIn(refs...)).Exec(ctx); err != nil {
		return out, fmt.Errorf("delete referee requests: %w", err)
	}
	out.Rows += n
	seen := map[string]bool{}
	for _, d := range docs {
		if seen[d.Sha256] {
			continue
		}
		seen[d.Sha256] = true
		shared, err := c.Document.Query().Where(document.Sha256(d.Sha256)).Exist(ctx)
		if err != nil {
			return out, fmt.Errorf("documents sharing a file: %w", err)
		}
		if !shared {
			out.Documents = append(out.Documents, privacy.Document{Path: path.Join(string(d.ApplicationID), string(d.ID)+"-"+path.Base(d.Filename)), SHA256: d.Sha256})
		}
	}
	if n, err = c.Review.Update().Where(review.Or(review.ApplicationIDIn(appIDs...), review.ReviewerID(p.ID))).
		SetComment("").SetConflictReason("").Save(ctx); err != nil {
		return out, fmt.Errorf("reviews: %w", err)
	}
	out.Rows += n
	if n, err = c.ReviewAssignment.Delete().Where(reviewassignment.ReviewerID(p.ID)).Exec(ctx); err != nil {
		return out, fmt.Errorf("review assignments: %w", err)
	}
	out.Rows += n
	if n, err = c.CallReviewer.Delete().Where(callreviewer.UserID(p.ID)).Exec(ctx); err != nil {
		return out, fmt.Errorf("review appointments: %w", err)
	}
	out.Rows += n
	now := clock.Now(ctx)
	for _, a := range apps {
		if a.Status == application.StatusDRAFT {
			if _, err := c.ApplicationChoice.Delete().Where(applicationchoice.ApplicationID(a.ID)).Exec(ctx); err != nil {
				return out, fmt.Errorf("choices of a draft: %w", err)
			}
			if err := c.Application.DeleteOneID(a.ID).Exec(ctx); err != nil {
				return out, fmt.Errorf("delete a draft: %w", err)
			}
			out.Rows++
			continue
		}
		u := c.Application.UpdateOneID(a.ID).
			SetMotivation("").SetRole("").SetStatusReason("").ClearHomeOrganisation().SetCartExperienceYears(0).
			SetLanguages([]string{}).SetFocusAreas([]vocab.FocusArea{}).SetAvailability([]vocab.DateRange{}).ClearPreferredWeeks()
		if inSelection(a) {
			u.SetStatus(application.StatusWITHDRAWN).SetWithdrawnAt(now)
		}
		if err := u.Exec(ctx); err != nil {
			return out, fmt.Errorf("anonymise an application: %w", err)
		}
		out.Rows++
	}
	values, err := privacy.PersonValues(ctx, c, p)
	if err != nil {
		return out, err
	}
	if n, err = redactOthers(ctx, c, values, appIDs); err != nil {
		return out, err
	}
	out.Rows += n
	return out, nil
}

// inSelection tells whether a is submitted or eligible in a call not yet completed or
// cancelled: its match may still place it, or its waiting list offer it a place.
func inSelection(a *ent.Application) bool {
	if a.Status != application.StatusSUBMITTED && a.Status != application.StatusELIGIBLE {
		return false
	}
	switch a.Edges.Call.Status {
	case call.StatusOPEN, call.StatusCLOSED, call.StatusREVIEW, call.StatusRANKING, call.StatusMATCHED:
		return true
	}
	return false
}
