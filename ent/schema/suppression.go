package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/personal"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// Suppression is an address newsletter mail must never go to: unsubscribed from
// everything, hard-bounced, complained, suppressed by staff, or erased (then only its hash
// is kept).
type Suppression struct{ ent.Schema }

// Mixin of Suppression.
func (Suppression) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("sup"), TimeMixin{}}
}

// Fields of Suppression.
func (Suppression) Fields() []ent.Field {
	return []ent.Field{
		field.String("email_hash").NotEmpty().MaxLen(64).Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("SHA-256 (hex) of the normalised address: what the send-time check looks up."),
		field.String("email").Annotations(personal.Data()).MaxLen(254).Default("").
			Comment("The address; empty when the person was erased (only the hash is kept)."),
		field.Enum("reason").Values("UNSUBSCRIBED", "HARD_BOUNCE", "COMPLAINT", "STAFF", "ERASED").
			Annotations(entgql.OrderField("REASON")),
		field.String("detail").MaxLen(1000).Default("").
			Comment("What the relay or staff said (e.g. the SMTP reply)."),
	}
}

// Indexes of Suppression.
func (Suppression) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at")}
}

// Annotations of Suppression.
func (Suppression) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Suppression: staff and the system (the unsubscribe link, webhook and send-time
// checks); a signed-in person reads their own address's row, and only suppresses their own address as unsubscribed (leaving
// every list) and lifts that (access.AllowOwnUnsubscribedSuppression).
func (Suppression) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnSuppression),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowOwnUnsubscribedSuppression),
	)
}
