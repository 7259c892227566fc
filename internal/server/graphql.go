package server

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/gocart-coalition/coalition/graph"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Defaults for GraphQLConfig fields left at zero.
const (
	// DefaultMaxComplexity bounds gqlgen's complexity (one per selected field, children
	// included): it catches wide operations — hundreds of aliases — that the depth and node
	// limits do not. gqlgen does not count introspection fields.
	DefaultMaxComplexity = 1000
	// DefaultTokenLimit bounds the lexer's work per document; GraphiQL's introspection query
	// is under 200 tokens and a large screen's query rarely passes 2,000.
	DefaultTokenLimit = 10_000
	// DefaultAPQCacheSize is how many persisted queries are remembered.
	DefaultAPQCacheSize = 1000
	// queryCacheSize is how many parsed and validated documents are remembered.
	queryCacheSize = 1000
)

// GraphQLConfig configures the /graphql handler. Zero numbers take the defaults
// (DefaultMaxDepth, DefaultMaxNodes, DefaultMaxPage, DefaultMaxComplexity,
// DefaultTokenLimit, DefaultAPQCacheSize).
type GraphQLConfig struct {
	// Introspection allows __schema and __type (development; off in production).
	Introspection bool
	// Suggestions allows "Did you mean …?" in validation errors (development).
	Suggestions bool
	// MaxDepth, MaxNodes and MaxPage configure Limits.
	MaxDepth, MaxNodes, MaxPage int
	// MaxComplexity is gqlgen's complexity limit.
	MaxComplexity int
	// TokenLimit is the parser's token limit per document.
	TokenLimit int
	// APQCacheSize is the number of automatic persisted queries kept (LRU).
	APQCacheSize int
	// MaxUploadBytes is the largest multipart request (DefaultMaxUploadBytes when zero).
	// Set it to the limit the body middleware applies (Config.MaxUploadBytes): a lower one
	// here would let gqlgen refuse big bodies with its own uncoded 422 answer.
	MaxUploadBytes int64
}

func (c GraphQLConfig) withDefaults() GraphQLConfig {
	if c.MaxComplexity <= 0 {
		c.MaxComplexity = DefaultMaxComplexity
	}
	if c.TokenLimit <= 0 {
		c.TokenLimit = DefaultTokenLimit
	}
	if c.APQCacheSize <= 0 {
		c.APQCacheSize = DefaultAPQCacheSize
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	return c
}

// NewGraphQLHandler returns the /graphql handler: POST (JSON), multipart POST (the GraphQL
// multipart request spec, for uploadDocument: at most MaxUploadBytes, files over 1 MiB
// spooled to temporary files) and GET (queries only) transports and nothing else (no
// websocket); the parser token limit;
// suggestions and introspection as configured; automatic persisted queries; Limits and
// gqlgen's complexity limit; the write-scope check; the error presenter and recover
// function of this package; and mutations in one transaction opened by tx (resolvers
// reach it with ent.FromContext). Queries never open a transaction. log must not be nil.
func NewGraphQLHandler(schema graphql.ExecutableSchema, tx entgql.TxOpener, cfg GraphQLConfig, log *slog.Logger) *handler.Server {
	cfg = cfg.withDefaults()
	srv := handler.New(schema)
	// GET refuses anything but queries itself (406), so a link or an <img> cannot mutate.
	// Each transport reads the request itself and answers a malformed one in our words
	// (transports.go).
	srv.AddTransport(getTransport{})
	srv.AddTransport(postTransport{})
	srv.AddTransport(multipartTransport{maxUploadSize: cfg.MaxUploadBytes, maxMemory: uploadMaxMemory})

	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(cfg.TokenLimit)
	srv.SetDisableSuggestion(!cfg.Suggestions)
	srv.SetErrorPresenter(ErrorPresenter(log))
	srv.SetRecoverFunc(RecoverFunc(log))

	// The outermost response interceptor: it sees the final errors of every answer.
	srv.Use(unavailableStatus{})
	// OperationContextMutators run in the order they are added, after validation and
	// before any resolver: the cheap refusals first, the transaction last.
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(introspectionGate{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](cfg.APQCacheSize)})
	srv.Use(writeScope{})
	srv.Use(cursorCheck{})
	srv.Use(Limits{MaxDepth: cfg.MaxDepth, MaxNodes: cfg.MaxNodes, MaxPage: cfg.MaxPage})
	srv.AroundFields(ListCapsMiddleware)
	srv.Use(extension.FixedComplexityLimit(cfg.MaxComplexity))
	srv.Use(transactioner{opener: tx, log: log})
	srv.Use(graph.Batches{})
	return srv
}

// ReasonIntrospectionDisabled is the extensions.reason of a refused __schema or __type.
const ReasonIntrospectionDisabled = "INTROSPECTION_DISABLED"

// introspectionGate refuses __schema and __type before execution when introspection is
// off. gqlgen would otherwise run the operation and fail those fields one by one with an
// error indistinguishable from a resolver's. __typename stays allowed: clients need it.
type introspectionGate struct{}

