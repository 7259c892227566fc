package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"entgo.io/ent/privacy"
	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

func withOperation(ctx context.Context, op ast.Operation) context.Context {
	return graphql.WithOperationContext(ctx, &graphql.OperationContext{
		Operation: &ast.OperationDefinition{Operation: op},
	})
}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func TestErrorPresenter(t *testing.T) {
	const driverText = "UNIQUE constraint failed: users.email"
	base := withRequestID(context.Background(), "req-42")
	query := withOperation(base, ast.Query)
	mutation := withOperation(base, ast.Mutation)

	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		wantCode   string
		wantMsg    string
		wantReason string
		wantLog    string // the log message expected once, if any
	}{
		{name: "apperr", ctx: query, err: apperr.New(apperr.NotFound, "no such call"),
			wantCode: "NOT_FOUND", wantMsg: "no such call"},
		{name: "wrapped apperr", ctx: mutation, err: fmt.Errorf("confirm placement: %w", apperr.New(apperr.Forbidden, "staff only")),
			wantCode: "FORBIDDEN", wantMsg: "staff only"},
		{name: "apperr sentinel without message", ctx: query, err: apperr.ErrUnauthenticated,
			wantCode: "UNAUTHENTICATED", wantMsg: "sign in to do this"},
		{name: "apperr conflict", ctx: mutation, err: apperr.New(apperr.Conflict, "already applied"),
			wantCode: "CONFLICT", wantMsg: "already applied"},
		{name: "apperr cause stays hidden", ctx: mutation, err: apperr.Wrap(apperr.BadRequest, errors.New(driverText), "email is invalid"),
			wantCode: "BAD_REQUEST", wantMsg: "email is invalid"},
		{name: "apperr internal", ctx: query, err: apperr.Wrap(apperr.Internal, errors.New(driverText), "could not save"),
			wantCode: "INTERNAL", wantMsg: "internal error", wantLog: "graphql internal error"},
		{name: "driver error in a plain error", ctx: mutation, err: fmt.Errorf("create user: %w", errors.New(driverText)),
			wantCode: "INTERNAL", wantMsg: "internal error", wantLog: "graphql internal error"},
		{name: "driver error on a resolver path", ctx: query, err: gqlerror.WrapPath(ast.Path{ast.PathName("users")}, errors.New(driverText)),
			wantCode: "INTERNAL", wantMsg: "internal error", wantLog: "graphql internal error"},
		{name: "privacy denial on a query", ctx: query, err: fmt.Errorf("load user: %w", privacy.Denyf("trainees see their own")),
			wantCode: "NOT_FOUND", wantMsg: "not found"},
		{name: "privacy denial on a mutation", ctx: mutation, err: privacy.Denyf("staff only"),
			wantCode: "FORBIDDEN", wantMsg: "you are not allowed to do this"},
		{name: "privacy denial without operation", ctx: base, err: privacy.Deny,
			wantCode: "NOT_FOUND", wantMsg: "not found"},
		{name: "ent not found", ctx: query, err: fmt.Errorf("get user: %w", &ent.NotFoundError{}),
			wantCode: "NOT_FOUND", wantMsg: "not found"},
		{name: "ent not found on a mutation", ctx: mutation, err: &ent.NotFoundError{},
			wantCode: "NOT_FOUND", wantMsg: "not found"},
		{name: "ent validation", ctx: mutation, err: &gqlerror.Error{
			Message: `ent: validator failed for field "User.email": ` + driverText, Err: &ent.ValidationError{Name: "email"}},
			wantCode: "BAD_REQUEST", wantMsg: `invalid value for field "email"`},
		{name: "ent constraint", ctx: mutation, err: fmt.Errorf("create user: %w", &ent.ConstraintError{}),
			wantCode: "CONFLICT", wantMsg: "this conflicts with an existing record", wantLog: "graphql constraint error"},
		{name: "validation error keeps message", ctx: base,
			err:      &gqlerror.Error{Message: `Cannot query field "userz" on type "Query".`, Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}},
			wantCode: "BAD_REQUEST", wantMsg: `Cannot query field "userz" on type "Query".`, wantReason: "GRAPHQL_VALIDATION_FAILED"},
		{name: "parse error", ctx: base,
			err:      &gqlerror.Error{Message: "Expected Name, found <EOF>", Extensions: map[string]any{"code": "GRAPHQL_PARSE_FAILED"}},
			wantCode: "BAD_REQUEST", wantMsg: "Expected Name, found <EOF>", wantReason: "GRAPHQL_PARSE_FAILED"},
		{name: "transport error without code", ctx: base, err: &gqlerror.Error{Message: "operation x not found"},
			wantCode: "BAD_REQUEST", wantMsg: "operation x not found"},
		{name: "database unreachable", ctx: query, err: fmt.Errorf("load users: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}),
			wantCode: "UNAVAILABLE", wantMsg: unavailableMessage, wantLog: "graphql database unavailable"},
		{name: "sqlite busy", ctx: mutation, err: gqlerror.WrapPath(ast.Path{ast.PathName("createCall")}, sqlite3.Error{Code: sqlite3.ErrBusy}),
			wantCode: "UNAVAILABLE", wantMsg: unavailableMessage, wantLog: "graphql database unavailable"},
		{name: "postgres shutting down", ctx: query, err: &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"},
			wantCode: "UNAVAILABLE", wantMsg: unavailableMessage, wantLog: "graphql database unavailable"},
		{name: "limits error kept", ctx: query,
			err:      &gqlerror.Error{Message: "too deep", Extensions: map[string]any{"code": "BAD_REQUEST", "reason": ReasonDepthLimit}},
			wantCode: "BAD_REQUEST", wantMsg: "too deep", wantReason: ReasonDepthLimit},
		{name: "apq signal kept", ctx: base,
			err:      &gqlerror.Error{Message: "PersistedQueryNotFound", Extensions: map[string]any{"code": "PERSISTED_QUERY_NOT_FOUND"}},
			wantCode: "PERSISTED_QUERY_NOT_FOUND", wantMsg: "PersistedQueryNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, sink := newTestLogger()
			var before map[string]any
			if g, ok := tt.err.(*gqlerror.Error); ok && g.Extensions != nil {
				before = map[string]any{}
				for k, v := range g.Extensions {
					before[k] = v
				}
			}
			got := ErrorPresenter(log)(tt.ctx, tt.err)
			if got.Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", got.Message, tt.wantMsg)
			}
			if got.Extensions["code"] != tt.wantCode {
				t.Errorf("code = %v, want %s", got.Extensions["code"], tt.wantCode)
			}
			if reason, _ := got.Extensions["reason"].(string); reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
			if strings.Contains(got.Message, "UNIQUE") || strings.Contains(fmt.Sprint(got.Extensions), "UNIQUE") {
				t.Errorf("driver text leaked: %+v", got)
			}
			if g, ok := tt.err.(*gqlerror.Error); ok && before != nil && fmt.Sprint(g.Extensions) != fmt.Sprint(before) {
				t.Errorf("presenter changed the input's extensions to %v", g.Extensions)
			}
			recs := sink.records(t)
			if tt.wantLog == "" {
				if len(recs) != 0 {
					t.Errorf("logged %v, want nothing", recs)
				}
				return
			}
			if len(recs) != 1 || recs[0]["msg"] != tt.wantLog {
				t.Fatalf("logged %v, want one %q", recs, tt.wantLog)
			}
			if recs[0]["request_id"] != "req-42" {
				t.Errorf("log record %v, want request_id req-42", recs[0])
			}
			if tt.wantLog == "graphql internal error" && !strings.Contains(fmt.Sprint(recs[0]["err"]), "UNIQUE constraint failed") {
				t.Errorf("log record %v, want the real error", recs[0])
			}
			if tt.wantCode == "UNAVAILABLE" && (recs[0]["level"] != "WARN" || got.Extensions["requestId"] != "req-42") {
				t.Errorf("unavailable: level %v, requestId %v; want WARN and req-42", recs[0]["level"], got.Extensions["requestId"])
			}
			if tt.wantCode == "INTERNAL" {
				if recs[0]["level"] != "ERROR" || got.Extensions["requestId"] != "req-42" {
					t.Errorf("internal: level %v, requestId %v; want ERROR and req-42", recs[0]["level"], got.Extensions["requestId"])
				}
			}
		})
	}
}

