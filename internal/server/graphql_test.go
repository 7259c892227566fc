package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/mattn/go-sqlite3"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/gocart-coalition/coalition/graph"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// fakeOpener is an entgql.TxOpener that counts what happens to its transactions.
type fakeOpener struct {
	mu                            sync.Mutex
	opened, committed, rolledBack int
	beginErr, commitErr           error
}

type txMarker struct{}

func (o *fakeOpener) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.beginErr != nil {
		return nil, nil, o.beginErr
	}
	o.opened++
	return context.WithValue(ctx, txMarker{}, true), fakeTx{o}, nil
}

func (o *fakeOpener) counts() (opened, committed, rolledBack int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.opened, o.committed, o.rolledBack
}

type fakeTx struct{ o *fakeOpener }

func (tx fakeTx) Commit() error {
	tx.o.mu.Lock()
	defer tx.o.mu.Unlock()
	if tx.o.commitErr != nil {
		return tx.o.commitErr
	}
	tx.o.committed++
	return nil
}

func (tx fakeTx) Rollback() error {
	tx.o.mu.Lock()
	defer tx.o.mu.Unlock()
	tx.o.rolledBack++
	return nil
}

// harness serves a GraphQL handler over loopback HTTP and counts resolver invocations.
type harness struct {
	url    string
	opener *fakeOpener
	logs   *logSink
	roots  atomic.Int64
	fields atomic.Int64
}

type harnessConfig struct {
	mws      []Middleware
	panicMsg string
}

type harnessOption func(*harnessConfig)

// withMiddleware serves the handler behind mws (after RequestID).
func withMiddleware(mws ...Middleware) harnessOption {
	return func(c *harnessConfig) { c.mws = append(c.mws, mws...) }
}

// withPanickingResolvers makes every resolver panic with msg, whatever graph's resolvers
// do today, so tests of allowed operations do not depend on them.
func withPanickingResolvers(msg string) harnessOption {
	return func(c *harnessConfig) { c.panicMsg = msg }
}

// newHarness serves NewGraphQLHandler over schema (the real one with a nil ent client when
// schema is nil) behind RequestID.
func newHarness(t *testing.T, schema graphql.ExecutableSchema, cfg GraphQLConfig, opts ...harnessOption) *harness {
	t.Helper()
	var hc harnessConfig
	for _, o := range opts {
		o(&hc)
	}
	if schema == nil {
		schema = graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}})
	}
	log, sink := newTestLogger()
	h := &harness{opener: &fakeOpener{}, logs: sink}
	srv := NewGraphQLHandler(schema, h.opener, cfg, log)
	srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		h.roots.Add(1)
		return next(ctx)
	})
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		h.fields.Add(1)
		if hc.panicMsg != "" {
			panic(hc.panicMsg)
		}
		return next(ctx)
	})
	h.url = serve(t, Chain(graphqlHTTP(srv), append([]Middleware{RequestID}, hc.mws...)...)).URL
	return h
}

type gqlError struct {
	Message    string
	Path       []any
	Extensions map[string]any
}

type gqlResult struct {
	Status int
	Data   json.RawMessage
	Errors []gqlError
	Raw    string
}

func (r gqlResult) reasons() []any {
	var out []any
	for _, e := range r.Errors {
		out = append(out, e.Extensions["reason"])
	}
	return out
}

func decodeResult(t *testing.T, resp *http.Response, body []byte) gqlResult {
	t.Helper()
	res := gqlResult{Status: resp.StatusCode, Raw: string(body)}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("status %d, body %q is not a GraphQL response: %v", resp.StatusCode, body, err)
	}
	return res
}

