package access

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Consent (internal/consent).
//
// Anyone reads the published consent texts. Staff publish new versions
// (CanManageConsentTexts) and record a person's consent given elsewhere, with a reason
// (CanRecordConsent) or withdraw it on their behalf, with a reason (CanWithdrawConsentFor).
// A signed-in person reads their own consent records (their own
// purposes' and their newsletter subscriptions'), gives and withdraws their own.

// CanManageConsentTexts reports whether v may publish consent texts: staff and the system.
func CanManageConsentTexts(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }

// CanRecordConsent reports whether v may record consent on a person's behalf (a paper
// form, an email): staff and the system. The service requires a reason.
func CanRecordConsent(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }

// CanWithdrawConsentFor reports whether v may withdraw a person's consent on their behalf
// (a request by post or by phone): staff and the system. The service requires a reason.
func CanWithdrawConsentFor(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }

// CanManageOwnConsent reports whether v may give, withdraw and read their own consent:
// any signed-in person.
func CanManageOwnConsent(v viewer.Viewer) bool { return v.Kind == viewer.User && v.UserID != "" }

// CurrentConsent is the predicate (on ConsentEvidence) of a consent to purpose that counts
// now: not withdrawn, and given on a staff-published text that has not lapsed (a later
// version asked again). Consent needs a published text: a purpose without one has no
// current consent.
func CurrentConsent(purpose string) entql.P {
	return entql.And(entql.FieldEQ("purpose", purpose), entql.FieldNil("withdrawn_at"),
		entql.HasEdgeWith("text", entql.FieldNil("lapsed_at")))
}

// hasCurrentConsent is the predicate (on User) of a person with a current consent to purpose.
func hasCurrentConsent(purpose string) entql.P {
	return entql.HasEdgeWith("consents", CurrentConsent(purpose))
}

// PlacementContacts is the predicate (on User) of the people a trainee traineeID needs to
// organise their visit with: the coordinators of a host centre where they hold an ACCEPTED
// or CONFIRMED placement. The placement contract is the legal basis (Art. 6(1)(b)), so it
// does not depend on the coordinators' HOST_CONTACT consent: the trainee sees their name
// (FilterVisibleUsers, hence every path, node(id:) included) and their email address
// (CanSeeContactEmail). An offer not yet accepted, a declined, lapsed or cancelled
// placement and a completed one show nothing.
func PlacementContacts(traineeID string) entql.P {
	return entql.HasEdgeWith("coordinated_centres", entql.HasEdgeWith("placements", entql.And(
		entql.FieldEQ("trainee_id", traineeID),
		entql.Or(entql.FieldEQ("status", "ACCEPTED"), entql.FieldEQ("status", "CONFIRMED")))))
}

// hostContacts is the predicate (on User) of the host-centre coordinators a signed-in
// viewer v sees as contacts: those who consent to being shown (HOST_CONTACT), and, whatever
// the consent, those of a centre where v is placed (PlacementContacts).
func hostContacts(v viewer.Viewer) entql.P {
	return entql.Or(
		entql.And(entql.HasEdge("coordinated_centres"), hasCurrentConsent("HOST_CONTACT")),
		PlacementContacts(v.UserID))
}

// ownConsent is the predicate of v's consent records: their own purposes' and their
// newsletter subscriptions'.
func ownConsent(v viewer.Viewer) entql.P {
	return entql.Or(entql.FieldEQ("user_id", v.UserID), entql.HasEdgeWith("subscription", ownSubscription(v)))
}

// FilterOwnConsent narrows ConsentEvidence reads to the viewer's own records.
var FilterOwnConsent = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterOrNothing(ctx, q, ownConsent)
})

// AllowOwnConsentCreate lets a signed-in person append consent records: for a newsletter
// subscription (the service checks the subscription is theirs: a rule cannot follow the
// edge on create), or for their own purposes, given by themself (GIVEN) and for nobody else.
var AllowOwnConsentCreate = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !CanManageOwnConsent(v) || !m.Op().Is(ent.OpCreate) {
		return privacy.Skip
	}
	user, ok := m.Field("user_id")
	if !ok {
		if _, ok := m.Field("subscription_id"); ok {
			return privacy.Allow
		}
		return privacy.Skip
	}
	if event, _ := m.Field("event"); asString(user) == v.UserID && asString(event) == "GIVEN" {
		return privacy.Allow
	}
	return privacy.Skip
})

// AllowOwnConsentWithdrawal lets a signed-in person update (withdraw, see
// DenyUpdateButWithdrawal) their own consent records only.
var AllowOwnConsentWithdrawal = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !CanManageOwnConsent(v) || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
		return privacy.Skip
	}
	f, ok := filterOf(m)
	if !ok {
		return privacy.Denyf("mutation %T cannot be filtered", m)
	}
	f.Where(ownConsent(v))
	return privacy.Allow
})

// DenyUpdateButWithdrawal keeps consent records append-only: an update may only set
// withdrawn_at, whoever asks.
var DenyUpdateButWithdrawal = privacy.MutationRuleFunc(func(_ context.Context, m ent.Mutation) error {
	if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
		return privacy.Skip
	}
	for _, f := range m.Fields() {
		if f != "withdrawn_at" {
			return privacy.Denyf("%s is append-only but for its withdrawal (%s)", m.Type(), f)
		}
	}
	if len(m.ClearedFields()) > 0 {
		return privacy.Denyf("%s: a withdrawal cannot be undone", m.Type())
	}
	return privacy.Skip
})

// FilterVisibleAffiliations narrows Affiliation reads (staff are allowed before it) to the
// viewer's own and, for a signed-in viewer, those of the people who consent to a directory
// profile (DIRECTORY_PROFILE); anonymous viewers see none.
var FilterVisibleAffiliations = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterOrNothing(ctx, q, func(v viewer.Viewer) entql.P {
		return entql.Or(entql.FieldEQ("user_id", v.UserID), entql.HasEdgeWith("user", hasCurrentConsent("DIRECTORY_PROFILE")))
	})
})
