package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/personal"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// Subscriber is one email address that subscribed to newsletters (one row per address, in
// check.NormaliseEmail's form), optionally linked to the user account with that address.
type Subscriber struct{ ent.Schema }

// Mixin of Subscriber.
func (Subscriber) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("sbr"), TimeMixin{}}
}

// Fields of Subscriber.
func (Subscriber) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Annotations(personal.Data()).NotEmpty().MaxLen(254).Unique().Immutable().
			Comment("The address, normalised (check.NormaliseEmail).").
			Annotations(entgql.OrderField("EMAIL")),
		field.String("name").Annotations(personal.Data()).MaxLen(200).Default("").
			Comment("The name given at signup (one line)."),
		field.String("user_id").GoType(pulid.ID("")).Optional().Nillable().Unique().
			Comment("The user account with this address, if any."),
		field.String("confirm_token_hash").Optional().Nillable().Unique().Sensitive().
			Comment("SHA-256 of the pending confirmation link's secret (hex)."),
		field.Time("confirm_sent_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("When the last confirmation email was queued (at most one an hour)."),
		field.Time("confirm_expires_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("When the confirmation link stops working (7 days after it was sent)."),
		field.Time("confirm_used_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("When the confirmation link was used (it works once)."),
	}
}

// Edges of Subscriber.
func (Subscriber) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Unique().Field("user_id").
			Comment("The user account with this address, if any."),
		edge.To("subscriptions", NewsletterSubscription.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of Subscriber.
func (Subscriber) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at")}
}

// Annotations of Subscriber.
func (Subscriber) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Subscriber: staff; a signed-in person reads and writes their own row
// (access.FilterOwnSubscriber, access.AllowOwnSubscriberWrite); the anonymous subscribe,
// confirm and unsubscribe flows, whose only credential is a link's secret, as the system.
func (Subscriber) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnSubscriber),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowOwnSubscriberWrite),
	)
}
