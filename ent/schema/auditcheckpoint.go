package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// AuditCheckpoint is a signed statement that the audit chain's events up to a position
// were pruned (retention) and what the last of them hashed to, so the rest of the chain
// can still be verified from there. Append-only like the events: the database refuses to
// delete an event no checkpoint covers (internal/db).
type AuditCheckpoint struct{ ent.Schema }

// Mixin of AuditCheckpoint.
func (AuditCheckpoint) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ack")}
}

// Fields of AuditCheckpoint.
func (AuditCheckpoint) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Comment("When the checkpoint was made (UTC)."),
		field.Int64("through_seq").Positive().Immutable().
			Comment("Position of the last event it covers: events up to here may be deleted."),
		field.String("through_hash").NotEmpty().MaxLen(64).Immutable().
			Comment("Hash of that event: the prev_hash of the first event kept."),
		field.Int64("pruned_count").NonNegative().Immutable().
			Comment("Events deleted under this and earlier checkpoints (all of them, legacy ones included)."),
		field.Time("cutoff").Immutable().Comment("Events that occurred before this time were due for deletion."),
		field.String("signature").NotEmpty().MaxLen(128).Immutable().
			Comment("HMAC-SHA256 (hex) of the checkpoint's canonical encoding under the audit key."),
	}
}

// Indexes of AuditCheckpoint.
func (AuditCheckpoint) Indexes() []ent.Index {
	return []ent.Index{index.Fields("through_seq").Unique()}
}

// Annotations of AuditCheckpoint.
func (AuditCheckpoint) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of AuditCheckpoint: the system writes and reads; nobody updates or deletes.
func (AuditCheckpoint) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem),
		access.Mutation(access.DenyUpdateOrDelete, access.AllowSystem),
	)
}
