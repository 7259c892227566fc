package consent

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/consenttext"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is consent's part in data-subject requests: every consent record of the
// person (their own purposes' and their newsletter subscriptions') and the consent texts
// they published as staff.
type PrivacyDomain struct{}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "consent" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string { return []string{"ConsentEvidence", "ConsentText"} }

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Consent records", Data: "purpose, text and version agreed to, time, IP address, how given (form, API, import, staff with a reason), withdrawal time",
			Purpose:    "prove consent to the newsletter, a directory profile and being shown as a host-centre contact, and honour its withdrawal",
			LegalBasis: "Art. 6(1)(c) legal obligation (Art. 7(1): demonstrate consent)", Retention: "as long as the consent stands and afterwards as evidence, until the person is erased",
			Recipients: "none"},
		{Name: "Consent texts published", Data: "which staff member published a version of a consent text",
			Purpose: "accountable consent texts", LegalBasis: "Art. 6(1)(f) legitimate interest", Retention: "with the text", Recipients: "staff"},
	}
}

// PublishedText is one consent text the person published, in consent.json.
type PublishedText struct {
	ID      string `json:"id"`
	Purpose string `json:"purpose"`
	Version int    `json:"version"`
}

// Export is consent.json.
type Export struct {
	// Consents are the person's consent records, oldest first.
	Consents []*ent.ConsentEvidence `json:"consents"`
	// Published are the consent texts the person published (staff).
	Published []PublishedText `json:"published_texts"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	var out Export
	var err error
	own := consentevidence.HasSubscriptionWith(newslettersubscription.HasSubscriberWith(subscriber.Or(subscriber.Email(p.Email), subscriber.UserID(p.ID))))
	if out.Consents, err = c.ConsentEvidence.Query().Where(consentevidence.Or(consentevidence.UserID(p.ID), own)).
		Order(ent.Asc(consentevidence.FieldAt), ent.Asc(consentevidence.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("consents: %w", err)
	}
	texts, err := c.ConsentText.Query().Where(consenttext.PublishedByID(p.ID)).Order(ent.Asc(consenttext.FieldID)).All(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("published consent texts: %w", err)
	}
	out.Published = []PublishedText{}
	for _, t := range texts {
		out.Published = append(out.Published, PublishedText{ID: string(t.ID), Purpose: string(t.Purpose), Version: t.Version})
	}
	return privacy.Part{Data: out}, nil
}

// Erase implements privacy.Domain: every consent record of the person goes (their own
// purposes' and any left on their newsletter subscriptions, which the newsletter domain
// deletes with the subscriptions); the consent texts they published as staff stay, pointing
// to the anonymised account.
func (PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	own := consentevidence.HasSubscriptionWith(newslettersubscription.HasSubscriberWith(subscriber.Or(subscriber.Email(p.Email), subscriber.UserID(p.ID))))
	n, err := c.ConsentEvidence.Delete().Where(consentevidence.Or(consentevidence.UserID(p.ID), own)).Exec(ctx)
	if err != nil {
		return privacy.Erased{}, fmt.Errorf("consents: %w", err)
	}
	return privacy.Erased{Rows: n}, nil
}
