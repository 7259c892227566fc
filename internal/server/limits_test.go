package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// loadGraphSchema reads the API schema from graph/*.graphqls.
func loadGraphSchema(t *testing.T) *ast.Schema {
	t.Helper()
	files, err := filepath.Glob("../../graph/*.graphqls")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	schema, gqlErr := gqlparser.LoadSchema(sources...)
	if gqlErr != nil {
		t.Fatalf("load schema: %v", gqlErr)
	}
	return schema
}

// validOperation parses and validates query against schema and coerces vars, as gqlgen does
// before it calls OperationContextMutators.
func validOperation(t *testing.T, schema *ast.Schema, query string, vars map[string]any) *graphql.OperationContext {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(schema, query)
	if errs != nil {
		t.Fatalf("invalid query: %v", errs)
	}
	op := doc.Operations[0]
	coerced, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		t.Fatalf("variables: %v", err)
	}
	return &graphql.OperationContext{Doc: doc, Operation: op, Variables: coerced}
}

// parsedOperation parses query without validating it, for documents validation refuses.
func parsedOperation(t *testing.T, query string) *graphql.OperationContext {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
}

func reasonOf(err *gqlerror.Error) string {
	if err == nil {
		return ""
	}
	r, _ := err.Extensions["reason"].(string)
	return r
}

func TestLimitsUnit(t *testing.T) {
	schema := loadGraphSchema(t)
	tests := []struct {
		name   string
		limits Limits
		query  string
		vars   map[string]any
		reason string
	}{
		{"defaults allow a page of 100", Limits{}, `{ users(first: 100) { totalCount } }`, nil, ""},
		{"defaults refuse 101", Limits{}, `{ users(first: 101) { totalCount } }`, nil, ReasonPageTooLarge},
		{"json number variable", Limits{}, `query($n: Int!) { users(last: $n) { totalCount } }`,
			map[string]any{"n": json.Number("101")}, ReasonPageTooLarge},
		{"float variable", Limits{}, `query($n: Int!) { users(last: $n) { totalCount } }`,
			map[string]any{"n": float64(20)}, ""},
		{"connection in a mutation payload is not special", Limits{},
			`mutation { createUser(input: {email: "a@b.c", name: "A", roles: [STAFF]}) { user { apiTokens { totalCount } } } }`,
			nil, ReasonFirstOrLastRequired},
		{"node budget exactly met", Limits{MaxNodes: 110}, `{ users(first: 10) { edges { node { apiTokens(first: 10) { totalCount } } } } }`, nil, ""},
		{"node budget exceeded by one", Limits{MaxNodes: 109}, `{ users(first: 10) { edges { node { apiTokens(first: 10) { totalCount } } } } }`, nil, ReasonNodeLimit},
		{"inline fragments add no depth", Limits{MaxDepth: 2}, `{ ... on Query { ... on Query { users(first: 1) { totalCount } } } }`, nil, ""},
		{"depth counts fields", Limits{MaxDepth: 2}, `{ users(first: 1) { pageInfo { hasNextPage } } }`, nil, ReasonDepthLimit},
		{"a plain list counts as its cap", Limits{},
			`{ calls(first: 5) { edges { node { reviewQueue { id } } } } }`, nil, ReasonNodeLimit}, // 5 + 5×2,000
		{"a plain list under the budget", Limits{},
			`{ calls(first: 4) { edges { node { reviewQueue { id } } } } }`, nil, ""}, // 4 + 4×2,000
		{"nested plain lists multiply", Limits{MaxNodes: 100 + 100*50 - 1},
			`query($id: ID!) { node(id: $id) { ... on Call { matchRuns { explanation(applicationId: $id) { code } } } } }`,
			map[string]any{"id": "cal_x"}, ReasonNodeLimit}, // 100 runs + 100×50 reasons
		{"a connection's edges are its page", Limits{MaxNodes: 10}, `{ users(first: 10) { edges { node { id } } } }`, nil, ""},
		{"introspection is not counted", Limits{MaxDepth: 2},
			`{ __schema { types { fields { type { ofType { name } } } } } }`, nil, ""},
		{"a sensitive mutation up to the limit", Limits{MaxSensitive: 2},
			`mutation { a: redeemLoginLink(input: {token: "x"}) { sessionToken } b: redeemLoginLink(input: {token: "y"}) { sessionToken } }`, nil, ""},
		{"a sensitive mutation aliased past the limit", Limits{MaxSensitive: 2},
			`mutation { a: redeemLoginLink(input: {token: "x"}) { sessionToken } b: redeemLoginLink(input: {token: "y"}) { sessionToken } c: redeemLoginLink(input: {token: "z"}) { sessionToken } }`, nil, ReasonFieldRepeated},
		{"repeats counted through fragments", Limits{MaxSensitive: 2},
			`mutation { ...F ... on Mutation { ...F } } fragment F on Mutation { r: requestLoginLink(input: {email: "a@b.example"}) { accepted } s: requestLoginLink(input: {email: "c@b.example"}) { accepted } }`, nil, ReasonFieldRepeated},
		{"other mutations are not capped", Limits{MaxSensitive: 1},
			`mutation { a: signOut { signedOut } b: signOut { signedOut } }`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limits.MutateOperationContext(context.Background(), validOperation(t, schema, tt.query, tt.vars))
			if got := reasonOf(err); got != tt.reason {
				t.Errorf("reason = %q, want %q (%v)", got, tt.reason, err)
			}
			if err != nil && (err.Extensions["code"] != "BAD_REQUEST" || len(err.Locations) == 0) {
				t.Errorf("error %+v: want code BAD_REQUEST and a location", err)
			}
		})
	}
}

