package notify

import (
	"context"

	"github.com/gocart-coalition/coalition/ent"
)

// ReviewCommitteeData is the data of the review_committee email to a call reviewer:
// they were appointed to the call's committee (Assigned 0), or staff assigned them
// applications to review.
type ReviewCommitteeData struct {
	Name, CallTitle string
	// Assigned is how many applications were just assigned to them (0 for the appointment).
	Assigned int
	// Total is how many applications of the call are now assigned to them.
	Total int
}

// ReviewCommittee queues the appointment or assignment news to a reviewer.
func (n *Notifier) ReviewCommittee(ctx context.Context, client *ent.Client, to Recipient, data ReviewCommitteeData, key string) error {
	return n.queue(ctx, client, "review_committee", to, data, key, nil)
}
