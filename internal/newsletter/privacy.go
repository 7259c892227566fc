package newsletter

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/suppression"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the newsletter's part in data-subject requests: the subscriber row of
// the person's address (or account), every subscription with its consent evidence, the
// suppression of the address, and the campaigns the person wrote, edited or approved.
type PrivacyDomain struct {
	// Key is the newsletter key: an erased address is kept in the suppression list only
	// as its keyed hash (KeyedHash). Erase refuses to run without it.
	Key []byte
}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "newsletter" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string {
	return []string{"Subscriber", "NewsletterSubscription", "Suppression", "Campaign"}
}

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Newsletter subscriptions", Data: "email address, name, lists, confirmation, consent evidence (text version, time, IP address, how given; the consent domain's records)",
			Purpose: "send the newsletters the person asked for, and prove the consent", LegalBasis: "Art. 6(1)(a) consent",
			Retention: "until the person unsubscribes (then kept as evidence) or is erased; unconfirmed subscriptions purged after 30 days", Recipients: "the mail relay"},
		{Name: "Suppression list", Data: "a keyed hash of the address (and the address unless erased), reason",
			Purpose: "never email an address that unsubscribed, bounced, complained or was erased", LegalBasis: "Art. 6(1)(c) legal obligation (objection to direct marketing) / 6(1)(f)",
			Retention: "indefinitely, as a hash after erasure", Recipients: "none"},
		{Name: "Campaign authorship", Data: "who wrote, edited and approved a campaign",
			Purpose: "accountable publication", LegalBasis: "Art. 6(1)(f) legitimate interest", Retention: "with the campaign", Recipients: "staff"},
	}
}

// CampaignRole is one campaign the person took part in, in newsletter.json.
type CampaignRole struct {
	ID       pulid.ID `json:"id"`
	Subject  string   `json:"subject"`
	Author   bool     `json:"author"`
	Editor   bool     `json:"last_editor"`
	Approver bool     `json:"approver"`
}

// NewsletterExport is newsletter.json.
type NewsletterExport struct {
	// Subscribers hold their subscriptions, each with its list and consent evidence.
	Subscribers []*ent.Subscriber  `json:"subscribers"`
	Suppression []*ent.Suppression `json:"suppression"`
	Campaigns   []CampaignRole     `json:"campaigns"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	var out NewsletterExport
	var err error
	if out.Subscribers, err = c.Subscriber.Query().
		Where(subscriber.Or(subscriber.Email(p.Email), subscriber.UserID(p.ID))).
		WithSubscriptions(func(q *ent.NewsletterSubscriptionQuery) {
			q.WithList().WithConsent(func(q *ent.ConsentEvidenceQuery) {
				q.Order(ent.Asc(consentevidence.FieldAt), ent.Asc(consentevidence.FieldID))
			}).Order(ent.Asc(newslettersubscription.FieldID))
		}).
		Order(ent.Asc(subscriber.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("subscribers: %w", err)
	}
	if out.Suppression, err = c.Suppression.Query().Where(suppression.EmailHash(HashAddress(p.Email))).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("suppression: %w", err)
	}
	cs, err := c.Campaign.Query().
		Where(campaign.Or(campaign.CreatedByID(p.ID), campaign.EditedByID(p.ID), campaign.ApprovedByID(p.ID))).
		Order(ent.Asc(campaign.FieldID)).All(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("campaigns: %w", err)
	}
	out.Campaigns = []CampaignRole{}
	for _, k := range cs {
		out.Campaigns = append(out.Campaigns, CampaignRole{ID: k.ID, Subject: k.Subject, Author: k.CreatedByID == p.ID,
			Editor: k.EditedByID == p.ID, Approver: k.ApprovedByID != nil && *k.ApprovedByID == p.ID})
	}
	return privacy.Part{Data: out}, nil
}

// Erase implements privacy.Domain: the person's subscriber rows (by address or account),
// their subscriptions and consent evidence are deleted, and the address is kept only as
// its keyed hash in the suppression list (SuppressErased), so no newsletter reaches it
// again. The campaigns they wrote or approved keep the author's id (the account is
// anonymised). The newsletter's mail to them is redacted by the mail domain.
func (d PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	var out privacy.Erased
	subs, err := c.Subscriber.Query().Where(subscriber.Or(subscriber.Email(p.Email), subscriber.UserID(p.ID))).IDs(ctx)
	if err != nil {
		return out, fmt.Errorf("subscribers: %w", err)
	}
	if len(subs) > 0 {
		ids, err := c.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberIDIn(subs...)).IDs(ctx)
		if err != nil {
			return out, fmt.Errorf("subscriptions: %w", err)
		}
		n, err := c.ConsentEvidence.Delete().Where(consentevidence.SubscriptionIDIn(ids...)).Exec(ctx)
		if err != nil {
			return out, fmt.Errorf("erase consent evidence: %w", err)
		}
		out.Rows += n
		if n, err = c.NewsletterSubscription.Delete().Where(newslettersubscription.IDIn(ids...)).Exec(ctx); err != nil {
			return out, fmt.Errorf("erase subscriptions: %w", err)
		}
		out.Rows += n
		if n, err = c.Subscriber.Delete().Where(subscriber.IDIn(subs...)).Exec(ctx); err != nil {
			return out, fmt.Errorf("erase subscribers: %w", err)
		}
		out.Rows += n
	}
	added, err := SuppressErased(ctx, c, d.Key, p.Email)
	if err != nil {
		return out, err
	}
	if added {
		out.Rows++
	}
	return out, nil
}
