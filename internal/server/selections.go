package server

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// spreadSelections returns the selections of a fragment spread, from its definition or,
// when the parser left that empty, from the document; nil when the fragment is unknown
// (validation reports that).
func spreadSelections(doc *ast.QueryDocument, s *ast.FragmentSpread) ast.SelectionSet {
	def := s.Definition
	if def == nil && doc != nil {
		def = doc.Fragments.ForName(s.Name)
	}
	if def == nil {
		return nil
	}
	return def.SelectionSet
}

// walkFields calls visit for each field of set, through inline fragments and fragment
// spreads (each fragment walked once), and, when deep, for the fields below them too. It
// stops at the first error visit returns.
func walkFields(doc *ast.QueryDocument, set ast.SelectionSet, deep bool, visit func(*ast.Field) *gqlerror.Error) *gqlerror.Error {
	seen := map[string]bool{}
	var walk func(ast.SelectionSet) *gqlerror.Error
	walk = func(set ast.SelectionSet) *gqlerror.Error {
		for _, sel := range set {
			var err *gqlerror.Error
			switch s := sel.(type) {
			case *ast.Field:
				if err = visit(s); err == nil && deep {
					err = walk(s.SelectionSet)
				}
			case *ast.InlineFragment:
				err = walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if !seen[s.Name] {
					seen[s.Name] = true
					err = walk(spreadSelections(doc, s))
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walk(set)
}
