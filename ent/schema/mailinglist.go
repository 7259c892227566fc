package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// MailingList is a newsletter list people subscribe to (e.g. the quarterly newsletter).
type MailingList struct{ ent.Schema }

// Mixin of MailingList.
func (MailingList) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mls"), TimeMixin{}}
}

// Fields of MailingList.
func (MailingList) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Unique().
			Comment("Name, e.g. \"Quarterly newsletter\".").
			Annotations(entgql.OrderField("NAME")),
		field.String("slug").NotEmpty().MaxLen(60).Unique().
			Comment("Lower-case letters, digits and hyphens; used by the subscribe form and the archive, e.g. quarterly."),
		field.Text("description").MaxLen(2000).Default("").
			Comment("What the list is for, shown on subscribe forms."),
		field.Enum("visibility").Values("PUBLIC", "PRIVATE").Default("PUBLIC").
			Comment("PUBLIC: anyone may subscribe; PRIVATE: staff add people."),
		field.Bool("archived").Default(false).
			Comment("An archived list keeps its subscriptions but takes no new ones."),
	}
}

// Edges of MailingList.
func (MailingList) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("subscriptions", NewsletterSubscription.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipAll)),
		edge.From("campaigns", Campaign.Type).Ref("lists").
			Comment("Campaigns sent to the list (the other side of Campaign.lists: many to many).").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of MailingList.
func (MailingList) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of MailingList: public lists to anyone (access.FilterVisibleLists); staff manage lists.
func (MailingList) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleLists),
		access.Mutation(access.AllowSystem, access.AllowStaff),
	)
}
