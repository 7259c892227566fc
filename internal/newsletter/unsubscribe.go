package newsletter

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The unsubscribe links' holders have no account the service knows: the signed token is
// their only credential (like a sign-in link's secret), so these operations run as the
// system, and only ever for the subscriber the token names.

// PreferenceList is one list on the preferences page.
type PreferenceList struct {
	ID         pulid.ID
	Name       string
	Subscribed bool
}

// Preferences is what the unsubscribe page shows for a token.
type Preferences struct {
	// Email is the address the token is for.
	Email string
	// List is the name of the list the token is for ("" for every list).
	List string
	// Lists are the lists the subscriber is on or was on.
	Lists []PreferenceList
	// Problem says why the token cannot be used ("" when it can).
	Problem string
}

// badToken is the answer to a token that is not valid or names nobody any more (erased):
// the same for both.
var badToken = apperr.Invalid(apperr.CodeNotFound, "This unsubscribe link is not valid. If you still receive our newsletters, use the link in the latest one.")

// tokenSubscriber returns the subscriber and list a token names, read as the system.
func (s *Service) tokenSubscriber(ctx context.Context, tx *ent.Client, token string) (*ent.Subscriber, pulid.ID, error) {
	id, list, err := s.ParseToken(token)
	if err != nil {
		return nil, "", badToken
	}
	sub, err := tx.Subscriber.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, "", badToken
	}
	if err != nil {
		return nil, "", fmt.Errorf("read subscriber: %w", err)
	}
	return sub, list, nil
}

// DescribeUnsubscribe reads what a token's page shows, changing nothing (a GET never
// unsubscribes, so link scanners cannot unsubscribe anyone).
func (s *Service) DescribeUnsubscribe(ctx context.Context, token string) (Preferences, error) {
	return s.describe(ctx, s.cfg.Client, token)
}

// describe is DescribeUnsubscribe read through client: after a change, the caller's
// transaction, so the answer shows the change (a read outside it would not see it yet).
func (s *Service) describe(ctx context.Context, client *ent.Client, token string) (Preferences, error) {
	sys := viewer.ForFacts(ctx)
	sub, list, err := s.tokenSubscriber(sys, client, token)
	if err != nil {
		if ue, ok := apperr.AsUserErrors(err); ok {
			return Preferences{Problem: ue[0].Message}, nil
		}
		return Preferences{}, err
	}
	rows, err := sub.QuerySubscriptions().WithList().All(sys)
	if err != nil {
		return Preferences{}, fmt.Errorf("read subscriptions: %w", err)
	}
	p := Preferences{Email: sub.Email}
	for _, r := range rows {
		p.Lists = append(p.Lists, PreferenceList{ID: r.ListID, Name: r.Edges.List.Name, Subscribed: r.Status != unsubscribed})
		if r.ListID == list {
			p.List = r.Edges.List.Name
		}
	}
	return p, nil
}

// UnsubscribeByToken is the one-click unsubscribe (RFC 8058: a POST with
// List-Unsubscribe=One-Click, and the page's button): it leaves the token's list, or every
// list for a token without one. An address left on no list is suppressed as unsubscribed.
// It takes effect at once for every message not yet handed to the SMTP server, since the
// send-time check reads the subscription and suppression.
func (s *Service) UnsubscribeByToken(ctx context.Context, tx *ent.Client, token string) (Preferences, error) {
	sys := viewer.NewSystemContext(ctx)
	sub, list, err := s.tokenSubscriber(sys, tx, token)
	if err != nil {
		return Preferences{}, err
	}
	var lists []pulid.ID
	if list != "" {
		lists = []pulid.ID{list}
	} else {
		rows, err := sub.QuerySubscriptions().All(sys)
		if err != nil {
			return Preferences{}, fmt.Errorf("read subscriptions: %w", err)
		}
		for _, r := range rows {
			lists = append(lists, r.ListID)
		}
	}
	if err := s.leave(sys, tx, sub, list == "", lists); err != nil {
		return Preferences{}, err
	}
	return s.describe(ctx, tx, token)
}

// SetPreferences is the preferences page's form: the token's subscriber stays on the lists
// in keep and leaves the others they are on (joining needs a new signup).
func (s *Service) SetPreferences(ctx context.Context, tx *ent.Client, token string, keep []pulid.ID) (Preferences, error) {
	sys := viewer.NewSystemContext(ctx)
	sub, _, err := s.tokenSubscriber(sys, tx, token)
	if err != nil {
		return Preferences{}, err
	}
	rows, err := sub.QuerySubscriptions().All(sys)
	if err != nil {
		return Preferences{}, fmt.Errorf("read subscriptions: %w", err)
	}
	var leave []pulid.ID
	for _, r := range rows {
		if !containsID(keep, r.ListID) && r.Status != unsubscribed {
			leave = append(leave, r.ListID)
		}
	}
	if err := s.leave(sys, tx, sub, false, leave); err != nil {
		return Preferences{}, err
	}
	return s.describe(ctx, tx, token)
}

// leave unsubscribes sub from lists and suppresses the address when it is left on none
// (or always, when all is set: the link for every list).
func (s *Service) leave(ctx context.Context, tx *ent.Client, sub *ent.Subscriber, all bool, lists []pulid.ID) error {
	now := s.now()
	for _, l := range lists {
		if err := s.apply(ctx, tx, sub, l, Unsubscribe, now, nil); err != nil {
			return err
		}
	}
	if all {
		_, err := Suppress(ctx, tx, sub.Email, ReasonUnsubscribed, "unsubscribed from every list")
		return err
	}
	return s.suppressIfNoneLeft(ctx, tx, sub)
}

func containsID(ids []pulid.ID, id pulid.ID) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}
