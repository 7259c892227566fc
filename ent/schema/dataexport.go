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

// DataExport is a request for a copy of everything the service holds about a person
// ("my data"): the privacy.exports job builds the ZIP, emails a single-use link and deletes
// the file after the download or when the link expires.
type DataExport struct{ ent.Schema }

// Mixin of DataExport.
func (DataExport) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("dex"), TimeMixin{}}
}

// Fields of DataExport.
func (DataExport) Fields() []ent.Field {
	return []ent.Field{
		field.String("person_id").GoType(pulid.ID("")).Immutable().Comment("Whose data the export holds."),
		field.String("requested_by_id").GoType(pulid.ID("")).Immutable().
			Comment("Who asked: the person, or a staff member on their behalf.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("status").Values("QUEUED", "READY", "DOWNLOADED", "EXPIRED").Default("QUEUED").
			Comment("QUEUED until the job has built the file; READY while the emailed link works; DOWNLOADED or EXPIRED once the file is deleted."),
		field.String("token_hash").Optional().Nillable().Unique().Sensitive().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("SHA-256 of the download link's secret (hex); set when the file is ready."),
		field.String("file").MaxLen(200).Default("").Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The ZIP's file name under DATA_DIR/exports while it exists."),
		field.Int64("size").Default(0).Comment("The ZIP's size in bytes."),
		field.Time("ready_at").Optional().Nillable().Comment("When the file was built and the link emailed (UTC)."),
		field.Time("expires_at").Optional().Nillable().Comment("When the link stops working and the file is deleted (UTC)."),
		field.Time("downloaded_at").Optional().Nillable().Comment("When the file was downloaded (UTC); the link works once."),
	}
}

// Edges of DataExport.
func (DataExport) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("person", User.Type).Field("person_id").Unique().Required().Immutable(),
		edge.To("requested_by", User.Type).Field("requested_by_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of DataExport.
func (DataExport) Indexes() []ent.Index {
	return []ent.Index{
		index.Edges("person"),
		index.Edges("requested_by"),
		// At most one export per person waiting to be built: a second request finds it.
		index.Fields("person_id").Unique().Annotations(entsql.IndexWhere("status = 'QUEUED'")).StorageKey("dataexport_one_queued"),
		index.Fields("status", "expires_at"),
	}
}

// Annotations of DataExport.
func (DataExport) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of DataExport: the person and staff read it (access.FilterOwnDataExports); the
// privacy service writes it for whoever access.CanExportPersonalData allows
// (access.AllowDataExportRequest); the job and the download page as the system.
func (DataExport) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnDataExports),
		access.Mutation(access.AllowSystem, access.AllowDataExportRequest),
	)
}
