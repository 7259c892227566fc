package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// nowUTC is the default for record timestamps. Business times (expiries, deadlines) are
// always set by services from their injected clock; these only say when a row was written.
func nowUTC() time.Time { return time.Now().UTC() }

// TimeMixin adds created_at and updated_at.
type TimeMixin struct{ mixin.Schema }

// Fields of the mixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Immutable().
			Default(nowUTC).
			Comment("When the record was created (UTC).").
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Default(nowUTC).
			UpdateDefault(nowUTC).
			Comment("When the record was last changed (UTC).").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}
