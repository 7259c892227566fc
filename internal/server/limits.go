package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/gocart-coalition/coalition/internal/apperr"
)

// Defaults for Limits (ARCHITECTURE §6.6).
const (
	// DefaultMaxDepth is the deepest field nesting allowed; the root fields are at depth 1.
	DefaultMaxDepth = 12
	// DefaultMaxPage is the largest first/last a connection accepts.
	DefaultMaxPage = 100
	// DefaultMaxNodes bounds the nodes one request may ask for. Every connection page is
	// one SQL statement over at most MaxPage rows, so the node count is what bounds the
	// rows read and the size of the answer. 10,000 lets a client read a full page of 100
	// records with up to 99 children each (100 + 100×99 = 10,000) — enough for any screen
	// we build — while keeping the worst answer to a few megabytes; a full 100×100 nested
	// read (10,100) must be split into pages. GitHub, serving far larger machines and
	// caches, allows 500,000.
	DefaultMaxNodes = 10_000
)

// Reasons given in extensions.reason when Limits refuses an operation.
const (
	// ReasonFirstOrLastRequired: a connection got neither first nor last, or both.
	ReasonFirstOrLastRequired = "FIRST_OR_LAST_REQUIRED"
	// ReasonPageTooLarge: first/last (or the ids of nodes) exceeds MaxPage.
	ReasonPageTooLarge = "PAGE_TOO_LARGE"
	// ReasonPageSizeInvalid: first/last is zero, negative or not an integer.
	ReasonPageSizeInvalid = "PAGE_SIZE_INVALID"
	// ReasonNodeLimit: the operation may return more than MaxNodes nodes.
	ReasonNodeLimit = "NODE_LIMIT"
	// ReasonDepthLimit: fields are nested deeper than MaxDepth.
	ReasonDepthLimit = "DEPTH_LIMIT"
	// ReasonFieldRepeated: a sensitive mutation field appears more than MaxSensitive times.
	ReasonFieldRepeated = "FIELD_REPEATED"
	// ReasonFragmentCycle: a fragment spreads itself, directly or through others.
	// Validation refuses such documents before Limits runs; Limits refuses them too rather
	// than measure a document whose size has no bound.
	ReasonFragmentCycle = "FRAGMENT_CYCLE"
)

// DefaultMaxSensitive is how many times one sensitive mutation field (SensitiveMutations)
// may appear in an operation, aliases and fragments included. A client needs one; a few
// more leave room for a batching client. Guessing sign-in links with hundreds of aliases in
// one request is refused whole, before anything runs; the sign-in service's own limit of
// failed redemptions per client address counts every attempt that gets through.
const DefaultMaxSensitive = 5

// SensitiveMutations are the mutation fields whose repetition in one operation is capped.
var SensitiveMutations = []string{"redeemLoginLink", "requestLoginLink"}

