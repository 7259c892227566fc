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

// WorkingGroup is a long-lived group of the coalition (e.g. the Pharmacist Working Group,
// a Delphi expert panel) in one of its five work packages.
type WorkingGroup struct{ ent.Schema }

// Mixin of WorkingGroup.
func (WorkingGroup) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("wgp"), TimeMixin{}}
}

// Fields of WorkingGroup.
func (WorkingGroup) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Unique().
			Comment("Name, e.g. \"Pharmacist Working Group\".").
			Annotations(entgql.OrderField("NAME")),
		field.Enum("work_package").
			Values("DATA_HARMONISATION", "STANDARDS_OF_CARE", "EDUCATION_AND_TRAINING", "POLICY_AND_ADVOCACY", "SCIENTIFIC_EXCELLENCE").
			Comment("The work package the group belongs to.").
			Annotations(entgql.OrderField("WORK_PACKAGE")),
		field.Text("purpose").MaxLen(20000).Default("").
			Comment("What the group is for, in Markdown (see purposeHtml)."),
		field.Enum("visibility").Values("PUBLIC", "INTERNAL").Default("INTERNAL").
			Comment("PUBLIC: listed with its members' names and organisations; INTERNAL: members and staff only."),
		field.Bool("archived").Default(false).
			Comment("An archived group keeps its history but takes no new members or meetings."),
	}
}

// Edges of WorkingGroup.
func (WorkingGroup) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Membership.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.To("meetings", Meeting.Type).
			Comment("The group's meetings (as visible to the viewer).").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.From("campaigns", Campaign.Type).Ref("groups").
			Comment("Newsletter campaigns sent to the group's members (the other side of Campaign.groups).").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of WorkingGroup.
func (WorkingGroup) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of WorkingGroup: public groups to anyone; internal groups to staff and to the
// people with a membership of them (access.FilterVisibleGroups); staff manage groups.
func (WorkingGroup) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleGroups),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageWorkingGroups)),
	)
}
