package notify

import (
	"context"

	"github.com/gocart-coalition/coalition/ent"
)

// NewsletterConfirmData is the data of the newsletter_confirm email: the double opt-in.
type NewsletterConfirmData struct {
	Name  string // may be empty
	Email string
	// Lists are the names of the lists waiting for confirmation.
	Lists []string
	// URL opens the confirmation page; it confirms only on POST.
	URL       string
	ValidDays int
}

// NewsletterConfirm queues the double opt-in email.
func (n *Notifier) NewsletterConfirm(ctx context.Context, client *ent.Client, to Recipient, data NewsletterConfirmData, key string) error {
	return n.queue(ctx, client, "newsletter_confirm", to, data, key, nil)
}

// NewsletterConfirms queues many newsletter_confirm emails at once (a staff import): the
// same emails and dedupe keys as NewsletterConfirm one by one, in a few INSERT statements.
func (n *Notifier) NewsletterConfirms(ctx context.Context, client *ent.Client, batch []Batched[NewsletterConfirmData]) error {
	return queueBatch(ctx, n, client, "newsletter_confirm", batch)
}