func TestLimitsFragmentCycleTerminates(t *testing.T) {
	// Validation refuses cycles before Limits runs; Limits must not loop on one anyway.
	opCtx := parsedOperation(t, `query { ...A }
fragment A on Query { users(first: 1) { ...B } }
fragment B on UserConnection { edges { node { ...C } } ...A }
fragment C on User { ...B id }`)
	_ = Limits{}.MutateOperationContext(context.Background(), opCtx)
}

func TestLimitsExponentialFragmentsAreMeasuredOnce(t *testing.T) {
	// Each fragment spreads the next twice: walked naively this is 2^60 fields.
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	const levels = 60
	for i := range levels {
		b.WriteString("fragment F" + itoa(i) + " on Query { ...F" + itoa(i+1) + " ...F" + itoa(i+1) + " }\n")
	}
	b.WriteString("fragment F" + itoa(levels) + " on Query { me { id } }\n")
	err := Limits{}.MutateOperationContext(context.Background(), parsedOperation(t, b.String()))
	if err != nil {
		t.Errorf("got %v, want no error: no connections and depth 2", err)
	}

	// With a connection at the bottom the count saturates instead of overflowing.
	schema := loadGraphSchema(t)
	b.Reset()
	b.WriteString("query { ...F0 }\n")
	for i := range levels {
		b.WriteString("fragment F" + itoa(i) + " on Query { ...F" + itoa(i+1) + " }\n")
	}
	b.WriteString("fragment F" + itoa(levels) + " on Query { users(first: 100) { edges { node { apiTokens(first: 100) { edges { node { user { apiTokens(first: 100) { totalCount } } } } } } } } }\n")
	err = Limits{MaxDepth: 100}.MutateOperationContext(context.Background(), validOperation(t, schema, b.String(), nil))
	if reasonOf(err) != ReasonNodeLimit || !strings.Contains(err.Message, "1010100") {
		t.Errorf("got %v, want NODE_LIMIT counting 100 + 100² + 100³ = 1010100", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLimitsValidate(t *testing.T) {
	if err := (Limits{MaxDepth: -1}).Validate(nil); err == nil {
		t.Error("negative MaxDepth accepted")
	}
	if err := (Limits{}).Validate(nil); err != nil {
		t.Errorf("zero limits: %v", err)
	}
	if got := (Limits{}).withDefaults(); got != (Limits{MaxDepth: DefaultMaxDepth, MaxNodes: DefaultMaxNodes, MaxPage: DefaultMaxPage, MaxSensitive: DefaultMaxSensitive}) {
		t.Errorf("defaults = %+v", got)
	}
}

func TestToInt64(t *testing.T) {
	tests := []struct {
		in   any
		want int64
		ok   bool
	}{
		{int(5), 5, true}, {int32(5), 5, true}, {int64(5), 5, true}, {float64(5), 5, true},
		{float64(5.5), 0, false}, {json.Number("7"), 7, true}, {json.Number("7.5"), 0, false},
		{"9", 9, true}, {"x", 0, false}, {true, 0, false}, {nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := toInt64(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("toInt64(%#v) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Every plain list of objects in the API has a cap, so the node budget counts it.
func TestEveryPlainListHasACap(t *testing.T) {
	if missing := plainListsWithoutCap(loadGraphSchema(t)); len(missing) > 0 {
		t.Errorf("plain lists without a cap in ListCaps: %v", missing)
	}
	schema, gqlErr := gqlparser.LoadSchema(&ast.Source{Input: `type Query { things: [Thing!]! names: [String!]! }
type Thing { id: ID! parts: [Thing!] }`})
	if gqlErr != nil {
		t.Fatal(gqlErr)
	}
	if got := plainListsWithoutCap(schema); !slices.Equal(got, []string{"Query.things", "Thing.parts"}) {
		t.Errorf("uncapped lists found: %v, want Query.things and Thing.parts", got)
	}
}
