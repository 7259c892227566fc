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
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// User is a person who signs in: a trainee, a host-centre coordinator or coalition staff.
type User struct{ ent.Schema }

// Mixin of User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("usr"), TimeMixin{}}
}

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Annotations(personal.Data()).
			NotEmpty().
			MaxLen(254).
			Unique().
			Comment("Sign-in address, normalised (trimmed, lower-case). Unique.").
			// Private: exposed by a resolver that shows it to the user and staff only.
			Annotations(entgql.OrderField("EMAIL"), entgql.Skip(entgql.SkipType)),
		field.String("name").Annotations(personal.Data()).
			MaxLen(200).
			Default("").
			Comment("Name as shown to others.").
			Annotations(entgql.OrderField("NAME")),
		field.JSON("roles", []viewer.Role{}).
			Default([]viewer.Role{}).
			Comment("What the user may do: STAFF, HOST_COORDINATOR, TRAINEE.").
			Annotations(entgql.Type("[Role!]"), entgql.Skip(entgql.SkipType)),
		field.Bool("disabled").
			Default(false).
			Comment("A disabled user cannot sign in and their sessions and tokens stop working.").
			Annotations(entgql.Skip(entgql.SkipType)),
		field.Time("last_sign_in_at").
			Optional().
			Nillable().
			Comment("When the user last redeemed a sign-in link (UTC).").
			Annotations(entgql.Skip(entgql.SkipType)),
	}
}

// Edges of User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("applications", Application.Type).
			Comment("The person's applications (their own, or all to staff).").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.To("sessions", Session.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("api_tokens", ApiToken.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.To("affiliations", Affiliation.Type).
			Comment("Organisations the person belongs to, with their position.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("memberships", Membership.Type).
			Comment("Working-group memberships (as visible to the viewer).").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.From("coordinated_centres", HostCentre.Type).Ref("coordinators").
			Comment("Host centres the user coordinates.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("conflict_of_interest_declarations", ConflictOfInterestDeclaration.Type).
			Comment("Conflict-of-interest declarations, newest first (as visible to the viewer).").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.From("attended_meetings", Meeting.Type).Ref("attendees").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("meeting_invitations", Meeting.Type).Ref("invitees").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("authored_statements", PolicyStatement.Type).Ref("authors").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("statement_signatures", StatementSignatory.Type).Ref("user").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("consents", ConsentEvidence.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of User.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at")}
}

// Annotations of User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		// WhereInput filters bypass privacy (ARCHITECTURE §6.7): only ordering is offered.
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of User: staff see everyone; a signed-in user sees themself, the people the
// directory shows them (host-centre coordinators) and the people whose working-group
// memberships they may see; anonymous viewers see only the chairs of public groups. Private
// fields (email, roles, sign-in data) are shown to the user and staff only
// (access.CanSeePrivateUserFields). Writes go through services.
func (User) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleUsers),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageUsers)),
	)
}