// Limits is a gqlgen extension that refuses expensive operations before any resolver
// runs, so no SQL is executed for them. It runs as an OperationContextMutator: gqlgen
// calls those after parsing, validation and variable coercion and before dispatching the
// operation. It enforces:
//
//   - pagination: every Relay connection field (its type's name ends in "Connection" and it
//     takes first/last) gets exactly one of first or last, an integer 1..MaxPage, literal
//     or from the operation's variables; a list field taking ids (nodes(ids:)) gets at most
//     MaxPage of them;
//   - a node budget, GitHub's rule: the sum over connection fields of the product of the
//     page sizes along the path from the root must not exceed MaxNodes; a plain list of
//     objects (not a connection) counts as its cap in ListCaps, as if it were a page of
//     that size;
//   - depth: fields nest at most MaxDepth levels, counted through fragment spreads and
//     inline fragments (which add no level themselves);
//   - repetition: a mutation names each of SensitiveMutations at most MaxSensitive times
//     (under any alias, through fragments too).
//
// Introspection (__schema, __type) is left to gqlparser's MaxIntrospectionDepth rule and to
// the introspection switch. @skip and @include are ignored: the cost of what might be
// asked for is counted. Each fragment is measured once and reused wherever it is spread,
// so a document that spreads fragments exponentially often is still measured in linear
// time, and a fragment cycle (already refused by validation) cannot loop: it is refused
// (FRAGMENT_CYCLE).
//
// Zero fields take the defaults.
type Limits struct {
	MaxDepth, MaxNodes, MaxPage, MaxSensitive int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Limits{}

// ExtensionName implements graphql.HandlerExtension.
func (Limits) ExtensionName() string { return "CoalitionLimits" }

// Validate implements graphql.HandlerExtension: negative limits are a wiring mistake, and
// so is a plain list of objects without a cap in ListCaps.
func (l Limits) Validate(es graphql.ExecutableSchema) error {
	if l.MaxDepth < 0 || l.MaxNodes < 0 || l.MaxPage < 0 || l.MaxSensitive < 0 {
		return fmt.Errorf("graphql limits must not be negative: %+v", l)
	}
	if es == nil || es.Schema() == nil {
		return nil
	}
	if missing := plainListsWithoutCap(es.Schema()); len(missing) > 0 {
		return fmt.Errorf("plain lists without a cap in server.ListCaps (make them connections or give them one): %s", strings.Join(missing, ", "))
	}
	return nil
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth == 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxNodes == 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	if l.MaxPage == 0 {
		l.MaxPage = DefaultMaxPage
	}
	if l.MaxSensitive == 0 {
		l.MaxSensitive = DefaultMaxSensitive
	}
	return l
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (l Limits) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx == nil || opCtx.Operation == nil {
		return nil
	}
	l = l.withDefaults()
	if opCtx.Operation.Operation == ast.Mutation {
		if err := l.repeated(opCtx.Doc, opCtx.Operation.SelectionSet); err != nil {
			return err
		}
	}
	w := &limitWalker{
		limits:   l,
		vars:     opCtx.Variables,
		doc:      opCtx.Doc,
		memo:     map[string]selectionCost{},
		visiting: map[string]bool{},
	}
	c, err := w.selectionSet(opCtx.Operation.SelectionSet, nil)
	if err != nil {
		return err
	}
	if c.depth > l.MaxDepth {
		return limitError(ReasonDepthLimit, c.deepestPos,
			"field %q is nested %d levels deep; the limit is %d",
			joinPath(c.deepest), c.depth, l.MaxDepth)
	}
	if c.nodes > int64(l.MaxNodes) {
		return limitError(ReasonNodeLimit, c.topPos,
			"this operation may return up to %s nodes; the limit is %d (the largest part is %q with up to %s): ask for smaller pages",
			countString(c.nodes), l.MaxNodes, joinPath(c.topPath), countString(c.top))
	}
	return nil
}

// repeated refuses a mutation that names a sensitive field more than MaxSensitive times.
// Root fields are counted through fragment spreads and inline fragments; a fragment spread
// twice counts twice (validation has refused cycles; a spread already being walked is
// not walked again).
func (l Limits) repeated(doc *ast.QueryDocument, set ast.SelectionSet) *gqlerror.Error {
	counts := map[string]int{}
	first := map[string]*ast.Position{}
	visiting := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				counts[s.Name]++
				if first[s.Name] == nil {
					first[s.Name] = s.Position
				}
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if visiting[s.Name] {
					continue
				}
				visiting[s.Name] = true
				walk(spreadSelections(doc, s))
				delete(visiting, s.Name)
			}
		}
	}
	walk(set)
	for _, name := range SensitiveMutations {
		if n := counts[name]; n > l.MaxSensitive {
			return limitError(ReasonFieldRepeated, first[name],
				"%q appears %d times in this operation; the most is %d", name, n, l.MaxSensitive)
		}
	}
	return nil
}

// nodeCap keeps node arithmetic far from overflow; any count this large is refused anyway.
const nodeCap = int64(1) << 53

// selectionCost is what a selection set asks for, measured from its own level: a fragment's
// cost does not depend on where it is spread, which is what makes memoizing it sound.
type selectionCost struct {
	depth      int      // levels of fields, 0 for an empty set
	deepest    []string // response path to a field at that depth
	deepestPos *ast.Position
	nodes      int64    // nodes at a multiplier of 1
	top        int64    // the largest single connection contribution
	topPath    []string // where it is
	topPos     *ast.Position
}

