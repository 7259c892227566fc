package newsletter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/secret"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// SubscribedMessage is the answer to every accepted subscribe request, whether or not the
// address is known, already subscribed or suppressed: the answer discloses nothing.
const SubscribedMessage = "Thank you. If this address can receive our newsletters, we have sent it an email: open the link in it to confirm your subscription."

// Source is where a subscription's consent came from.
type Source = consentevidence.Source

// The sources of consent.
const (
	SourceForm   = consentevidence.SourceFORM
	SourceAPI    = consentevidence.SourceAPI
	SourceImport = consentevidence.SourceIMPORT
	SourceStaff  = consentevidence.SourceSTAFF
)

// SubscribeInput is an anonymous subscribe request.
type SubscribeInput struct {
	Email string
	Name  string
	// Lists are slugs of PUBLIC lists.
	Lists []string
	// Source is FORM (the HTML form) or API (the GraphQL mutation).
	Source Source
	// IP is the client address (from the request).
	IP string
}

// Subscribe records a subscribe request and, unless one went to the address within the
// hour, queues the confirmation email with a new single-use link. It answers
// SubscribedMessage whatever it found, or user errors for malformed input (nothing
// written) or RATE_LIMITED. The request has no person behind it that the service knows
// (the link is the only credential, like a sign-in link), so it writes as the system; the
// consent evidence records the client address and time.
func (s *Service) Subscribe(ctx context.Context, tx *ent.Client, in SubscribeInput) (string, error) {
	now := s.now()
	var errs apperr.UserErrors
	addr := check.Email(&errs, in.Email, check.Path("email"))
	name := check.Text(&errs, in.Name, maxName, "The name", check.Path("name"))
	if check.HasControl(name) {
		errs.Add(apperr.CodeInvalid, "The name must be one line of text.", check.Path("name")...)
	}
	slugs := make([]string, 0, len(in.Lists))
	for _, l := range in.Lists {
		if l = strings.TrimSpace(l); l != "" && !contains(slugs, l) {
			slugs = append(slugs, l)
		}
	}
	switch {
	case len(slugs) == 0:
		errs.Add(apperr.CodeRequired, "Choose at least one list.", check.Path("lists")...)
	case len(slugs) > maxLists:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Choose at most %d lists.", maxLists), check.Path("lists")...)
	}
	if err := errs.Err(); err != nil {
		return "", err
	}
	// Lists the public may join, read as the caller (anonymous: PUBLIC and unarchived).
	lists, err := tx.MailingList.Query().Where(mailinglist.SlugIn(slugs...), mailinglist.VisibilityEQ(mailinglist.VisibilityPUBLIC), mailinglist.Archived(false)).
		All(viewer.NewContext(ctx, viewer.Viewer{}))
	if err != nil {
		return "", fmt.Errorf("read lists: %w", err)
	}
	if len(lists) != len(slugs) {
		return "", apperr.Invalid(apperr.CodeNotFound, "One of the chosen lists does not exist or cannot be joined.", check.Path("lists")...)
	}
	if !s.byIP.take("ip:"+in.IP, now) || !s.byAddr.take("addr:"+addr, now) {
		return "", apperr.Invalid(apperr.CodeRateLimited, "Too many subscribe requests; try again in an hour.")
	}
	sys := viewer.NewSystemContext(ctx)
	if err := s.signup(sys, tx, addr, name, lists, in.Source, in.IP, "", ""); err != nil {
		return "", err
	}
	return SubscribedMessage, nil
}

// signup records the subscriptions of addr to lists as waiting for confirmation (with
// their SIGNUP evidence) and sends the confirmation email when one is due. Lists already
// confirmed stay as they are. It writes through tx as the viewer in ctx.
func (s *Service) signup(ctx context.Context, tx *ent.Client, addr, name string, lists []*ent.MailingList, source Source, ip, actor, note string) error {
	now := s.now()
	sub, err := s.subscriberFor(ctx, tx, addr, name)
	if err != nil {
		return err
	}
	for _, l := range lists {
		row, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberID(sub.ID), newslettersubscription.ListID(l.ID)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return fmt.Errorf("read subscription: %w", err)
		}
		from := None
		if row != nil {
			from = row.Status
		}
		to, err := Next(from, Signup)
		if err != nil {
			return apperr.OnField(err, "lists")
		}
		if to == from && from != unconfirmed {
			continue // already confirmed: nothing to ask
		}
		if row == nil {
			row, err = tx.NewsletterSubscription.Create().SetSubscriberID(sub.ID).SetListID(l.ID).SetStatus(to).Save(ctx)
		} else if to != from {
			row, err = tx.NewsletterSubscription.UpdateOne(row).Where(newslettersubscription.StatusEQ(from)).SetStatus(to).ClearUnsubscribedAt().Save(ctx)
			if ent.IsNotFound(err) {
				return apperr.LostRace("subscription")
			}
		}
		if err != nil {
			return fmt.Errorf("save subscription: %w", err)
		}
		if err := s.evidence(ctx, tx, row.ID, consentevidence.EventSIGNUP, source, ip, actor, note, now); err != nil {
			return err
		}
	}
	return s.sendConfirmation(ctx, tx, sub, now)
}

