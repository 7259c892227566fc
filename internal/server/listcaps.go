package server

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/gocart-coalition/coalition/internal/apperr"
)

// ListCaps is the most items each plain (non-connection) list of objects in the API
// returns, keyed "Type.field" ("*.field" for that field on every type). Limits counts such
// a list as that many nodes, so nested plain lists are refused before any resolver runs
// when their product exceeds the node budget, as connections are; the ListCaps field
// middleware refuses an answer longer than its cap, so the count is never a guess.
// Limits.Validate refuses a schema with a plain list of objects that has no cap here.
//
// The caps are the domain's bounds (a call's review criteria, a slot's capacity, a
// trainee's host choices) or generous sizes for one call (2,000 applications, 300 slots),
// chosen so that a run's full results fit the default budget of 10,000 nodes:
// 300 + 300×20 + 2,000 + 1,000 + 10 + 50 = 9,360.
var ListCaps = map[string]int{
	"*.userErrors":                            50,
	"Application.availability":                10, // programme.maxRanges
	"Application.hostChoices":                 10, // max_preferences ≤ 10
	"Application.documents":                   50,
	"Application.refereeRequests":             10,
	"Application.reviews":                     50,
	"Call.reviewCriteria":                     10, // programme.maxCriteria
	"Campaign.groups":                         50, // newsletter.MaxAudience
	"Campaign.lists":                          50, // newsletter.MaxAudience
	"Call.reviewRanking":                      2000,
	"Call.reviewQueue":                        2000,
	"Call.reviewers":                          100,
	"Call.reviewAssignments":                  5000, // a few reviewers per application
	"AssignReviewsPayload.assignments":        2000,
	"Call.hostRanking":                        2000,
	"Call.matchRuns":                          100,
	"Call.matchOverrides":                     1000,
	"ConflictOfInterestDeclaration.interests": 50, // groups.maxInterests
	"HostCentre.coordinators":                 50,
	"MatchOutcome.explanation":                50,
	"MatchRun.assignments":                    300,
	"MatchRun.explanation":                    50,
	"MatchRun.overrides":                      1000,
	"MatchRun.unmatched":                      2000,
	"MatchStats.rankReceived":                 10,  // max_preferences ≤ 10
	"NewsletterSubscription.consent":          10,  // a few records per signup
	"Query.consentTexts":                      100, // consent.MaxVersionsListed
	"Query.myConsents":                        10,  // one per personal purpose
	"Subscriber.subscriptions":                50,  // one per list
	"Meeting.attendees":                       500,
	"PolicyStatement.revisions":               1000, // one per edit
	"PolicyStatement.signatories":             200,
	"PolicyStatement.signoffs":                2000,
	"PolicyStatement.coAuthors":               50, // statements.MaxPeople
	"PolicyStatement.endorsers":               50,
	"PublicStatement.corrections":             1000,
	"PublicStatement.coAuthors":               50,
	"PublicStatement.endorsers":               50,
	"PublicStatement.declarations":            50,
	"Organisation.hostCentres":                50,
	"Query.compareMatchRuns":                  2000,
	"Review.scores":                           10, // one per criterion
	"SlotAssignment.applications":             20, // a slot's capacity ≤ 20
	"HostRankingPayload.ranking":              2000,
	"User.affiliations":                       50,
	"User.coordinatedCentres":                 50,
	"User.memberships":                        100,
}

// listCap returns the cap of field on type typ.
func listCap(typ, field string) (int, bool) {
	if n, ok := ListCaps[typ+"."+field]; ok {
		return n, true
	}
	n, ok := ListCaps["*."+field]
	return n, ok
}

// isPageEdges reports whether field is the edges (or nodes) list of a connection, whose
// length is the page size the connection already counts.
func isPageEdges(typ, field string) bool {
	return strings.HasSuffix(typ, "Connection") && (field == "edges" || field == "nodes")
}

// plainListsWithoutCap lists the plain lists of objects in schema that have no cap.
func plainListsWithoutCap(schema *ast.Schema) []string {
	var missing []string
	for name, def := range schema.Types {
		if strings.HasPrefix(name, "__") || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, f := range def.Fields {
			if f.Type == nil || f.Type.Elem == nil || isPageEdges(name, f.Name) || strings.HasPrefix(f.Name, "__") {
				continue
			}
			if f.Arguments.ForName("ids") != nil {
				continue // nodes(ids:): counted by its ids
			}
			elem := schema.Types[f.Type.Name()]
			if elem == nil || elem.Kind == ast.Scalar || elem.Kind == ast.Enum {
				continue
			}
			if _, ok := listCap(name, f.Name); !ok {
				missing = append(missing, name+"."+f.Name)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

// ListCapsMiddleware returns a gqlgen field middleware that refuses (BAD_REQUEST) a plain
// list answer longer than its cap in ListCaps. The caps of schema's fields are looked up
// once, here, and the middleware only asks a table keyed by (type, field): every field
// of every answer passes through it.
func ListCapsMiddleware(schema *ast.Schema) graphql.FieldMiddleware {
	caps := map[capKey]int{}
	for name, def := range schema.Types {
		if def.Kind != ast.Object && def.Kind != ast.Interface {
			continue
		}
		for _, f := range def.Fields {
			if f.Type == nil || f.Type.Elem == nil {
				continue
			}
			if n, ok := listCap(name, f.Name); ok {
				caps[capKey{name, f.Name}] = n
			}
		}
	}
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || len(fc.Field.Selections) == 0 {
			return next(ctx)
		}
		limit, ok := caps[capKey{fc.Object, fc.Field.Name}]
		if !ok {
			return next(ctx)
		}
		res, err := next(ctx)
		if err != nil {
			return res, err
		}
		if v := reflect.ValueOf(res); v.Kind() == reflect.Slice && v.Len() > limit {
			return nil, apperr.New(apperr.BadRequest, "%s.%s has %d items, more than the %d this list returns", fc.Object, fc.Field.Name, v.Len(), limit)
		}
		return res, nil
	}
}

// capKey names a field of a type.
type capKey struct{ typ, field string }
