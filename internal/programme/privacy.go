package programme

import (
	"context"
	"fmt"
	"path"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/callreviewer"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/reviewassignment"
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
			Retention: "unsuccessful applications with their documents and referee letters, and the referee letters of placed ones, deleted 12 months (COALITION_RETENTION_APPLICATIONS_MONTHS) after the call is completed or cancelled, the trainee warned a month before (job retention.applications); erased on request as anonymised counts", Recipients: "staff, the call's reviewers, the host centres the application lists"},
		{Name: "Reviews", Data: "scores, comments and conflicts of interest of a reviewer; their appointments and assignments",
			Purpose: "a fair and recorded selection", LegalBasis: "Art. 6(1)(f) legitimate interest (accountable selection)",
			Retention: "with the application reviewed", Recipients: "staff and the call's other reviewers"},
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

// Erase implements privacy.Domain.
func (PrivacyDomain) Erase(context.Context, *ent.Client, privacy.Person) (privacy.Erased, error) {
	return privacy.Erased{}, privacy.ErrEraseUnwritten
}
