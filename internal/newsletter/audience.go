package newsletter

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// audienceProbe bounds how many confirmed subscribers hasRecipient reads to find one that
// is not suppressed.
const audienceProbe = 500

// hasRecipient says whether c, sent now, would reach anyone: a confirmed, unsuppressed
// subscriber of one of its lists (among the first audienceProbe; if all of those are
// suppressed it answers yes and the frozen audience decides), or a current member of
// one of its groups. It reads facts as the system.
func (s *Campaigns) hasRecipient(ctx context.Context, tx *ent.Client, c *ent.Campaign) (bool, error) {
	ctx = viewer.ForFacts(ctx)
	d, err := s.draftOf(ctx, c)
	if err != nil {
		return false, err
	}
	if len(d.groups) > 0 {
		today := vocab.Today(s.now())
		ok, err := tx.User.Query().Where(user.Disabled(false),
			user.HasMembershipsWith(membership.GroupIDIn(d.groups...), membership.AnswerEQ(membership.AnswerACCEPTED),
				membership.TermStartLTE(today), membership.TermEndGTE(today),
				membership.Or(membership.EndedOnIsNil(), membership.EndedOnGTE(today)))).Exist(ctx)
		if err != nil || ok {
			return ok, err
		}
	}
	if len(d.lists) == 0 {
		return false, nil
	}
	addrs, err := tx.Subscriber.Query().
		Where(subscriber.HasSubscriptionsWith(newslettersubscription.ListIDIn(d.lists...), newslettersubscription.StatusEQ(confirmed))).
		Limit(audienceProbe).Select(subscriber.FieldEmail).Strings(ctx)
	if err != nil {
		return false, fmt.Errorf("read the audience of %s: %w", c.ID, err)
	}
	if len(addrs) == audienceProbe {
		return true, nil
	}
	supp, err := IsSuppressed(ctx, tx, addrs)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if !supp[a] {
			return true, nil
		}
	}
	return false, nil
}

// errNobody is the refusal of sending a campaign that would reach nobody.
func errNobody() error {
	return apperr.Invalid(apperr.CodeRequired, "Nobody would receive this campaign now: its lists have no confirmed subscriber who can be mailed and its working groups no current member.", "input", "id")
}
