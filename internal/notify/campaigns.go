package notify

import (
	"context"
	"fmt"
	htmltemplate "html/template"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
)

// NewsletterData is the data of the newsletter email: a campaign rendered once into the
// newsletter layout. The personal parts (the recipient's name, their unsubscribe and
// preferences links) are given as placeholders that the sending side replaces per
// recipient, and by neutral values in the public archive.
type NewsletterData struct {
	Subject   string
	Preheader string
	// BodyHTML is the campaign's Markdown rendered and sanitised (markdown.HTML).
	BodyHTML htmltemplate.HTML
	// BodyText is the campaign's Markdown as the plain-text alternative.
	BodyText string
	// Audience names what the recipient subscribed to or belongs to, e.g.
	// "the Quarterly newsletter list".
	Audience string
	// Email, UnsubscribeURL and PreferencesURL are the personal parts (placeholders).
	Email, UnsubscribeURL, PreferencesURL string
	// ArchiveURL is where the campaign is read in a browser; empty when it has no public page.
	ArchiveURL string
}

// CampaignLateData is the data of the campaign_late email to staff: the job held a
// scheduled campaign instead of starting it, and it waits for their decision.
type CampaignLateData struct {
	Name      string // the staff member's name; may be empty
	Subject   string
	Scheduled string // e.g. 2027-03-01 09:00 UTC
	LateAfter string // e.g. 1h0m0s
	ID        string
	// NoRecipients: it was held because its audience reached nobody at its time, not
	// because it could not start within LateAfter.
	NoRecipients bool
}

// RenderNewsletter renders the newsletter email with data.
func (n *Notifier) RenderNewsletter(data NewsletterData) (Rendered, error) {
	return n.cfg.Renderer.Render("newsletter", data)
}

// CampaignLate queues the campaign_late email to a member of staff.
func (n *Notifier) CampaignLate(ctx context.Context, client *ent.Client, to Recipient, data CampaignLateData, key string) error {
	return n.queue(ctx, client, "campaign_late", to, data, key, nil)
}

// QueueRendered queues an email rendered already (e.g. a campaign's test message, whose
// personal parts were filled in by the caller) on the transactional lane, in client's
// transaction, and wakes the worker after the commit.
func (n *Notifier) QueueRendered(ctx context.Context, client *ent.Client, template string, to Recipient, r Rendered, headers map[string]string, key string) error {
	e := outbox.Email{
		DedupeKey: key, Template: template, To: mail.Address{Name: to.Name, Email: to.Email},
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, Headers: headers, Suppressed: to.Suppressed,
	}
	if err := outbox.Enqueue(ctx, client, n.cfg.Now(), e); err != nil {
		return fmt.Errorf("queue %s: %w", template, err)
	}
	if !to.Suppressed {
		n.wakeAfterCommit(ctx)
	}
	return nil
}