func (h *harness) postRaw(t *testing.T, body string) gqlResult {
	t.Helper()
	req := newRequest(t, http.MethodPost, h.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, b := do(t, req)
	return decodeResult(t, resp, b)
}

func (h *harness) post(t *testing.T, query string, vars map[string]any) gqlResult {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return h.postRaw(t, string(body))
}

func (h *harness) get(t *testing.T, query string) gqlResult {
	t.Helper()
	resp, b := do(t, newRequest(t, http.MethodGet, h.url+"?query="+url.QueryEscape(query), nil))
	return decodeResult(t, resp, b)
}

// executed reports how many resolvers ran.
func (h *harness) executed() int64 { return h.roots.Load() + h.fields.Load() }

// wantRefused checks that res is one error with code and reason, and that nothing ran.
func wantRefused(t *testing.T, h *harness, res gqlResult, code, reason string) {
	t.Helper()
	if len(res.Errors) != 1 {
		t.Fatalf("errors = %+v, want exactly one (%s)", res.Errors, res.Raw)
	}
	e := res.Errors[0]
	if e.Extensions["code"] != code || (reason != "" && e.Extensions["reason"] != reason) {
		t.Errorf("extensions = %v, want code %s reason %s (message %q)", e.Extensions, code, reason, e.Message)
	}
	if n := h.executed(); n != 0 {
		t.Errorf("%d resolvers ran, want none", n)
	}
	if opened, _, _ := h.opener.counts(); opened != 0 {
		t.Errorf("%d transactions opened, want none", opened)
	}
}

func TestLimitsThroughHandler(t *testing.T) {
	const (
		deep13 = `query { users(first: 1) { ...U } }
fragment U on UserConnection { edges { node { apiTokens(first: 1) { ...T } } } }
fragment T on ApiTokenConnection { edges { node { user { ... on User { apiTokens(first: 1) { ...T2 } } } } } }
fragment T2 on ApiTokenConnection { edges { node { user { apiTokens(first: 1) { totalCount } } } } }`
		deep12 = `query { users(first: 1) { ...U } }
fragment U on UserConnection { edges { node { apiTokens(first: 1) { ...T } } } }
fragment T on ApiTokenConnection { edges { node { user { ... on User { apiTokens(first: 1) { ...T2 } } } } } }
fragment T2 on ApiTokenConnection { edges { node { user { id } } } }`
	)
	tests := []struct {
		name    string
		query   string
		vars    map[string]any
		reason  string // "" when the limits must let it through
		mention string // the message must name this
	}{
		{name: "no first or last", query: `{ users { totalCount } }`, reason: ReasonFirstOrLastRequired, mention: `"users"`},
		{name: "nested without first", query: `{ users(first: 5) { edges { node { apiTokens { totalCount } } } } }`,
			reason: ReasonFirstOrLastRequired, mention: `"users.edges.node.apiTokens"`},
		{name: "aliases in path", query: `{ staff: users(first: 5) { edges { node { tokens: apiTokens { totalCount } } } } }`,
			reason: ReasonFirstOrLastRequired, mention: `"staff.edges.node.tokens"`},
		{name: "both first and last", query: `{ users(first: 1, last: 1) { totalCount } }`, reason: ReasonFirstOrLastRequired},
		{name: "first null", query: `{ users(first: null) { totalCount } }`, reason: ReasonFirstOrLastRequired},
		{name: "first 101", query: `{ users(first: 101) { totalCount } }`, reason: ReasonPageTooLarge, mention: "101"},
		{name: "last 101", query: `{ users(last: 101) { totalCount } }`, reason: ReasonPageTooLarge},
		{name: "first 0", query: `{ users(first: 0) { totalCount } }`, reason: ReasonPageSizeInvalid},
		{name: "first negative", query: `{ users(first: -1) { totalCount } }`, reason: ReasonPageSizeInvalid},
		{name: "variable too large", query: `query($n: Int) { users(first: $n) { totalCount } }`,
			vars: map[string]any{"n": 101}, reason: ReasonPageTooLarge},
		{name: "variable missing", query: `query($n: Int) { users(first: $n) { totalCount } }`, reason: ReasonFirstOrLastRequired},
		{name: "variable default too large", query: `query($n: Int = 500) { users(first: $n) { totalCount } }`, reason: ReasonPageTooLarge},
		{name: "variable within limits", query: `query($n: Int) { users(first: $n) { totalCount } }`, vars: map[string]any{"n": 100}},
		{name: "nodes over budget", query: `{ users(first: 100) { edges { node { apiTokens(first: 100) { totalCount } } } } }`,
			reason: ReasonNodeLimit, mention: "10100"},
		{name: "nodes over budget via variables", query: `query($a: Int, $b: Int) { users(first: $a) { edges { node { apiTokens(last: $b) { totalCount } } } } }`,
			vars: map[string]any{"a": 100, "b": 100}, reason: ReasonNodeLimit, mention: `"users.edges.node.apiTokens"`},
		{name: "nodes at budget", query: `{ users(first: 100) { edges { node { apiTokens(first: 99) { totalCount } } } } }`},
		{name: "nodes summed over siblings", query: `{ a: users(first: 100) { edges { node { apiTokens(first: 50) { totalCount } } } }
			b: users(first: 100) { edges { node { apiTokens(first: 50) { totalCount } } } } }`, reason: ReasonNodeLimit},
		{name: "nodes ids too many", query: fmt.Sprintf(`{ nodes(ids: [%s]) { id } }`, strings.TrimSuffix(strings.Repeat(`"usr_x",`, 101), ",")),
			reason: ReasonPageTooLarge},
		{name: "nodes ids multiply", query: fmt.Sprintf(`{ nodes(ids: [%s]) { ... on User { apiTokens(first: 100) { totalCount } } } }`,
			strings.TrimSuffix(strings.Repeat(`"usr_x",`, 100), ",")), reason: ReasonNodeLimit},
		{name: "depth 13 through fragments", query: deep13, reason: ReasonDepthLimit,
			mention: `"users.edges.node.apiTokens.edges.node.user.apiTokens.edges.node.user.apiTokens.totalCount"`},
		{name: "depth 12 through fragments", query: deep12},
		{name: "simple query", query: `{ users(first: 10) { totalCount edges { node { id email } } } }`},
		{name: "typename only", query: `{ __typename }`},
	}
	h := newHarness(t, nil, GraphQLConfig{}, withPanickingResolvers("resolver reached"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.roots.Store(0)
			h.fields.Store(0)
			res := h.post(t, tt.query, tt.vars)
			if tt.reason == "" {
				for _, e := range res.Errors {
					if e.Extensions["code"] == "BAD_REQUEST" {
						t.Fatalf("refused: %+v", e)
					}
				}
				if tt.query != `{ __typename }` && h.roots.Load() == 0 {
					t.Errorf("no resolver ran: %s", res.Raw)
				}
				return
			}
			wantRefused(t, h, res, "BAD_REQUEST", tt.reason)
			if !strings.Contains(res.Errors[0].Message, tt.mention) {
				t.Errorf("message %q does not name %s", res.Errors[0].Message, tt.mention)
			}
		})
	}
}

