package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"

	"entgo.io/ent/privacy"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/db"
)

// internalMessage is all a client learns about an internal error; the request id in
// extensions.requestId finds the real error in the logs.
const internalMessage = "internal error"

// passthroughCodes are extensions.code values that the presenter keeps: ours, and the
// APQ signal that clients (Apollo, urql) read to resend the full query.
var passthroughCodes = map[string]bool{
	string(apperr.Unauthenticated): true,
	string(apperr.Forbidden):       true,
	string(apperr.NotFound):        true,
	string(apperr.BadRequest):      true,
	string(apperr.Conflict):        true,
	string(apperr.Internal):        true,
	string(apperr.InvalidCursor):   true,
	string(apperr.Unavailable):     true,
	"PERSISTED_QUERY_NOT_FOUND":    true,
}

// ErrorPresenter is the one place where errors become GraphQL errors (ARCHITECTURE §6.10).
// Every error leaves with extensions.code set to one of UNAUTHENTICATED, FORBIDDEN,
// NOT_FOUND, BAD_REQUEST, CONFLICT, INVALID_CURSOR, UNAVAILABLE or INTERNAL:
//
//   - the database could not be reached or could not take the work (db.IsUnavailable):
//     UNAVAILABLE, logged at warn level with the request id (the HTTP answer is then 503
//     with Retry-After when every error is UNAVAILABLE, see unavailableStatus);
//   - *apperr.Error: its code and caller-safe message (an apperr INTERNAL is treated as below);
//   - ent privacy denials and ent not-found: NOT_FOUND on queries, so a caller cannot tell
//     "hidden" from "absent"; on a mutation a privacy denial is FORBIDDEN;
//   - ent validation errors: BAD_REQUEST naming the field; ent constraint errors: CONFLICT
//     (the driver's text is logged at warn level, never shown);
//   - errors gqlgen and gqlparser raise themselves (parse, validation, transport, limits,
//     argument coercion): BAD_REQUEST with their message, gqlgen's own code kept in
//     extensions.reason; an after or before argument that is not a cursor this API gave
//     out: INVALID_CURSOR (cursorMessage), whatever entgql's decoder said;
//   - anything else: INTERNAL with the message "internal error", logged once at error level
//     with the request id and the real error.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if err == nil {
			return nil
		}
		return present(ctx, log, err)
	}
}

func present(ctx context.Context, log *slog.Logger, err error) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) {
		gqlErr = gqlerror.WrapPath(graphql.GetPath(ctx), err)
	}
	out := &gqlerror.Error{
		Message:   gqlErr.Message,
		Path:      gqlErr.Path,
		Locations: gqlErr.Locations,
		Rule:      gqlErr.Rule,
	}
	cause := gqlErr.Err
	if cause == nil {
		// Raised by gqlgen, gqlparser or one of our extensions, with a message meant for
		// the client.
		out.Extensions = maps.Clone(gqlErr.Extensions)
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		code, _ := out.Extensions["code"].(string)
		if !passthroughCodes[code] {
			if _, ok := out.Extensions["reason"]; !ok && code != "" {
				out.Extensions["reason"] = code
			}
			out.Extensions["code"] = string(apperr.BadRequest)
		}
		return out
	}

	var appErr *apperr.Error
	var valErr *ent.ValidationError
	switch {
	case db.IsUnavailable(cause):
		id := RequestIDFromContext(ctx)
		log.LogAttrs(ctx, slog.LevelWarn, "graphql database unavailable",
			slog.String("request_id", id),
			slog.String("path", gqlErr.Path.String()),
			slog.Any("err", cause),
		)
		return unavailableError(out, id)
	case errors.As(cause, &appErr) && appErr.Code != apperr.Internal:
		return withCode(out, appErr.Code, messageFor(appErr))
	case errors.Is(cause, privacy.Deny):
		if isMutation(ctx) {
			return withCode(out, apperr.Forbidden, "you are not allowed to do this")
		}
		return withCode(out, apperr.NotFound, "not found")
	case ent.IsNotFound(cause):
		return withCode(out, apperr.NotFound, "not found")
	case errors.As(cause, &valErr):
		return withCode(out, apperr.BadRequest, fmt.Sprintf("invalid value for field %q", valErr.Name))
	case ent.IsConstraintError(cause):
		log.LogAttrs(ctx, slog.LevelWarn, "graphql constraint error",
			slog.String("request_id", RequestIDFromContext(ctx)),
			slog.String("path", gqlErr.Path.String()),
			slog.Any("err", cause),
		)
		return withCode(out, apperr.Conflict, "this conflicts with an existing record")
	case isInputCoercionError(ctx, gqlErr):
		// gqlgen could not turn an argument into its Go type. A cursor's decoder (entgql's)
		// speaks of base64 and msgpack: the client gets our sentence instead. Other
		// messages come from our own scalar unmarshalers and name the input.
		if isCursorArgument(ctx, gqlErr) {
			return withCode(out, apperr.InvalidCursor, cursorMessage)
		}
		return withCode(out, apperr.BadRequest, gqlErr.Message)
	}

	id := RequestIDFromContext(ctx)
	log.LogAttrs(ctx, slog.LevelError, "graphql internal error",
		slog.String("request_id", id),
		slog.String("path", gqlErr.Path.String()),
		slog.Any("err", cause),
	)
	return internalError(out, id)
}

