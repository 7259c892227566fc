package directory

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/affiliation"
	"github.com/gocart-coalition/coalition/ent/hostcentre"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the directory's part in data-subject requests: the person's
// affiliations and the host centres they coordinate.
type PrivacyDomain struct{}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "directory" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string { return []string{"Affiliation", "HostCentre"} }

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Affiliations", Data: "organisations the person belongs to and their position there",
			Purpose: "the stakeholder directory and eligibility in the programme", LegalBasis: "Art. 6(1)(f) legitimate interest (coalition work)",
			Retention: "until staff remove it; deleted on erasure", Recipients: "staff; working-group co-members"},
		{Name: "Host-centre contacts", Data: "being a coordinator of a host centre; name and email address",
			Purpose:    "offer slots, rank applicants, confirm placements; organise a placed trainee's visit",
			LegalBasis: "Art. 6(1)(b) contract (host participation; the placement, for the trainee placed at the centre, who sees the name and email whatever the consent); Art. 6(1)(a) consent (HOST_CONTACT) for showing the name to other signed-in users",
			Retention:  "while the person coordinates the centre; on erasure they are removed from every centre's contacts and their name and address in a centre's profile replaced by \"[erased]\"", Recipients: "trainees with an accepted or confirmed placement at the centre (name and email); other signed-in users, name only, while the coordinator consents (HOST_CONTACT)"},
	}
}

// CentreExport is one coordinated host centre in directory.json.
type CentreExport struct {
	ID             pulid.ID `json:"id"`
	Name           string   `json:"name"`
	OrganisationID pulid.ID `json:"organisation_id"`
}

// DirectoryExport is directory.json.
type DirectoryExport struct {
	Affiliations       []*ent.Affiliation `json:"affiliations"`
	CoordinatedCentres []CentreExport     `json:"coordinated_centres"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	var out DirectoryExport
	var err error
	if out.Affiliations, err = c.Affiliation.Query().Where(affiliation.UserID(p.ID)).WithOrganisation().
		Order(ent.Asc(affiliation.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("affiliations: %w", err)
	}
	centres, err := c.HostCentre.Query().Where(hostcentre.HasCoordinatorsWith(user.ID(p.ID))).
		Order(ent.Asc(hostcentre.FieldID)).All(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("coordinated centres: %w", err)
	}
	out.CoordinatedCentres = []CentreExport{}
	for _, h := range centres {
		out.CoordinatedCentres = append(out.CoordinatedCentres, CentreExport{ID: h.ID, Name: h.Name, OrganisationID: h.OrganisationID})
	}
	return privacy.Part{Data: out}, nil
}

// Erase implements privacy.Domain. The person's affiliations are deleted, they are no
// longer a coordinator (a contact) of any host centre, and their name and address inside a
// centre's public profile are replaced by privacy.ErasedText. The organisations and centres
// themselves are no one's personal data and stay.
func (PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	var out privacy.Erased
	values, err := privacy.PersonValues(ctx, c, p)
	if err != nil {
		return out, err
	}
	n, err := c.Affiliation.Delete().Where(affiliation.UserID(p.ID)).Exec(ctx)
	if err != nil {
		return out, fmt.Errorf("delete affiliations: %w", err)
	}
	out.Rows += n
	if n, err = c.HostCentre.Update().Where(hostcentre.HasCoordinatorsWith(user.ID(p.ID))).RemoveCoordinatorIDs(p.ID).Save(ctx); err != nil {
		return out, fmt.Errorf("host-centre contacts: %w", err)
	}
	out.Rows += n
	hs, err := c.HostCentre.Query().Where(privacy.Naming[predicate.HostCentre](values, hostcentre.FieldDescription)).All(ctx)
	if err != nil {
		return out, fmt.Errorf("centres naming the person: %w", err)
	}
	for _, h := range hs {
		d, changed := privacy.Redact(h.Description, values)
		if !changed {
			continue
		}
		if err := c.HostCentre.UpdateOneID(h.ID).SetDescription(d).Exec(ctx); err != nil {
			return out, fmt.Errorf("redact a centre's profile: %w", err)
		}
		out.Rows++
	}
	return out, nil
}
