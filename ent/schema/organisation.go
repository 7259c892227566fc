package schema

import (
	"fmt"
	"net/url"

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

// Organisation is a member of the coalition's network: a hospital, a society, an industry
// partner, a national body, a patient organisation, an academic institution, a regulator.
type Organisation struct{ ent.Schema }

// Mixin of Organisation.
func (Organisation) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("org"), TimeMixin{}}
}

// Fields of Organisation.
func (Organisation) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).
			Comment("Official name, e.g. \"University Hospital Brno\".").
			Annotations(entgql.OrderField("NAME")),
		field.Enum("kind").
			Values("HOSPITAL", "SOCIETY", "INDUSTRY", "NATIONAL_BODY", "PATIENT_ORGANISATION", "ACADEMIC", "REGULATOR", "OTHER").
			Comment("What sort of organisation it is.").
			Annotations(entgql.OrderField("KIND")),
		field.String("country").Validate(vocab.ValidateCountry).
			Comment("ISO 3166-1 alpha-2 country code, e.g. CZ.").
			Annotations(entgql.OrderField("COUNTRY")),
		field.String("city").MaxLen(100).Default("").Comment("City of its seat."),
		field.String("website").MaxLen(500).Default("").Validate(validateWebsite).
			Comment("Public website (http or https URL); empty if none."),
		field.Bool("active").Default(true).
			Comment("Inactive organisations are kept for history but hidden from the public directory."),
	}
}

// validateWebsite accepts "" or an absolute http(s) URL with a host.
func validateWebsite(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("website must be an http or https URL")
	}
	return nil
}

// Edges of Organisation.
func (Organisation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("host_centres", HostCentre.Type).
			Comment("The CAR-T centres of a hospital.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("affiliations", Affiliation.Type).
			Comment("People who belong to the organisation (visible to staff and to each person).").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("coauthored_statements", PolicyStatement.Type).Ref("coauthors").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("endorsed_statements", PolicyStatement.Type).Ref("endorsers").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of Organisation.
func (Organisation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name", "country").Unique(),
		index.Fields("country"),
		index.Fields("kind"),
	}
}

// Annotations of Organisation.
func (Organisation) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Organisation: the directory is public (inactive entries for staff only); staff
// manage it.
func (Organisation) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterActive),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageDirectory)),
	)
}
