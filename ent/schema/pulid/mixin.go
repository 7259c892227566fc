package pulid

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// MixinWithPrefix returns a mixin whose id field is a prefixed ULID.
func MixinWithPrefix(prefix string) *Mixin { return &Mixin{prefix: prefix} }

// Mixin defines the id field of a schema as a prefixed ULID.
type Mixin struct {
	mixin.Schema
	prefix string
}

// Fields provides the id field.
func (m Mixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			GoType(ID("")).
			DefaultFunc(func() ID { return New(m.prefix) }).
			Immutable().
			Comment("Opaque, globally unique identifier; its prefix names the type."),
	}
}

// Annotation records the ID prefix of a schema for code generation (node routing).
type Annotation struct {
	Prefix string
}

// Name implements schema.Annotation.
func (Annotation) Name() string { return "PULID" }

// Annotations returns the prefix annotation.
func (m Mixin) Annotations() []schema.Annotation {
	return []schema.Annotation{Annotation{Prefix: m.prefix}}
}
