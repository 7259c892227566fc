package programme

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// ErasureBlockers implements privacy.Blocker: a submitted application (not withdrawn or
// found ineligible) in a call still running (open, closed for review, in review, ranking
// or matched) needs staff to approve the person's erasure.
func (PrivacyDomain) ErasureBlockers(ctx context.Context, c *ent.Client, p privacy.Person) ([]string, error) {
	apps, err := c.Application.Query().
		Where(application.TraineeID(p.ID), application.StatusIn(application.StatusSUBMITTED, application.StatusELIGIBLE),
			application.HasCallWith(call.StatusIn(call.StatusOPEN, call.StatusCLOSED, call.StatusREVIEW, call.StatusRANKING, call.StatusMATCHED))).
		WithCall().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("applications in running calls: %w", err)
	}
	var out []string
	for _, a := range apps {
		out = append(out, fmt.Sprintf("an application (%s) in the call %q, which is %s", a.ID, a.Edges.Call.Title, a.Edges.Call.Status))
	}
	return out, nil
}