func withCode(out *gqlerror.Error, code apperr.Code, message string) *gqlerror.Error {
	out.Message = message
	out.Extensions = map[string]any{"code": string(code)}
	return out
}

func internalError(out *gqlerror.Error, requestID string) *gqlerror.Error {
	out.Message = internalMessage
	out.Extensions = map[string]any{"code": string(apperr.Internal)}
	if requestID != "" {
		out.Extensions["requestId"] = requestID
	}
	return out
}

// unavailableMessage is what a client learns when the database is out of reach.
const unavailableMessage = "The service cannot reach its database right now. Please try again in a few seconds."

func unavailableError(out *gqlerror.Error, requestID string) *gqlerror.Error {
	out.Message = unavailableMessage
	out.Extensions = map[string]any{"code": string(apperr.Unavailable)}
	if requestID != "" {
		out.Extensions["requestId"] = requestID
	}
	return out
}

func messageFor(e *apperr.Error) string {
	if e.Message != "" {
		return e.Message
	}
	switch e.Code {
	case apperr.Unauthenticated:
		return "sign in to do this"
	case apperr.Forbidden:
		return "you are not allowed to do this"
	case apperr.NotFound:
		return "not found"
	case apperr.Conflict:
		return "this conflicts with an existing record"
	default:
		return "bad request"
	}
}

// isMutation reports whether ctx belongs to a mutation. Errors raised before the
// operation is known (malformed JSON) have no operation context.
func isMutation(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Mutation
}

// isInputCoercionError reports whether err is gqlgen's report that an argument of the
// current field could not be unmarshalled: its path runs past the field's own path into
// the name of one of the field's arguments. A resolver's error carries the field's path.
func isInputCoercionError(ctx context.Context, err *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return false
	}
	fieldPath := fc.Path()
	if len(err.Path) <= len(fieldPath) {
		return false
	}
	for i, el := range fieldPath {
		if el != err.Path[i] {
			return false
		}
	}
	name, ok := err.Path[len(fieldPath)].(ast.PathName)
	return ok && fc.Field.Definition.Arguments.ForName(string(name)) != nil
}

// isCursorArgument reports whether the input coercion error err (isInputCoercionError) is
// about an argument of the Cursor scalar type.
func isCursorArgument(ctx context.Context, err *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	name, ok := err.Path[len(fc.Path())].(ast.PathName)
	if !ok {
		return false
	}
	arg := fc.Field.Definition.Arguments.ForName(string(name))
	return arg != nil && arg.Type.Name() == cursorType
}

// RecoverFunc handles a panic inside gqlgen (a resolver, a marshaler, an extension): it
// logs the panic once at error level with its stack and the request id, and returns an
// INTERNAL error that the presenter passes through without logging it again.
func RecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		id := RequestIDFromContext(ctx)
		log.LogAttrs(ctx, slog.LevelError, "graphql panic",
			slog.String("request_id", id),
			slog.String("panic", fmt.Sprint(p)),
			slog.String("stack", string(debug.Stack())),
		)
		return internalError(&gqlerror.Error{}, id)
	}
}