// subscriberFor returns the subscriber of addr, creating it (with name) when there is none.
func (s *Service) subscriberFor(ctx context.Context, tx *ent.Client, addr, name string) (*ent.Subscriber, error) {
	sub, err := tx.Subscriber.Query().Where(subscriber.Email(addr)).Only(ctx)
	if err == nil {
		if name != "" && sub.Name == "" {
			return tx.Subscriber.UpdateOne(sub).SetName(name).Save(ctx)
		}
		return sub, nil
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("read subscriber: %w", err)
	}
	c := tx.Subscriber.Create().SetEmail(addr).SetName(name)
	// Link the account with this address, if there is one (a fact, read as the system).
	if u, err := tx.User.Query().Where(user.Email(addr)).Only(viewer.ForFacts(ctx)); err == nil {
		c.SetUserID(u.ID)
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("read user: %w", err)
	}
	if v := viewer.FromContext(ctx); access.CanManageOwnSubscriptions(v) && v.Email == addr {
		c.SetUserID(pulid.ID(v.UserID))
	}
	sub, err = c.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create subscriber: %w", err)
	}
	return sub, nil
}

// sendConfirmation queues the confirmation email of sub's subscriptions waiting for it,
// with a new link, unless one was sent within ConfirmEvery (that link, still valid,
// confirms them all) or the address is blocked (bounced, complained, staff).
func (s *Service) sendConfirmation(ctx context.Context, tx *ent.Client, sub *ent.Subscriber, now time.Time) error {
	pending, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberID(sub.ID), newslettersubscription.StatusEQ(unconfirmed)).
		QueryList().Order(ent.Asc(mailinglist.FieldName)).All(viewer.ForFacts(ctx))
	if err != nil {
		return fmt.Errorf("read pending lists: %w", err)
	}
	if len(pending) == 0 {
		return nil
	}
	if sub.ConfirmSentAt != nil && now.Sub(*sub.ConfirmSentAt) < ConfirmEvery && sub.ConfirmUsedAt == nil {
		return nil
	}
	if b, err := blocked(ctx, tx, sub.Email); err != nil || b {
		return err
	}
	linkSecret := secret.New(confirmPrefix)
	sub, err = tx.Subscriber.UpdateOne(sub).SetConfirmTokenHash(secret.Hash(linkSecret)).SetConfirmSentAt(now).
		SetConfirmExpiresAt(now.Add(ConfirmTTL)).ClearConfirmUsedAt().Save(ctx)
	if err != nil {
		return fmt.Errorf("save confirmation link: %w", err)
	}
	names := make([]string, len(pending))
	for i, l := range pending {
		names[i] = l.Name
	}
	return s.cfg.Notifier.NewsletterConfirm(ctx, tx, notify.Recipient{Email: sub.Email, Name: sub.Name}, notify.NewsletterConfirmData{
		Name: sub.Name, Email: sub.Email, Lists: names, URL: s.confirmURL(linkSecret), ValidDays: int(ConfirmTTL / (24 * time.Hour)),
	}, fmt.Sprintf("newsletter_confirm:%s:%d", sub.ID, now.UnixNano()))
}

// evidence appends one consent record of subscription id: a signup or attestation records
// the newsletter text staff published last (internal/consent), or the configured text
// while they have published none.
func (s *Service) evidence(ctx context.Context, tx *ent.Client, id pulid.ID, event consentevidence.Event, source Source, ip, actor, note string, at time.Time) error {
	c := tx.ConsentEvidence.Create().SetPurpose(vocab.ConsentNewsletter).SetSubscriptionID(id).SetEvent(event).SetSource(source).SetAt(at).
		SetIP(clip(ip, 64)).SetActorID(actor).SetNote(note)
	if event != consentevidence.EventCONFIRMATION {
		t, err := consent.Current(ctx, tx, vocab.ConsentNewsletter)
		if err != nil {
			return err
		}
		if t != nil {
			c.SetConsentText(t.Body).SetConsentVersion(consent.Version(t)).SetConsentTextID(t.ID)
		} else {
			c.SetConsentText(s.ConsentText()).SetConsentVersion(s.ConsentVersion())
		}
	}
	if _, err := c.Save(ctx); err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return nil
}

// ConfirmView is what the confirmation page shows before its button is pressed.
type ConfirmView struct {
	Email string
	Lists []string
	// Problem says why the link cannot be used ("" when it can).
	Problem string
}