func (c *selectionCost) add(o selectionCost) {
	if o.depth > c.depth {
		c.depth, c.deepest, c.deepestPos = o.depth, o.deepest, o.deepestPos
	}
	c.nodes = satAdd(c.nodes, o.nodes)
	if o.top > c.top {
		c.top, c.topPath, c.topPos = o.top, o.topPath, o.topPos
	}
}

type limitWalker struct {
	limits   Limits
	vars     map[string]any
	doc      *ast.QueryDocument
	memo     map[string]selectionCost
	visiting map[string]bool
}

func (w *limitWalker) selectionSet(set ast.SelectionSet, path []string) (selectionCost, *gqlerror.Error) {
	var total selectionCost
	for _, sel := range set {
		var (
			c   selectionCost
			err *gqlerror.Error
		)
		switch s := sel.(type) {
		case *ast.Field:
			c, err = w.field(s, path)
		case *ast.InlineFragment:
			c, err = w.selectionSet(s.SelectionSet, path)
		case *ast.FragmentSpread:
			c, err = w.fragment(s, path)
		}
		if err != nil {
			return selectionCost{}, err
		}
		total.add(c)
	}
	return total, nil
}

func (w *limitWalker) fragment(s *ast.FragmentSpread, path []string) (selectionCost, *gqlerror.Error) {
	if c, ok := w.memo[s.Name]; ok {
		return c, nil
	}
	if w.visiting[s.Name] {
		// A cycle: validation refuses these, and walking it again would never end.
		return selectionCost{}, limitError(ReasonFragmentCycle, s.Position,
			"fragment %q spreads itself; a fragment cannot contain itself", s.Name)
	}
	w.visiting[s.Name] = true
	c, err := w.selectionSet(spreadSelections(w.doc, s), path)
	delete(w.visiting, s.Name)
	if err != nil {
		return selectionCost{}, err
	}
	w.memo[s.Name] = c
	return c, nil
}

func (w *limitWalker) field(f *ast.Field, path []string) (selectionCost, *gqlerror.Error) {
	name := f.Alias
	if name == "" {
		name = f.Name
	}
	fieldPath := append(path[:len(path):len(path)], name)
	if f.Name == "__schema" || f.Name == "__type" {
		return selectionCost{depth: 1, deepest: []string{name}, deepestPos: f.Position}, nil
	}

	var (
		mult     int64 = 1
		counted  bool
		pageSize int64
		err      *gqlerror.Error
	)
	switch {
	case isConnection(f.Definition):
		pageSize, err = w.connectionPageSize(f, fieldPath)
		mult, counted = pageSize, true
	case isIDsList(f.Definition):
		pageSize, err = w.idsCount(f, fieldPath)
		mult, counted = pageSize, true
	case isPlainList(f):
		// A plain list of objects counts as its cap (ListCaps); one without a cap (a
		// schema Validate refuses) counts as more than any budget.
		mult, counted = nodeCap, true
		if n, ok := listCap(f.ObjectDefinition.Name, f.Name); ok {
			mult = int64(n)
		}
	}
	if err != nil {
		return selectionCost{}, err
	}

	child, err := w.selectionSet(f.SelectionSet, fieldPath)
	if err != nil {
		return selectionCost{}, err
	}
	c := selectionCost{
		depth:      child.depth + 1,
		deepest:    prepend(name, child.deepest),
		deepestPos: f.Position,
		nodes:      satMul(child.nodes, mult),
	}
	if child.depth > 0 {
		c.deepestPos = child.deepestPos
	}
	if child.top > 0 {
		c.top, c.topPath, c.topPos = satMul(child.top, mult), prepend(name, child.topPath), child.topPos
	}
	if counted {
		c.nodes = satAdd(c.nodes, mult)
		if mult > c.top {
			c.top, c.topPath, c.topPos = mult, []string{name}, f.Position
		}
	}
	return c, nil
}

// isConnection reports whether def returns a Relay connection: a type named …Connection
// paged with first/last.
func isConnection(def *ast.FieldDefinition) bool {
	if def == nil || def.Type == nil || !strings.HasSuffix(def.Type.Name(), "Connection") {
		return false
	}
	return def.Arguments.ForName("first") != nil || def.Arguments.ForName("last") != nil
}

