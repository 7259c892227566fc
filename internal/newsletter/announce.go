package newsletter

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// Announcement is a campaign another domain sends as part of one of its own steps (a
// policy statement's publication): its approval is implied by that step, which has its
// own sign-off, so it is not asked of a second member of staff.
type Announcement struct {
	Subject, Preheader, Body string
	// ListIDs and GroupIDs are the audience (at least one of them).
	ListIDs, GroupIDs []pulid.ID
	// By is the person the step is taken for (the campaign's author and editor): the staff
	// member who published, or the one who opened the statement when the job publishes.
	By pulid.ID
}

// Announce writes a campaign from a and starts sending it at once, in the caller's
// transaction: the implied-approval path (approved_at set, approved_by empty, which the
// staff path never leaves). It is for the domain services only; nothing in the API calls it
// directly. The caller has checked its own permission; the campaign is written as the
// caller's viewer (staff or the system job), so the ent policy still applies.
func (s *Campaigns) Announce(ctx context.Context, tx *ent.Client, a Announcement) (*ent.Campaign, error) {
	var errs apperr.UserErrors
	d := s.checkCampaign(ctx, tx, &errs, campaignDraft{}, CampaignInput{
		Subject: &a.Subject, Preheader: &a.Preheader, Body: &a.Body, ListIDs: &a.ListIDs, GroupIDs: &a.GroupIDs,
	})
	if err := errs.Err(); err != nil {
		return nil, err
	}
	html, text, err := s.render(d, "")
	if err != nil {
		return nil, err
	}
	c, err := tx.Campaign.Create().
		SetSubject(d.subject).SetPreheader(d.preheader).SetBody(d.body).
		SetHTMLBody(html).SetTextBody(text).
		SetCreatedByID(a.By).SetEditedByID(a.By).
		SetStatus(campaign.StatusAPPROVED). // implied by the caller's step
		SetApprovedAt(s.now()).
		AddGroupIDs(d.groups...).AddListIDs(d.lists...).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create announcement: %w", err)
	}
	return s.start(ctx, tx, c, CampaignSendNow)
}

// EnsureList returns the mailing list slug, creating it (PUBLIC, with name and
// description) the first time it is asked for, in the caller's transaction.
func (s *Service) EnsureList(ctx context.Context, tx *ent.Client, slug, name, description string) (*ent.MailingList, error) {
	l, err := tx.MailingList.Query().Where(mailinglist.Slug(slug)).Only(ctx)
	switch {
	case err == nil:
		return l, nil
	case !ent.IsNotFound(err):
		return nil, fmt.Errorf("find list %s: %w", slug, err)
	}
	l, err = tx.MailingList.Create().SetSlug(slug).SetName(name).SetDescription(description).
		SetVisibility(mailinglist.VisibilityPUBLIC).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create list %s: %w", slug, err)
	}
	return l, nil
}