func TestLimitsConfigurable(t *testing.T) {
	h := newHarness(t, nil, GraphQLConfig{MaxPage: 10, MaxNodes: 50, MaxDepth: 5}, withPanickingResolvers("boom"))
	tests := []struct {
		query, reason string
	}{
		{`{ users(first: 11) { totalCount } }`, ReasonPageTooLarge},
		{`{ users(first: 10) { edges { node { apiTokens(first: 5) { totalCount } } } } }`, ReasonNodeLimit},
		{`{ users(first: 1) { edges { node { apiTokens(first: 1) { edges { node { id } } } } } } }`, ReasonDepthLimit},
		{`mutation { createUser(input: {email: "a@b.c", name: "A", roles: [STAFF]}) { user { apiTokens(first: 11) { totalCount } } } }`, ReasonPageTooLarge},
	}
	for _, tt := range tests {
		wantRefused(t, h, h.post(t, tt.query, nil), "BAD_REQUEST", tt.reason)
	}
}

func TestResolversRunWhenAllowed(t *testing.T) {
	// A panicking resolver becomes one INTERNAL error, logged once, its text kept from the client.
	h := newHarness(t, nil, GraphQLConfig{}, withPanickingResolvers("not implemented: secret detail"))
	res := h.post(t, `{ users(first: 5) { totalCount } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "INTERNAL" || res.Errors[0].Message != "internal error" {
		t.Fatalf("errors = %+v, want one INTERNAL from the panic", res.Errors)
	}
	if strings.Contains(res.Raw, "secret detail") {
		t.Errorf("panic text reached the client: %s", res.Raw)
	}
	if n := len(h.logs.withMessage(t, "graphql panic")); n != 1 {
		t.Errorf("panic logged %d times, want once: %s", n, h.logs)
	}
	if opened, _, _ := h.opener.counts(); opened != 0 {
		t.Errorf("a query opened %d transactions, want none", opened)
	}
}

const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType {
  kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func TestIntrospection(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		h := newHarness(t, nil, GraphQLConfig{Introspection: false})
		for _, q := range []string{
			`{ __schema { queryType { name } } }`,
			`{ __type(name: "User") { name } }`,
			`query { ...F } fragment F on Query { ... on Query { __schema { queryType { name } } } }`,
			introspectionQuery,
		} {
			wantRefused(t, h, h.post(t, q, nil), "BAD_REQUEST", ReasonIntrospectionDisabled)
		}
		if res := h.post(t, `{ __typename }`, nil); len(res.Errors) != 0 || string(res.Data) != `{"__typename":"Query"}` {
			t.Errorf("__typename: %s, want it allowed", res.Raw)
		}
	})
	t.Run("enabled", func(t *testing.T) {
		h := newHarness(t, nil, GraphQLConfig{Introspection: true})
		res := h.post(t, introspectionQuery, nil)
		if len(res.Errors) != 0 {
			t.Fatalf("the standard introspection query failed: %+v", res.Errors)
		}
		var data struct {
			Schema struct {
				QueryType struct{ Name string }
				Types     []struct{ Name string }
			} `json:"__schema"`
		}
		if err := json.Unmarshal(res.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.Schema.QueryType.Name != "Query" || len(data.Schema.Types) < 10 {
			t.Errorf("schema = %+v, want the real one", data.Schema)
		}
	})
}

func TestSuggestions(t *testing.T) {
	const typo = `{ userz(first: 1) { totalCount } }`
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint("suggestions=", on), func(t *testing.T) {
			h := newHarness(t, nil, GraphQLConfig{Suggestions: on})
			res := h.post(t, typo, nil)
			wantRefused(t, h, res, "BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED")
			if got := strings.Contains(res.Errors[0].Message, "Did you mean"); got != on {
				t.Errorf("message %q: suggestion present = %v, want %v", res.Errors[0].Message, got, on)
			}
			if res.Status != http.StatusUnprocessableEntity {
				t.Errorf("status = %d, want 422", res.Status)
			}
		})
	}
}

func TestTokenAndComplexityLimits(t *testing.T) {
	wide := "{ " + strings.Repeat("__typename ", 30) + "}"
	var aliases strings.Builder
	aliases.WriteString("{ ")
	for i := range 6 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	aliases.WriteString("}")

	h := newHarness(t, nil, GraphQLConfig{TokenLimit: 20, MaxComplexity: 5})
	res := h.post(t, wide, nil)
	wantRefused(t, h, res, "BAD_REQUEST", "GRAPHQL_PARSE_FAILED")
	if !strings.Contains(res.Errors[0].Message, "token limit") {
		t.Errorf("message = %q, want it to name the token limit", res.Errors[0].Message)
	}
	wantRefused(t, h, h.post(t, aliases.String(), nil), "BAD_REQUEST", "COMPLEXITY_LIMIT_EXCEEDED")
}

func TestMutationOverGETRefused(t *testing.T) {
	h := newHarness(t, nil, GraphQLConfig{}, withPanickingResolvers("boom"))
	res := h.get(t, `mutation { signOut { signedOut } }`)
	if res.Status != http.StatusNotAcceptable || len(res.Errors) != 1 {
		t.Fatalf("status %d, errors %+v: want 406 and one error", res.Status, res.Errors)
	}
	if n := h.executed(); n != 0 {
		t.Errorf("%d resolvers ran, want none", n)
	}
	if opened, _, _ := h.opener.counts(); opened != 0 {
		t.Errorf("%d transactions opened, want none", opened)
	}
	// Queries over GET still work.
	if res := h.get(t, `{ __typename }`); res.Status != http.StatusOK || string(res.Data) != `{"__typename":"Query"}` {
		t.Errorf("GET query: %d %s", res.Status, res.Raw)
	}
}

func TestRequestsThatNeverBecomeOperations(t *testing.T) {
	tooSmall := func(next http.Handler) http.Handler {
		// A body limit below the request size, as a proxy or a smaller limit would impose:
		// gqlgen's POST transport then fails to read the body.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, 64)
			next.ServeHTTP(w, r)
		})
	}
	h := newHarness(t, nil, GraphQLConfig{}, withMiddleware(tooSmall))
	tests := []struct {
		name, body string
		wantStatus int
	}{
		{"malformed JSON", `{"query": "{ __typename }", "SECRET-BODY`, http.StatusBadRequest},
		{"batch array", `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`, http.StatusBadRequest},
		{"not an object", `"query"`, http.StatusBadRequest},
		{"empty", ``, http.StatusBadRequest},
		{"unreadable body", `{"query": "` + strings.Repeat(" ", 200) + `{ __typename }"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.postRaw(t, tt.body)
			if res.Status != tt.wantStatus || len(res.Errors) == 0 {
				t.Fatalf("status %d, body %s: want %d and an error", res.Status, res.Raw, tt.wantStatus)
			}
			if res.Errors[0].Extensions["code"] != "BAD_REQUEST" {
				t.Errorf("code = %v, want BAD_REQUEST", res.Errors[0].Extensions["code"])
			}
			if strings.Contains(res.Raw, "SECRET-BODY") {
				t.Errorf("request body echoed: %s", res.Raw)
			}
		})
	}
	if strings.Contains(h.logs.String(), "panic") {
		t.Errorf("a panic was logged: %s", h.logs)
	}
}

// TestContribTransactionerStillPanics documents why transactioner exists: when contrib's
// Transactioner handles a context without an operation, it panics. If this test fails
// after an upgrade, the guard in transactioner.InterceptResponse may be dropped.
func TestContribTransactionerStillPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("entgql.Transactioner no longer panics without an operation context: revisit transactioner")
		}
	}()
	entgql.Transactioner{TxOpener: &fakeOpener{}}.InterceptResponse(context.Background(),
		func(context.Context) *graphql.Response { return &graphql.Response{} })
}

func TestWriteScope(t *testing.T) {
	as := func(v viewer.Viewer) Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
			})
		}
	}
	const mutation = `mutation { signOut { signedOut } }`
	tests := []struct {
		name    string
		viewer  viewer.Viewer
		refused bool
	}{
		{"read-only token", viewer.Viewer{Kind: viewer.User, UserID: "usr_1", Scopes: []viewer.Scope{viewer.ScopeRead}}, true},
		{"token without scopes", viewer.Viewer{Kind: viewer.User, UserID: "usr_1"}, true},
		{"session", viewer.Viewer{Kind: viewer.User, UserID: "usr_1", Scopes: []viewer.Scope{viewer.ScopeRead, viewer.ScopeWrite}}, false},
		{"anonymous", viewer.Viewer{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil, GraphQLConfig{}, withMiddleware(as(tt.viewer)), withPanickingResolvers("boom"))
			res := h.post(t, mutation, nil)
			if tt.refused {
				wantRefused(t, h, res, "FORBIDDEN", "")
				// Queries stay allowed.
				if res := h.post(t, `{ __typename }`, nil); len(res.Errors) != 0 {
					t.Errorf("query refused: %s", res.Raw)
				}
				return
			}
			// Allowed through to the resolver, which panics inside the transaction.
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "INTERNAL" {
				t.Fatalf("errors = %+v, want the panic's INTERNAL", res.Errors)
			}
			opened, committed, rolledBack := h.opener.counts()
			if opened != 1 || committed != 0 || rolledBack != 1 {
				t.Errorf("transactions opened/committed/rolled back = %d/%d/%d, want 1/0/1", opened, committed, rolledBack)
			}
		})
	}
}

// mockSchema is a two-field schema whose operations succeed and report whether they ran
// inside a transaction from fakeOpener.
func mockSchema() graphql.ExecutableSchema {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { ping: Boolean! }
		type Mutation { touch: Boolean! }`})
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 0, false
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			done := false
			return func(ctx context.Context) *graphql.Response {
				if done {
					return nil
				}
				done = true
				_, inTx := ctx.Value(txMarker{}).(bool)
				return &graphql.Response{Data: []byte(fmt.Sprintf(`{"inTx":%v}`, inTx))}
			}
		},
	}
}

