package server

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// cursorType is the GraphQL scalar of the connections' after and before arguments.
const cursorType = "Cursor"

// cursorMessage is the one answer to a cursor that this API did not give out, whatever is
// wrong with it (not base64, not msgpack, or a well-formed value of the wrong shape).
const cursorMessage = "The cursor is not one this API gave out."

// errInvalidCursor is what checkCursors reports; the presenter shows it as INVALID_CURSOR.
var errInvalidCursor = apperr.New(apperr.InvalidCursor, cursorMessage)

// checkCursors is a field middleware that refuses, before the resolver runs, a cursor
// argument that decoded but cannot be one of ours: entgql's decoder accepts any msgpack
// map (an empty one is a cursor with no ID), and a value of any type, which would reach
// the SQL comparison. A cursor we gave out holds a well-formed prefixed ULID and, for an
// ordered connection, the scalar value of the order field. Cursors that do not decode at
// all never get here: gqlgen reports them as input coercion errors, which the presenter
// answers the same way (isCursorArgument).
func checkCursors(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(fc.Args) == 0 {
		return next(ctx)
	}
	for _, arg := range fc.Args {
		c, ok := arg.(*entgql.Cursor[pulid.ID])
		if ok && c != nil && !validCursor(c) {
			return nil, errInvalidCursor
		}
	}
	return next(ctx)
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
