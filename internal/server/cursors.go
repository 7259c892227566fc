package server

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// cursorType is the GraphQL scalar of the connections' after and before arguments.
const cursorType = "Cursor"

// cursorMessage is the one answer to a cursor that this API did not give out, whatever is
// wrong with it (not base64, not msgpack, or a well-formed value of the wrong shape).
const cursorMessage = "The cursor is not one this API gave out."

// cursorCheck refuses, before anything runs, an operation with a cursor argument that
// this API did not give out, anywhere in the operation (root connections and nested ones,
// through fragments, literal or variable). entgql's decoder says "illegal base64 data"
// or "msgpack: …"; it also accepts any msgpack map (an empty one is a cursor with no ID)
// and a value of any type, which would reach the SQL comparison. And the field collection
// that entgql generates for nested connections keeps an undecodable cursor as a string and
// then panics on a type assertion. A cursor we gave out holds a well-formed prefixed ULID
// and, for an ordered connection, the scalar value of the order field.
//
// The presenter maps a cursor that gqlgen itself fails to decode to INVALID_CURSOR too
// (isCursorArgument), should one ever get past this check.
type cursorCheck struct{}

func (cursorCheck) ExtensionName() string                   { return "CursorCheck" }
func (cursorCheck) Validate(graphql.ExecutableSchema) error { return nil }

func (cursorCheck) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	return walkFields(opCtx.Doc, opCtx.Operation.SelectionSet, true, func(f *ast.Field) *gqlerror.Error {
		if f.Definition == nil {
			return nil
		}
		for _, arg := range f.Arguments {
			def := f.Definition.Arguments.ForName(arg.Name)
			if def == nil || def.Type.Name() != cursorType || arg.Value == nil {
				continue
			}
			v, err := arg.Value.Value(opCtx.Variables)
			if err != nil || v == nil {
				continue // gqlgen reports a missing or broken variable itself
			}
			var c entgql.Cursor[pulid.ID]
			if c.UnmarshalGQL(v) != nil || !validCursor(&c) {
				return &gqlerror.Error{
					Message:    cursorMessage,
					Locations:  []gqlerror.Location{{Line: arg.Position.Line, Column: arg.Position.Column}},
					Extensions: map[string]any{"code": string(apperr.InvalidCursor)},
				}
			}
		}
		return nil
	})
}

func validCursor(c *entgql.Cursor[pulid.ID]) bool {
	if !c.ID.Valid() {
		return false
	}
	switch c.Value.(type) {
	case nil, string, bool, time.Time,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}
