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

// HostCentre is the CAR-T centre of a hospital: the public profile trainees read to choose
// where to observe, managed by staff and by the centre's own coordinators.
type HostCentre struct{ ent.Schema }

// Mixin of HostCentre.
func (HostCentre) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("hcn"), TimeMixin{}}
}

// Fields of HostCentre.
func (HostCentre) Fields() []ent.Field {
	return []ent.Field{
		field.String("organisation_id").GoType(pulid.ID("")).Immutable().
			Comment("The hospital the centre belongs to."),
		field.String("name").NotEmpty().MaxLen(200).
			Comment("Name of the centre, e.g. \"CAR-T Unit, Department of Haematology\".").
			Annotations(entgql.OrderField("NAME")),
		field.String("city").NotEmpty().MaxLen(100).Comment("City where observers go.").
			Annotations(entgql.OrderField("CITY")),
		field.String("country").Validate(vocab.ValidateCountry).
			Comment("ISO 3166-1 alpha-2 country code.").
			Annotations(entgql.OrderField("COUNTRY")),
		field.JSON("languages", []string{}).Default([]string{}).
			Comment("Languages spoken with observers (ISO 639-1 codes, e.g. en, fr)."),
		field.Bool("adult").Default(false).Comment("Treats adult patients."),
		field.Bool("paediatric").Default(false).Comment("Treats paediatric patients."),
		field.JSON("focus_areas", []vocab.FocusArea{}).Default([]vocab.FocusArea{}).
			Comment("Clinical and professional focus areas.").
			Annotations(entgql.Type("[FocusArea!]")),
		field.String("accreditation").MaxLen(100).Default("").
			Comment("Accreditation, e.g. JACIE; empty if none."),
		field.String("accreditation_expires_on").GoType(vocab.Date("")).Optional().Nillable().
			Validate(vocab.ValidateDate).
			Comment("When the accreditation expires.").
			Annotations(entgql.Type("Date")),
		field.JSON("products", []string{}).Default([]string{}).
			Comment("CAR-T products administered, e.g. tisagenlecleucel."),
		field.Int("annual_patients").NonNegative().Default(0).
			Comment("CAR-T patients treated per year.").
			Annotations(entgql.OrderField("ANNUAL_PATIENTS")),
		field.Text("description").MaxLen(20000).Default("").
			Comment("Profile for trainees, in Markdown (see descriptionHtml for the sanitised HTML)."),
		field.Bool("accepting_observers").Default(false).
			Comment("Whether the centre currently takes observers."),
	}
}

// Edges of HostCentre.
func (HostCentre) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("slots", HostSlot.Type).
			Comment("Slots the centre offers in calls (as visible to the viewer).").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.From("organisation", Organisation.Type).Ref("host_centres").Field("organisation_id").
			Unique().Required().Immutable(),
		edge.To("coordinators", User.Type).
			Comment("Host-centre coordinators (users with HOST_COORDINATOR). Only their names are shown to other signed-in users; anonymous viewers see none.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.From("placements", Placement.Type).Ref("host_centre").
			Comment("Placements at the centre. Not in the API: the access rules follow it (a trainee placed at the centre sees its coordinators, access.PlacementContacts).").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of HostCentre.
func (HostCentre) Indexes() []ent.Index {
	return []ent.Index{
		index.Edges("organisation"),
		index.Fields("country"),
		index.Fields("accepting_observers"),
	}
}

// Annotations of HostCentre.
func (HostCentre) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of HostCentre: profiles are public, except those of inactive organisations (staff
// only); staff manage them; a coordinator edits the profile of their own centre (not its
// coordinators or organisation).
func (HostCentre) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.NarrowToActiveOrganisation, access.AllowAll),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageDirectory), access.AllowCoordinatorProfileEdit),
	)
}
