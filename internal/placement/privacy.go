package placement

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	entplacement "github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the placements' part in data-subject requests: the person's placements
// as a trainee, with their report and evaluation.
type PrivacyDomain struct{}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "placements" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string { return []string{"Placement"} }

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Placements", Data: "host centre, dates, status, the trainee's report and the host's evaluation",
			Purpose: "organise and complete observer placements", LegalBasis: "Art. 6(1)(b) contract (placement)",
			Retention: "with the call's records; erased on request", Recipients: "the host centre's coordinators, staff"},
	}
}

// PlacementsExport is placements.json.
type PlacementsExport struct {
	Placements []*ent.Placement `json:"placements"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	ps, err := c.Placement.Query().Where(entplacement.TraineeID(p.ID)).
		Order(ent.Asc(entplacement.FieldStartDate), ent.Asc(entplacement.FieldID)).All(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("placements: %w", err)
	}
	return privacy.Part{Data: PlacementsExport{Placements: ps}}, nil
}

// Erase implements privacy.Domain.
func (PrivacyDomain) Erase(context.Context, *ent.Client, privacy.Person) (privacy.Erased, error) {
	return privacy.Erased{}, privacy.ErrEraseUnwritten
}