func TestErrorPresenterKeepsPathAndLocations(t *testing.T) {
	log, _ := newTestLogger()
	in := &gqlerror.Error{
		Message:   "x",
		Err:       apperr.New(apperr.NotFound, "no such user"),
		Path:      ast.Path{ast.PathName("user")},
		Locations: []gqlerror.Location{{Line: 1, Column: 3}},
	}
	got := ErrorPresenter(log)(context.Background(), in)
	if got.Path.String() != "user" || len(got.Locations) != 1 || got.Locations[0].Column != 3 {
		t.Errorf("got path %v locations %v, want them kept", got.Path, got.Locations)
	}
	if ErrorPresenter(log)(context.Background(), nil) != nil {
		t.Error("nil error presented as non-nil")
	}
}

func TestRecoverFunc(t *testing.T) {
	log, sink := newTestLogger()
	ctx := withRequestID(context.Background(), "req-7")
	err := RecoverFunc(log)(ctx, "index out of range: secret=hunter2")
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) {
		t.Fatalf("got %T, want *gqlerror.Error", err)
	}
	if gqlErr.Message != "internal error" || gqlErr.Extensions["code"] != "INTERNAL" || gqlErr.Extensions["requestId"] != "req-7" {
		t.Errorf("got %+v, want INTERNAL with the request id", gqlErr)
	}
	// The presenter passes it through without logging it a second time.
	presented := ErrorPresenter(log)(ctx, err)
	if presented.Extensions["code"] != "INTERNAL" || strings.Contains(presented.Message, "hunter2") {
		t.Errorf("presented %+v", presented)
	}
	recs := sink.records(t)
	if len(recs) != 1 {
		t.Fatalf("logged %d records, want 1: %v", len(recs), recs)
	}
	r := recs[0]
	if r["msg"] != "graphql panic" || r["level"] != "ERROR" || r["request_id"] != "req-7" ||
		!strings.Contains(fmt.Sprint(r["panic"]), "hunter2") || !strings.Contains(fmt.Sprint(r["stack"]), "errors_test.go") {
		t.Errorf("record %v, want the panic, its stack and the request id", r)
	}
}