// isPlainList reports whether f is a list of objects that is neither a connection, nor
// a connection's page of edges, nor looked up by ids.
func isPlainList(f *ast.Field) bool {
	def := f.Definition
	if def == nil || def.Type == nil || def.Type.Elem == nil || f.ObjectDefinition == nil || len(f.SelectionSet) == 0 {
		return false
	}
	return !isPageEdges(f.ObjectDefinition.Name, f.Name) && !isIDsList(def)
}

// isIDsList reports whether def returns a list looked up by a list argument "ids", as
// Relay's nodes(ids:) does.
func isIDsList(def *ast.FieldDefinition) bool {
	if def == nil || def.Type == nil || def.Type.Elem == nil {
		return false
	}
	ids := def.Arguments.ForName("ids")
	return ids != nil && ids.Type != nil && ids.Type.Elem != nil
}

func (w *limitWalker) connectionPageSize(f *ast.Field, path []string) (int64, *gqlerror.Error) {
	first, hasFirst := w.argument(f, "first")
	last, hasLast := w.argument(f, "last")
	where := joinPath(path)
	switch {
	case hasFirst && hasLast:
		return 0, limitError(ReasonFirstOrLastRequired, f.Position,
			"connection %q takes one of first or last, not both", where)
	case !hasFirst && !hasLast:
		return 0, limitError(ReasonFirstOrLastRequired, f.Position,
			"connection %q needs first or last (1 to %d)", where, w.limits.MaxPage)
	}
	arg, v := "first", first
	if hasLast {
		arg, v = "last", last
	}
	n, ok := toInt64(v)
	switch {
	case !ok || n < 1:
		return 0, limitError(ReasonPageSizeInvalid, f.Position,
			"%s of connection %q must be an integer from 1 to %d", arg, where, w.limits.MaxPage)
	case n > int64(w.limits.MaxPage):
		return 0, limitError(ReasonPageTooLarge, f.Position,
			"%s of connection %q is %d; the most is %d", arg, where, n, w.limits.MaxPage)
	}
	return n, nil
}

func (w *limitWalker) idsCount(f *ast.Field, path []string) (int64, *gqlerror.Error) {
	v, ok := w.argument(f, "ids")
	if !ok {
		return 0, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return 1, nil
	}
	n := int64(rv.Len())
	if n > int64(w.limits.MaxPage) {
		return 0, limitError(ReasonPageTooLarge, f.Position,
			"%q asks for %d ids; the most is %d", joinPath(path), n, w.limits.MaxPage)
	}
	return n, nil
}

// argument returns the value of f's argument name, resolving variables, and whether it
// was given a non-null value. A variable the request did not set counts as not given.
func (w *limitWalker) argument(f *ast.Field, name string) (any, bool) {
	a := f.Arguments.ForName(name)
	if a == nil || a.Value == nil {
		return nil, false
	}
	if a.Value.Kind == ast.Variable {
		v, ok := w.vars[a.Value.Raw]
		return v, ok && v != nil
	}
	v, err := a.Value.Value(w.vars)
	if err != nil {
		// Validation has checked literals; an unreadable one is not a valid page size.
		return a.Value.Raw, true
	}
	return v, v != nil
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < float64(nodeCap) {
			return int64(n), true
		}
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

func limitError(reason string, pos *ast.Position, format string, args ...any) *gqlerror.Error {
	err := &gqlerror.Error{
		Message: fmt.Sprintf(format, args...),
		Extensions: map[string]any{
			"code":   string(apperr.BadRequest),
			"reason": reason,
		},
	}
	if pos != nil {
		err.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	return err
}

func prepend(name string, rest []string) []string {
	out := make([]string, 0, len(rest)+1)
	return append(append(out, name), rest...)
}

func joinPath(p []string) string { return strings.Join(p, ".") }

func countString(n int64) string {
	if n >= nodeCap {
		return "more than " + strconv.FormatInt(nodeCap, 10)
	}
	return strconv.FormatInt(n, 10)
}

func satAdd(a, b int64) int64 {
	if a >= nodeCap-b {
		return nodeCap
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a >= nodeCap/b {
		return nodeCap
	}
	return a * b
}
