package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// NewsletterSubscription is a subscriber on a list (not "Subscription": GraphQL reserves that
// name for its root subscription type), UNCONFIRMED → CONFIRMED → UNSUBSCRIBED
// (newsletter.Next decides every step).
type NewsletterSubscription struct{ ent.Schema }

// Mixin of NewsletterSubscription.
func (NewsletterSubscription) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("sbs"), TimeMixin{}}
}

// Fields of NewsletterSubscription.
func (NewsletterSubscription) Fields() []ent.Field {
	return []ent.Field{
		field.String("subscriber_id").GoType(pulid.ID("")).Immutable(),
		field.String("list_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("status").Values("UNCONFIRMED", "CONFIRMED", "UNSUBSCRIBED").Default("UNCONFIRMED").
			Annotations(entgql.OrderField("STATUS")),
		field.Time("confirmed_at").Optional().Nillable().Comment("When the subscription was last confirmed."),
		field.Time("unsubscribed_at").Optional().Nillable().Comment("When the subscriber left the list."),
	}
}

// Edges of NewsletterSubscription.
func (NewsletterSubscription) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("subscriber", Subscriber.Type).Ref("subscriptions").Field("subscriber_id").Unique().Required().Immutable(),
		edge.From("list", MailingList.Type).Ref("subscriptions").Field("list_id").Unique().Required().Immutable(),
		edge.To("consent", ConsentEvidence.Type).
			Comment("The consent evidence, oldest first: signup, confirmation, attestation.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes of NewsletterSubscription.
func (NewsletterSubscription) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("subscriber_id", "list_id").Unique(),
		index.Fields("list_id", "status"),
	}
}

// Annotations of NewsletterSubscription.
func (NewsletterSubscription) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of NewsletterSubscription: staff; a signed-in person their own subscriptions
// (access.FilterOwnSubscriptions, access.AllowOwnSubscriptionWrite); the token flows as the system.
func (NewsletterSubscription) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnSubscriptions),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowOwnSubscriptionWrite),
	)
}
