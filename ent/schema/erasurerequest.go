package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// ErasureRequest is a request to erase everything the service holds about a person. A
// person with nothing in progress is erased without approval (QUEUED at once); otherwise
// staff approve (QUEUED) or refuse (REFUSED, with a reason). The privacy.erasures job erases
// QUEUED requests: every domain's Erase in one transaction, then the documents.
type ErasureRequest struct{ ent.Schema }

// Mixin of ErasureRequest.
func (ErasureRequest) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("era"), TimeMixin{}}
}

// Fields of ErasureRequest.
func (ErasureRequest) Fields() []ent.Field {
	return []ent.Field{
		field.String("person_id").GoType(pulid.ID("")).Immutable().Comment("Whom the erasure is about."),
		field.String("requested_by_id").GoType(pulid.ID("")).Immutable().
			Comment("Who asked: the person, or a staff member on their behalf.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("status").Values("PENDING", "QUEUED", "REFUSED", "ERASED").Default("PENDING").
			Comment("PENDING until staff decide; QUEUED once approved (or at once for self-service) until the job has erased the person; REFUSED with a reason; ERASED when done."),
		field.Bool("self_service").Default(false).Immutable().
			Comment("Whether the request needed no approval (nothing in progress for the person)."),
		field.Strings("blockers").Optional().Immutable().
			Comment("Why approval was needed (an application in an open call, an active placement, a role in a working group)."),
		field.String("decided_by_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The staff member who approved or refused.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("decided_at").Optional().Nillable().Comment("When staff approved or refused (UTC)."),
		field.String("reason").MaxLen(2000).Default("").Comment("Staff's reason for a refusal (or note on an approval)."),
		field.Time("erased_at").Optional().Nillable().Comment("When the erasure committed (UTC)."),
		field.Int("rows").Default(0).Comment("How many rows the erasure deleted or anonymised."),
		field.String("last_error").MaxLen(2000).Default("").Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("Why the last attempt failed (for operators); the job tries again."),
	}
}

// Edges of ErasureRequest.
func (ErasureRequest) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("person", User.Type).Field("person_id").Unique().Required().Immutable(),
		edge.To("requested_by", User.Type).Field("requested_by_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of ErasureRequest.
func (ErasureRequest) Indexes() []ent.Index {
	return []ent.Index{
		index.Edges("person"),
		index.Edges("requested_by"),
		// At most one open request per person: a second request finds it.
		index.Fields("person_id").Unique().Annotations(entsql.IndexWhere("status = 'PENDING' OR status = 'QUEUED'")).StorageKey("erasurerequest_one_open"),
		index.Fields("status", "created_at"),
	}
}

// Annotations of ErasureRequest.
func (ErasureRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of ErasureRequest: the person and staff read it (access.FilterOwnErasureRequests);
// the privacy service creates it for whoever access.CanRequestErasure allows
// (access.AllowErasureRequest); staff decide; the job writes as the system.
func (ErasureRequest) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnErasureRequests),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowErasureRequest),
	)
}
