package placement

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// ErasureBlockers implements privacy.Blocker: a placement offered, accepted or confirmed
// (not yet completed, declined, expired or cancelled) needs staff to approve the person's
// erasure.
func (PrivacyDomain) ErasureBlockers(ctx context.Context, c *ent.Client, p privacy.Person) ([]string, error) {
	ps, err := c.Placement.Query().
		Where(placement.TraineeID(p.ID), placement.StatusIn(placement.StatusOFFERED, placement.StatusACCEPTED, placement.StatusCONFIRMED)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("active placements: %w", err)
	}
	var out []string
	for _, pl := range ps {
		out = append(out, fmt.Sprintf("a placement (%s) that is %s, starting %s", pl.ID, pl.Status, pl.StartDate))
	}
	return out, nil
}
