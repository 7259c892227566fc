package graph_test

import (
	"os"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/gocart-coalition/coalition/graph"
	"github.com/gocart-coalition/coalition/graph/schemafile"
)

// The committed graph/schema.graphql is the schema the server executes, printed: a client team
// that builds on the file builds on what the API answers.
func TestPublishedSchemaIsTheExecutedOne(t *testing.T) {
	committed, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatalf("read the published schema: %v (run make generate)", err)
	}
	printed := schemafile.Print(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema())
	if string(printed) != string(committed) {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(committed)), B: difflib.SplitLines(string(printed)),
			FromFile: "graph/schema.graphql", ToFile: "executed schema", Context: 2,
		})
		t.Fatalf("graph/schema.graphql differs from the executed schema; run make generate:\n%s", diff)
	}
}