func (introspectionGate) ExtensionName() string                   { return "IntrospectionGate" }
func (introspectionGate) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionGate) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if !opCtx.DisableIntrospection || opCtx.Operation == nil {
		return nil
	}
	// __schema and __type exist only on the query root, so only the root selection
	// (through fragments) needs a look.
	return walkFields(opCtx.Doc, opCtx.Operation.SelectionSet, false, func(f *ast.Field) *gqlerror.Error {
		if f.Name != "__schema" && f.Name != "__type" {
			return nil
		}
		return limitError(ReasonIntrospectionDisabled, f.Position, "introspection is disabled on this server")
	})
}

// writeScope refuses mutations to a signed-in caller whose credential lacks the WRITE
// scope (a read-only API token). Anonymous callers may run mutations — signing in is one —
// and the ent privacy policies decide what each may change.
type writeScope struct{}

func (writeScope) ExtensionName() string                   { return "WriteScope" }
func (writeScope) Validate(graphql.ExecutableSchema) error { return nil }

func (writeScope) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Mutation {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v.Kind == viewer.User && !v.CanWrite() {
		return &gqlerror.Error{
			Message:    "this credential may only read: mutations need the WRITE scope",
			Extensions: map[string]any{"code": string(apperr.Forbidden)},
		}
	}
	return nil
}

// transactioner runs each mutation in one transaction: entgql.Transactioner, made safe.
//
// contrib v0.7.0's Transactioner.InterceptResponse calls graphql.GetOperationContext,
// which panics when the context has none. gqlgen's transports answer a request that never
// became an operation (malformed JSON, a batch array, an unreadable body) through
// Executor.DispatchError, which runs the response interceptors with the bare request
// context — so every such request would panic. transactioner passes those through, and
// also the refusals of a mutation (limits, write scope), for which contrib would open and
// roll back a transaction around an error response.
//
// It also keeps driver text out of answers: entgql reports a failed begin or commit as
// "cannot commit transaction: <driver message>" in a response that skips the error
// presenter. transactioner logs the real error with the request id and answers INTERNAL.
// A failed rollback is logged too.
type transactioner struct {
	opener entgql.TxOpener
	log    *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = transactioner{}

func (transactioner) ExtensionName() string { return "CoalitionTransactioner" }

func (t transactioner) Validate(schema graphql.ExecutableSchema) error {
	if t.log == nil {
		return errors.New("transactioner: nil logger")
	}
	return entgql.Transactioner{TxOpener: t.opener}.Validate(schema)
}

// MutateOperationContext lets entgql serialise the field resolvers of a mutation, since
// they share one transaction.
func (t transactioner) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	return entgql.Transactioner{TxOpener: t.opener}.MutateOperationContext(ctx, opCtx)
}

func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	// Errors already in the response context mean gqlgen is answering a request it
	// refused (Executor.DispatchError adds them before running the interceptors): no
	// resolver will run, so no transaction — which on SQLite would take the write lock.
	if !graphql.HasOperationContext(ctx) || len(graphql.GetErrors(ctx)) > 0 {
		return next(ctx)
	}
	var txErr, rollbackErr error
	opener := entgql.TxOpenerFunc(func(ctx context.Context) (context.Context, driver.Tx, error) {
		txCtx, tx, err := t.opener.OpenTx(ctx)
		if err != nil {
			txErr = fmt.Errorf("begin transaction: %w", err)
			return nil, nil, errUnavailable
		}
		return txCtx, &watchedTx{Tx: tx, commitErr: &txErr, rollbackErr: &rollbackErr}, nil
	})
	resp := entgql.Transactioner{TxOpener: opener}.InterceptResponse(ctx, next)
	id := RequestIDFromContext(ctx)
	if rollbackErr != nil {
		t.log.LogAttrs(ctx, slog.LevelError, "graphql transaction rollback failed",
			slog.String("request_id", id),
			slog.Any("err", rollbackErr),
		)
	}
	if txErr == nil {
		return resp
	}
	if db.IsUnavailable(txErr) {
		t.log.LogAttrs(ctx, slog.LevelWarn, "graphql database unavailable",
			slog.String("request_id", id),
			slog.Any("err", txErr),
		)
		return &graphql.Response{Errors: gqlerror.List{unavailableError(&gqlerror.Error{}, id)}}
	}
	t.log.LogAttrs(ctx, slog.LevelError, "graphql transaction failed",
		slog.String("request_id", id),
		slog.Any("err", txErr),
	)
	return &graphql.Response{Errors: gqlerror.List{internalError(&gqlerror.Error{}, id)}}
}

// errUnavailable is what entgql gets to see of a failed begin or commit.
var errUnavailable = errors.New("unavailable")

// watchedTx records a failed commit or rollback for transactioner.
type watchedTx struct {
	driver.Tx
	commitErr, rollbackErr *error
}

func (tx *watchedTx) Commit() error {
	if err := tx.Tx.Commit(); err != nil {
		*tx.commitErr = fmt.Errorf("commit transaction: %w", err)
		return errUnavailable
	}
	return nil
}

func (tx *watchedTx) Rollback() error {
	err := tx.Tx.Rollback()
	if err != nil {
		*tx.rollbackErr = fmt.Errorf("roll back transaction: %w", err)
	}
	return err
}