func TestTransactions(t *testing.T) {
	t.Run("mutation commits one transaction", func(t *testing.T) {
		h := newHarness(t, mockSchema(), GraphQLConfig{})
		res := h.post(t, `mutation { touch }`, nil)
		if len(res.Errors) != 0 || string(res.Data) != `{"inTx":true}` {
			t.Fatalf("got %s, want data from inside a transaction", res.Raw)
		}
		if opened, committed, rolledBack := h.opener.counts(); opened != 1 || committed != 1 || rolledBack != 0 {
			t.Errorf("opened/committed/rolled back = %d/%d/%d, want 1/1/0", opened, committed, rolledBack)
		}
	})
	t.Run("query opens none", func(t *testing.T) {
		h := newHarness(t, mockSchema(), GraphQLConfig{})
		res := h.post(t, `{ ping }`, nil)
		if len(res.Errors) != 0 || string(res.Data) != `{"inTx":false}` {
			t.Fatalf("got %s, want data from outside any transaction", res.Raw)
		}
		if opened, _, _ := h.opener.counts(); opened != 0 {
			t.Errorf("opened %d transactions, want none", opened)
		}
	})
	driverErr := errors.New("database is locked (5) (SQLITE_BUSY)")
	for _, tt := range []struct {
		name  string
		setup func(*fakeOpener)
	}{
		{"begin fails", func(o *fakeOpener) { o.beginErr = driverErr }},
		{"commit fails", func(o *fakeOpener) { o.commitErr = driverErr }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, mockSchema(), GraphQLConfig{})
			tt.setup(h.opener)
			res := h.post(t, `mutation { touch }`, nil)
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "INTERNAL" || res.Errors[0].Message != "internal error" {
				t.Fatalf("got %s, want one INTERNAL error", res.Raw)
			}
			if strings.Contains(res.Raw, "SQLITE") || strings.Contains(res.Raw, "locked") || strings.Contains(res.Raw, "inTx") {
				t.Errorf("driver text or data reached the client: %s", res.Raw)
			}
			logged := h.logs.withMessage(t, "graphql transaction failed")
			if len(logged) != 1 || !strings.Contains(fmt.Sprint(logged[0]["err"]), "SQLITE_BUSY") || logged[0]["request_id"] == "" {
				t.Errorf("logged %v, want the driver error once with the request id", logged)
			}
		})
	}
}

