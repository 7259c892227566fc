// Command cmd writes the published schema: go run ./graph/schemafile/cmd [-o graph/schema.graphql].
// Run from the repository's root by `go generate ./...` (see ent/generate.go).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gocart-coalition/coalition/graph/schemafile"
)

func main() {
	in := flag.String("schema", "graph/*.graphqls", "schema files gqlgen serves")
	out := flag.String("o", "graph/schema.graphql", "file to write")
	flag.Parse()
	schema, err := schemafile.Load(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemafile:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, schemafile.Print(schema), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "schemafile:", err)
		os.Exit(1)
	}
}