// DescribeConfirmation reads the link of a secret without using it up.
func (s *Service) DescribeConfirmation(ctx context.Context, linkSecret string) (ConfirmView, error) {
	sys := viewer.ForFacts(ctx)
	sub, err := s.confirmSubscriber(sys, s.cfg.Client, linkSecret)
	if err != nil {
		if ue, ok := apperr.AsUserErrors(err); ok {
			return ConfirmView{Problem: ue[0].Message}, nil
		}
		return ConfirmView{}, err
	}
	lists, err := sub.QuerySubscriptions().Where(newslettersubscription.StatusEQ(unconfirmed)).QueryList().Order(ent.Asc(mailinglist.FieldName)).
		Select(mailinglist.FieldName).Strings(sys)
	if err != nil {
		return ConfirmView{}, fmt.Errorf("read pending lists: %w", err)
	}
	v := ConfirmView{Email: sub.Email, Lists: lists}
	if len(lists) == 0 {
		v.Problem = "There is nothing left to confirm for this address."
	}
	return v, nil
}

// confirmSubscriber finds the subscriber of a confirmation secret, refusing a malformed,
// unknown, used or expired one with a user error on "token".
func (s *Service) confirmSubscriber(ctx context.Context, tx *ent.Client, linkSecret string) (*ent.Subscriber, error) {
	linkSecret = strings.TrimSpace(linkSecret)
	bad := apperr.Invalid(apperr.CodeNotFound, "This confirmation link is not valid. Subscribe again to get a new one.", check.Path("token")...)
	if !secret.Plausible(linkSecret, confirmPrefix) {
		return nil, bad
	}
	sub, err := tx.Subscriber.Query().Where(subscriber.ConfirmTokenHash(secret.Hash(linkSecret))).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, bad
	case err != nil:
		return nil, fmt.Errorf("read confirmation link: %w", err)
	case sub.ConfirmUsedAt != nil:
		return nil, apperr.Invalid(apperr.CodeAlreadyUsed, "This confirmation link has been used already: your subscription is confirmed.", check.Path("token")...)
	case sub.ConfirmExpiresAt == nil || !s.now().Before(*sub.ConfirmExpiresAt):
		return nil, apperr.Invalid(apperr.CodeExpired, "This confirmation link has expired. Subscribe again to get a new one.", check.Path("token")...)
	}
	return sub, nil
}

// Confirm uses a confirmation link: it confirms every subscription of its address waiting
// for confirmation (CONFIRMATION evidence with time and client address), lifts a
// suppression for having left every list, and returns the lists' names. The link works
// once (a conditional update claims it). source is where it was confirmed (FORM: the
// page; API: the mutation). Like Subscribe, it writes as the system.
func (s *Service) Confirm(ctx context.Context, tx *ent.Client, linkSecret, ip string, source Source) ([]string, error) {
	sys := viewer.NewSystemContext(ctx)
	now := s.now()
	sub, err := s.confirmSubscriber(sys, tx, linkSecret)
	if err != nil {
		return nil, err
	}
	n, err := tx.Subscriber.Update().Where(subscriber.ID(sub.ID), subscriber.ConfirmUsedAtIsNil(), subscriber.ConfirmTokenHash(*sub.ConfirmTokenHash)).
		SetConfirmUsedAt(now).Save(sys)
	if err != nil {
		return nil, fmt.Errorf("use confirmation link: %w", err)
	}
	if n == 0 {
		return nil, apperr.Invalid(apperr.CodeAlreadyUsed, "This confirmation link has been used already: your subscription is confirmed.", check.Path("token")...)
	}
	rows, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberID(sub.ID), newslettersubscription.StatusEQ(unconfirmed)).
		WithList().All(sys)
	if err != nil {
		return nil, fmt.Errorf("read pending subscriptions: %w", err)
	}
	var names []string
	for _, r := range rows {
		to, err := Next(r.Status, Confirm)
		if err != nil {
			return nil, apperr.OnField(err, "token")
		}
		if _, err := tx.NewsletterSubscription.UpdateOne(r).Where(newslettersubscription.StatusEQ(r.Status)).SetStatus(to).SetConfirmedAt(now).Save(sys); err != nil {
			if ent.IsNotFound(err) {
				return nil, apperr.LostRace("subscription")
			}
			return nil, fmt.Errorf("confirm subscription: %w", err)
		}
		if err := s.evidence(sys, tx, r.ID, consentevidence.EventCONFIRMATION, source, ip, "", "", now); err != nil {
			return nil, err
		}
		names = append(names, r.Edges.List.Name)
	}
	if len(names) > 0 {
		if err := liftUnsubscribed(sys, tx, s.cfg.Key, sub.Email); err != nil {
			return nil, err
		}
	}
	return names, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