func TestAPQ(t *testing.T) {
	h := newHarness(t, mockSchema(), GraphQLConfig{})
	const query = `{ ping }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	send := func(q string) gqlResult {
		body, _ := json.Marshal(map[string]any{"query": q, "extensions": ext})
		return h.postRaw(t, string(body))
	}
	res := send("")
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "PERSISTED_QUERY_NOT_FOUND" || res.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %s, want PersistedQueryNotFound", res.Raw)
	}
	if res := send(query); len(res.Errors) != 0 {
		t.Fatalf("registering: %s", res.Raw)
	}
	if res := send(""); len(res.Errors) != 0 || !bytes.Equal(res.Data, []byte(`{"inTx":false}`)) {
		t.Fatalf("by hash: %s", res.Raw)
	}
	if res := send(`{ ping ping2: ping }`); len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "BAD_REQUEST" {
		t.Errorf("mismatched hash: %s, want BAD_REQUEST", res.Raw)
	}
}

func TestInputCoercionOfACursorIsInvalidCursor(t *testing.T) {
	h := newHarness(t, nil, GraphQLConfig{})
	res := h.post(t, `{ users(first: 1, after: "@@not a cursor@@") { totalCount } }`, nil)
	if len(res.Errors) != 1 {
		t.Fatalf("errors = %s, want one", res.Raw)
	}
	if e := res.Errors[0]; e.Extensions["code"] != "INVALID_CURSOR" || e.Message != "The cursor is not one this API gave out." {
		t.Errorf("error = %+v, want INVALID_CURSOR in our words", e)
	}
	if h.fields.Load() != 0 {
		t.Errorf("the users resolver ran")
	}
	if n := len(h.logs.withMessage(t, "graphql internal error")); n != 0 {
		t.Errorf("bad input logged as an internal error")
	}
}

// TestUnavailableTransactionIs503: a transaction that cannot begin or commit because the
// database is unavailable (SQLite busy past the timeout, a lost connection) is answered 503
// UNAVAILABLE with Retry-After; an answer with any other error keeps its status.
func TestUnavailableTransactionIs503(t *testing.T) {
	busy := sqlite3.Error{Code: sqlite3.ErrBusy}
	for _, tt := range []struct {
		name  string
		setup func(*fakeOpener)
	}{
		{"begin fails", func(o *fakeOpener) { o.beginErr = busy }},
		{"commit fails", func(o *fakeOpener) { o.commitErr = fmt.Errorf("commit: %w", io.ErrUnexpectedEOF) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, mockSchema(), GraphQLConfig{})
			tt.setup(h.opener)
			req := newRequest(t, http.MethodPost, h.url, strings.NewReader(`{"query":"mutation { touch }"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, body := do(t, req)
			res := decodeResult(t, resp, body)
			if res.Status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" {
				t.Errorf("status %d, Retry-After %q; want 503 and 5", res.Status, resp.Header.Get("Retry-After"))
			}
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "UNAVAILABLE" || strings.Contains(res.Raw, "inTx") {
				t.Errorf("got %s, want one UNAVAILABLE error and no data", res.Raw)
			}
			if n := len(h.logs.withMessage(t, "graphql database unavailable")); n != 1 {
				t.Errorf("logged %d warnings, want 1", n)
			}
			// The next request, with a working database, is an ordinary 200.
			h.opener.mu.Lock()
			h.opener.beginErr, h.opener.commitErr = nil, nil
			h.opener.mu.Unlock()
			if res := h.post(t, `mutation { touch }`, nil); res.Status != http.StatusOK || len(res.Errors) != 0 {
				t.Errorf("after recovery: %d %s", res.Status, res.Raw)
			}
		})
	}
}
