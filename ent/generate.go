// Package ent holds the ent schema (ent/schema) and the code generated from it.
package ent

// ent first (it also writes graph/ent.graphqls and updates gqlgen.yml), then gqlgen, then the
// published schema graph/schema.graphql (graph/schemafile).
//go:generate go run -mod=mod entc.go
//go:generate sh -c "cd .. && go tool gqlgen generate"
//go:generate sh -c "cd .. && go run ./graph/schemafile/cmd"
