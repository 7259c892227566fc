package newsletter

import (
	"context"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// MySubscriber returns the signed-in person's subscriber record (nil before their first
// subscription), read as them (access.FilterOwnSubscriber).
func (s *Service) MySubscriber(ctx context.Context) (*ent.Subscriber, error) {
	if err := access.Require(ctx, access.CanManageOwnSubscriptions, "see your subscriptions"); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	sub, err := s.cfg.Client.Subscriber.Query().Where(subscriber.Or(subscriber.UserID(pulid.ID(v.UserID)), subscriber.Email(v.Email))).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return sub, err
}

// UpdateMySubscriptions joins and leaves lists for the signed-in person, with the address
// they signed in with (proven by the sign-in link, so no confirmation email): joining is
// CONFIRMED at once with SIGNUP and CONFIRMATION evidence (source API); leaving the last
// list suppresses the address as unsubscribed, joining again lifts that. Writes are the
// person's own (the audit hook records them).
func (s *Service) UpdateMySubscriptions(ctx context.Context, tx *ent.Client, join, leave []pulid.ID) (*ent.Subscriber, error) {
	if err := access.Require(ctx, access.CanManageOwnSubscriptions, "manage your subscriptions"); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	now := s.now()
	var errs apperr.UserErrors
	if len(join)+len(leave) == 0 {
		errs.Add(apperr.CodeRequired, "Choose a list to join or leave.", check.Path("subscribe")...)
	}
	if len(join) > maxLists || len(leave) > maxLists {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Choose at most %d lists at a time.", maxLists), check.Path("subscribe")...)
	}
	for _, id := range join {
		if contains(idStrings(leave), string(id)) {
			errs.Add(apperr.CodeInvalid, "A list cannot be joined and left at once.", check.Path("unsubscribe")...)
			break
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// Lists are read as the person: what they cannot see is NOT_FOUND.
	joinLists, err := tx.MailingList.Query().Where(mailinglist.IDIn(join...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	}
	for _, l := range joinLists {
		if l.Visibility != mailinglist.VisibilityPUBLIC || l.Archived {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%q cannot be joined: staff add people to it.", l.Name), check.Path("subscribe")...)
		}
	}
	if len(joinLists) != len(dedupe(join)) {
		errs.Add(apperr.CodeNotFound, "One of the lists to join does not exist.", check.Path("subscribe")...)
	}
	if n, err := tx.MailingList.Query().Where(mailinglist.IDIn(leave...)).Count(ctx); err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	} else if n != len(dedupe(leave)) {
		errs.Add(apperr.CodeNotFound, "One of the lists to leave does not exist.", check.Path("unsubscribe")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	sub, err := s.subscriberFor(ctx, tx, v.Email, "")
	if err != nil {
		return nil, err
	}
	if sub.UserID == nil {
		if sub, err = tx.Subscriber.UpdateOne(sub).SetUserID(pulid.ID(v.UserID)).Save(ctx); err != nil {
			return nil, fmt.Errorf("link subscriber: %w", err)
		}
	}
	ip := audit.RequestFrom(ctx).IP
	for _, l := range joinLists {
		if err := s.apply(ctx, tx, sub, l.ID, Join, now, func(id pulid.ID) error {
			if err := s.evidence(ctx, tx, id, consentevidence.EventSIGNUP, SourceAPI, ip, v.UserID, "", now); err != nil {
				return err
			}
			return s.evidence(ctx, tx, id, consentevidence.EventCONFIRMATION, SourceAPI, ip, v.UserID, "", now)
		}); err != nil {
			return nil, err
		}
	}
	for _, id := range dedupe(leave) {
		if err := s.apply(ctx, tx, sub, id, Unsubscribe, now, nil); err != nil {
			return nil, err
		}
	}
	if len(joinLists) > 0 {
		if err := liftUnsubscribed(ctx, tx, s.cfg.Key, sub.Email); err != nil {
			return nil, err
		}
	}
	if err := s.suppressIfNoneLeft(ctx, tx, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// apply moves the subscription of sub to list through the table (creating it when it does
// not exist), with a conditional update; changed runs after a change to CONFIRMED or
// UNCONFIRMED (to record the evidence).
func (s *Service) apply(ctx context.Context, tx *ent.Client, sub *ent.Subscriber, list pulid.ID, e Event, now time.Time, changed func(pulid.ID) error) error {
	row, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberID(sub.ID), newslettersubscription.ListID(list)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("read subscription: %w", err)
	}
	from := None
	if row != nil {
		from = row.Status
	}
	to, err := Next(from, e)
	if err != nil {
		if e == Unsubscribe && from == None {
			return nil // leaving a list one is not on changes nothing
		}
		return apperr.OnField(err, "lists")
	}
	if to == from {
		return nil
	}
	switch {
	case row == nil:
		c := tx.NewsletterSubscription.Create().SetSubscriberID(sub.ID).SetListID(list).SetStatus(to)
		if to == confirmed {
			c.SetConfirmedAt(now)
		}
		row, err = c.Save(ctx)
	default:
		u := tx.NewsletterSubscription.UpdateOne(row).Where(newslettersubscription.StatusEQ(from)).SetStatus(to)
		switch to {
		case confirmed:
			u.SetConfirmedAt(now).ClearUnsubscribedAt()
		case unsubscribed:
			u.SetUnsubscribedAt(now)
		}
		row, err = u.Save(ctx)
		if ent.IsNotFound(err) {
			return apperr.LostRace("subscription")
		}
	}
	if err != nil {
		return fmt.Errorf("save subscription: %w", err)
	}
	if to == unsubscribed {
		// Leaving a list withdraws the consent it was joined with.
		return consent.WithdrawSubscriptions(ctx, tx, now, row.ID)
	}
	if changed != nil {
		return changed(row.ID)
	}
	return nil
}

// suppressIfNoneLeft suppresses sub's address as unsubscribed when none of its
// subscriptions is confirmed or waiting any more (it left everything).
func (s *Service) suppressIfNoneLeft(ctx context.Context, tx *ent.Client, sub *ent.Subscriber) error {
	n, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberID(sub.ID),
		newslettersubscription.StatusIn(confirmed, unconfirmed)).Count(viewer.ForFacts(ctx))
	if err != nil {
		return fmt.Errorf("count subscriptions: %w", err)
	}
	if n > 0 {
		return nil
	}
	any, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberID(sub.ID)).Exist(viewer.ForFacts(ctx))
	if err != nil || !any {
		return err
	}
	_, err = Suppress(ctx, tx, sub.Email, ReasonUnsubscribed, "left every list")
	return err
}

func idStrings(ids []pulid.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func dedupe(ids []pulid.ID) []pulid.ID {
	seen := map[pulid.ID]bool{}
	var out []pulid.ID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