// TestErrorPresenterCursorBackstop: should gqlgen itself fail to decode a cursor argument
// (cursorCheck refuses them before execution today), the answer is still INVALID_CURSOR in
// our words, not entgql's "cannot decode cursor: illegal base64 data …".
func TestErrorPresenterCursorBackstop(t *testing.T) {
	log, sink := newTestLogger()
	def := &ast.FieldDefinition{Name: "users", Arguments: ast.ArgumentDefinitionList{
		{Name: "after", Type: ast.NamedType("Cursor", nil)},
		{Name: "first", Type: ast.NamedType("Int", nil)},
	}}
	ctx := graphql.WithFieldContext(withOperation(context.Background(), ast.Query), &graphql.FieldContext{
		Field: graphql.CollectedField{Field: &ast.Field{Alias: "users", Name: "users", Definition: def}},
	})
	for arg, want := range map[string]string{"after": "INVALID_CURSOR", "first": "BAD_REQUEST"} {
		err := &gqlerror.Error{
			Message: "cannot decode cursor: illegal base64 data at input byte 7",
			Path:    ast.Path{ast.PathName("users"), ast.PathName(arg)},
			Err:     errors.New("cannot decode cursor: illegal base64 data at input byte 7"),
		}
		got := ErrorPresenter(log)(ctx, err)
		if got.Extensions["code"] != want {
			t.Errorf("%s: code %v, want %s", arg, got.Extensions["code"], want)
		}
		if want == "INVALID_CURSOR" && got.Message != cursorMessage {
			t.Errorf("%s: message %q", arg, got.Message)
		}
	}
	if recs := sink.records(t); len(recs) != 0 {
		t.Errorf("logged %v", recs)
	}
}
