package access

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Newsletter lists and subscribers.
//
// Staff manage lists, subscribers, imports, exports, suppression and erasure
// (CanManageNewsletter). Anyone reads PUBLIC, unarchived lists (and subscribes to them
// through the double opt-in, whose only credential is the emailed link: those flows run as
// the system, like sign-in links). A signed-in person reads and changes their own
// subscriptions (the Subscriber row with their user id) without an email round trip.

// CanManageNewsletter reports whether v may manage lists, subscribers and suppression.
func CanManageNewsletter(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// CanManageOwnSubscriptions reports whether v may see and change their own subscriptions
// through the API: any signed-in person (their address was proven by signing in).
func CanManageOwnSubscriptions(v viewer.Viewer) bool { return v.Kind == viewer.User && v.UserID != "" }

// PublicList is the predicate of the lists anyone sees and may subscribe to.
var PublicList = entql.And(entql.FieldEQ("visibility", "PUBLIC"), entql.FieldEQ("archived", false))

// FilterVisibleLists narrows MailingList reads (staff are allowed before it): PUBLIC,
// unarchived lists to anyone; a signed-in person also sees the lists they have a
// subscription to (a PRIVATE list staff added them to).
var FilterVisibleLists = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	if v := viewer.FromContext(ctx); CanManageOwnSubscriptions(v) {
		f.Where(entql.Or(PublicList, entql.HasEdgeWith("subscriptions", ownSubscription(v))))
		return privacy.Allow
	}
	f.Where(PublicList)
	return privacy.Allow
})

// OwnSubscriber is the predicate of the Subscriber row of a signed-in person: linked to
// them, or with the address they signed in with (proven by signing in), linked or not yet.
func OwnSubscriber(v viewer.Viewer) entql.P {
	if v.Email == "" {
		return entql.FieldEQ("user_id", v.UserID)
	}
	return entql.Or(entql.FieldEQ("user_id", v.UserID), entql.FieldEQ("email", v.Email))
}

// ownSubscription is the predicate of a subscription whose subscriber is v's.
func ownSubscription(v viewer.Viewer) entql.P {
	return entql.HasEdgeWith("subscriber", OwnSubscriber(v))
}

// FilterOwnSubscriber narrows Subscriber reads to the viewer's own row (none for anonymous).
var FilterOwnSubscriber = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterOrNothing(ctx, q, OwnSubscriber)
})

// FilterOwnSubscriptions narrows Subscription reads to the viewer's own.
var FilterOwnSubscriptions = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterOrNothing(ctx, q, ownSubscription)
})

// filterOrNothing narrows q to own(user) for a signed-in viewer and to nothing for anyone
// else (a filter, not a denial, so a nested edge reads as empty).
func filterOrNothing(ctx context.Context, q ent.Query, own func(viewer.Viewer) entql.P) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	if v := viewer.FromContext(ctx); CanManageOwnSubscriptions(v) {
		f.Where(own(v))
	} else {
		f.Where(nothing)
	}
	return privacy.Allow
}

// AllowOwnSubscriberWrite lets a signed-in person create the Subscriber row of their own
// address, linked to themself, and update their own row (OwnSubscriber); nothing else.
var AllowOwnSubscriberWrite = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !CanManageOwnSubscriptions(v) {
		return privacy.Skip
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		email, _ := m.Field("email")
		user, _ := m.Field("user_id")
		if email == v.Email && user != nil && asString(user) == v.UserID {
			return privacy.Allow
		}
		return privacy.Skip
	case m.Op().Is(ent.OpUpdateOne | ent.OpUpdate):
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(OwnSubscriber(v))
		return privacy.Allow
	}
	return privacy.Skip
})

// AllowOwnSubscriptionWrite lets a signed-in person create subscriptions (the service
// checks first that the subscriber is theirs: a rule cannot follow the edge on create) and
// update their own; deletes are not theirs.
var AllowOwnSubscriptionWrite = createNarrowOthers(ownSubscription)

// FilterOwnSuppression narrows Suppression reads to the signed-in person's own address
// (their own data: whether and why their address is suppressed); anonymous viewers none.
var FilterOwnSuppression = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterOrNothing(ctx, q, func(v viewer.Viewer) entql.P {
		if v.Email == "" {
			return nothing
		}
		return entql.FieldEQ("email", v.Email)
	})
})

// AllowOwnUnsubscribedSuppression lets a signed-in person suppress their own address as
// unsubscribed from everything (leaving their last list) and lift that suppression
// (joining a list again); other reasons (bounces, complaints, staff, erasure) are not theirs.
var AllowOwnUnsubscribedSuppression = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !CanManageOwnSubscriptions(v) || v.Email == "" {
		return privacy.Skip
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		email, _ := m.Field("email")
		reason, _ := m.Field("reason")
		if email == v.Email && asString(reason) == "UNSUBSCRIBED" {
			return privacy.Allow
		}
		return privacy.Skip
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(entql.And(entql.FieldEQ("email", v.Email), entql.FieldEQ("reason", "UNSUBSCRIBED")))
		return privacy.Allow
	}
	return privacy.Skip
})

// createNarrowOthers is createByRoleNarrowOthers for any signed-in person.
func createNarrowOthers(own func(viewer.Viewer) entql.P) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if !CanManageOwnSubscriptions(v) {
			return privacy.Skip
		}
		if m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
			return privacy.Skip
		}
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(own(v))
		return privacy.Allow
	})
}

// asString turns a field value of a string-based type (pulid.ID) into a string.
func asString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case interface{ String() string }:
		return s.String()
	}
	return ""
}
