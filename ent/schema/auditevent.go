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

// AuditEvent records who did what to which object, when and from which request. It is
// append-only: no API changes or deletes it, the privacy policy denies updates and deletes
// even to the system, and a database trigger refuses them too (internal/db), except the
// deletion of events a signed checkpoint (AuditCheckpoint) already covers. Events form one
// hash chain per database (seq, prev_hash, hash; internal/audit), which `coalition audit
// verify` checks. The hash covers a salted digest of the personal fields (actor_email, ip,
// details), not the fields themselves, so an erasure may blank them (and the salt); the
// trigger allows that one update.
type AuditEvent struct{ ent.Schema }

// Mixin of AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("aud")}
}

// Fields of AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Time("occurred_at").Immutable().
			Comment("When it happened (UTC).").
			Annotations(entgql.OrderField("OCCURRED_AT")),
		field.String("actor_id").Optional().Immutable().
			Comment("User who acted; empty for the system or an anonymous caller."),
		field.String("actor_email").Annotations(personal.Data()).Optional().Immutable().MaxLen(254).
			Comment("The actor's address at the time, kept if the user is later changed."),
		field.String("action").NotEmpty().Immutable().MaxLen(100).
			Comment("What happened, e.g. user.create, auth.sign_in, api_token.revoke.").
			Annotations(entgql.OrderField("ACTION")),
		field.String("object_type").Optional().Immutable().MaxLen(64).Comment("Type of the object acted on, e.g. User."),
		field.String("object_id").Optional().Immutable().MaxLen(64).Comment("ID of the object acted on."),
		field.String("request_id").Optional().Immutable().MaxLen(64).Comment("Request that caused it (matches the access log)."),
		field.String("ip").Annotations(personal.Data()).Optional().Immutable().MaxLen(64).Comment("Client address of that request."),
		field.JSON("details", map[string]any{}).Optional().Immutable().
			Comment("Extra facts (changed field names, reasons); never secrets.").
			Annotations(entgql.Type("Map")),
		field.String("salt").Optional().MaxLen(64).Sensitive().
			Comment("Random per-event salt (hex) of personal_digest; emptied with the personal fields on erasure, so the digest can no longer be tested against a guessed address.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("personal_digest").Optional().Immutable().MaxLen(64).
			Comment("SHA-256 (hex) over salt, actor_email, ip and details: what the chain's hash covers instead of those fields (chain v2), so an erasure can blank them and the chain still verifies. Empty for v1 events.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int64("seq").Optional().Nillable().Immutable().Positive().
			Comment("Position in the hash chain (1, 2, …; empty for events written before the chain existed).").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("prev_hash").Optional().Immutable().MaxLen(64).
			Comment("Hash of the previous event in the chain (hex SHA-256; empty for the first).").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("hash").Optional().Immutable().MaxLen(64).
			Comment("SHA-256 (hex) of this event's canonical encoding, prev_hash included.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("occurred_at"),
		index.Fields("actor_id", "occurred_at"),
		index.Fields("object_id"),
		index.Fields("seq").Unique(),
	}
}

// Annotations of AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of AuditEvent: staff read; only the system appends; nobody updates or deletes.
func (AuditEvent) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff),
		access.Mutation(access.DenyUpdateOrDelete, access.AllowSystem),
	)
}
