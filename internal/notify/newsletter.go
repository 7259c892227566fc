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
