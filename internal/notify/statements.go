package notify

import (
	"context"

	"github.com/gocart-coalition/coalition/ent"
)

// SignoffsVoidedData is the data of the statement_signoffs_voided email to a signatory
// whose sign-off an edit voided.
type SignoffsVoidedData struct {
	Name, Title, Organisation string
	// Voided is the number of the revision signed; Revision the new one, with its Hash.
	Voided, Revision int
	Hash, ID         string
}

// StatementReviewDueData is the data of the statement_review_due email to staff.
type StatementReviewDueData struct {
	Name, Title string
	ReviewBy    string // e.g. 2027-03-01
	ID          string
}

// SignoffsVoided queues the statement_signoffs_voided email.
func (n *Notifier) SignoffsVoided(ctx context.Context, client *ent.Client, to Recipient, data SignoffsVoidedData, key string) error {
	return n.queue(ctx, client, "statement_signoffs_voided", to, data, key, nil)
}

// StatementReviewDue queues the statement_review_due email to a member of staff.
func (n *Notifier) StatementReviewDue(ctx context.Context, client *ent.Client, to Recipient, data StatementReviewDueData, key string) error {
	return n.queue(ctx, client, "statement_review_due", to, data, key, nil)
}

// StatementLateData is the data of the statement_late email to staff: a scheduled
// statement could not be published in time and waits for their decision.
type StatementLateData struct {
	Name, Title string
	Scheduled   string // e.g. 2027-03-01 09:00 UTC
	LateAfter   string // e.g. 1h0m0s
	ID          string
}

// StatementLate queues the statement_late email to a member of staff.
func (n *Notifier) StatementLate(ctx context.Context, client *ent.Client, to Recipient, data StatementLateData, key string) error {
	return n.queue(ctx, client, "statement_late", to, data, key, nil)
}
