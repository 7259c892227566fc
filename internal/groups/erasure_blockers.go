package groups

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// ErasureBlockers implements privacy.Blocker: an accepted membership of a working group
// whose term has not ended (any role) needs staff to approve the person's erasure.
func (PrivacyDomain) ErasureBlockers(ctx context.Context, c *ent.Client, p privacy.Person) ([]string, error) {
	today := vocab.Date(clock.Now(ctx).UTC().Format("2006-01-02"))
	ms, err := c.Membership.Query().
		Where(membership.UserID(p.ID), membership.AnswerEQ(membership.AnswerACCEPTED), membership.TermEndGTE(today)).
		WithGroup().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("working-group roles: %w", err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("the role %s in the working group %q until %s", m.Role, m.Edges.Group.Name, m.TermEnd))
	}
	return out, nil
}
