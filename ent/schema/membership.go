package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
)

// Membership is a person's place in a working group: a role for a term. Whether it is
// active follows from the invitee's answer and the dates (term, early end), never from a
// hand-set status, so a membership whose term has ended is no longer active without
// anyone touching it.
type Membership struct{ ent.Schema }

// Mixin of Membership.
func (Membership) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mbr"), TimeMixin{}}
}

// Fields of Membership.
func (Membership) Fields() []ent.Field {
	return []ent.Field{
		field.String("group_id").GoType(pulid.ID("")).Immutable().Comment("The working group."),
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("The member."),
		field.String("organisation_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The organisation the member represents in the group, if any."),
		field.Enum("role").Values("CHAIR", "CO_CHAIR", "MEMBER", "OBSERVER", "SECRETARIAT").
			Comment("Role in the group; at most one CHAIR at a time."),
		field.String("term_start").GoType(vocab.Date("")).Validate(vocab.ValidateDate).
			Comment("First day of the term.").Annotations(entgql.Type("Date")),
		field.String("term_end").GoType(vocab.Date("")).Validate(vocab.ValidateDate).
			Comment("Last day of the term (after term_start).").Annotations(entgql.Type("Date")),
		field.Enum("answer").Values("PENDING", "ACCEPTED", "DECLINED").Default("PENDING").
			Comment("The invitee's answer to the invitation."),
		field.Time("answered_at").Optional().Nillable().Comment("When the invitee answered (UTC)."),
		field.String("ended_on").GoType(vocab.Date("")).Optional().Nillable().Validate(vocab.ValidateDate).
			Comment("Set when staff end the membership early: its last day.").Annotations(entgql.Type("Date")),
		field.String("end_reason").MaxLen(500).Default("").Comment("Why staff ended it early."),
		field.String("invited_by_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("Staff member who sent the invitation.").Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of Membership.
func (Membership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("group", WorkingGroup.Type).Ref("memberships").Field("group_id").Unique().Required().Immutable(),
		edge.From("user", User.Type).Ref("memberships").Field("user_id").Unique().Required().Immutable(),
		edge.To("organisation", Organisation.Type).Field("organisation_id").Unique().
			Comment("The organisation represented."),
	}
}

// Indexes of Membership.
func (Membership) Indexes() []ent.Index {
	return []ent.Index{
		index.Edges("group"),
		index.Edges("user"),
		index.Fields("group_id", "role"),
		index.Fields("term_end"),
	}
}

// Annotations of Membership.
func (Membership) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Membership: a person's own memberships (any state) to them; current members
// of public groups to signed-in users, and their chairs and co-chairs to anyone; current
// members of a group to its other current members; everything to staff
// (access.FilterVisibleMemberships, evaluated on the request's date). Staff and the system
// write; the invitee may only answer their own pending invitation.
func (Membership) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleMemberships),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageWorkingGroups), access.AllowInviteeAnswer),
	)
}
