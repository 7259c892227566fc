package privacy_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/entc/load"

	"github.com/gocart-coalition/coalition/ent/schema/personal"
	"github.com/gocart-coalition/coalition/internal/app"
)

// personalSchemas loads ent/schema and returns the schemas that hold personal data: a
// field marked personal.Data(), an edge to or from User, or User itself.
func personalSchemas(t *testing.T) map[string][]string {
	t.Helper()
	spec, err := (&load.Config{Path: "../../ent/schema"}).Load()
	if err != nil {
		t.Fatalf("load ent schemas: %v", err)
	}
	userEdges := map[string]bool{}
	for _, s := range spec.Schemas {
		if s.Name == "User" {
			for _, e := range s.Edges {
				userEdges[e.Type] = true
			}
		}
	}
	out := map[string][]string{}
	for _, s := range spec.Schemas {
		var why []string
		for _, f := range s.Fields {
			if _, ok := f.Annotations[personal.Annotation{}.Name()]; ok {
				why = append(why, "field "+f.Name)
			}
		}
		for _, e := range s.Edges {
			if e.Type == "User" {
				why = append(why, "edge "+e.Name)
			}
		}
		if s.Name == "User" || userEdges[s.Name] {
			why = append(why, "edge from User")
		}
		if len(why) > 0 {
			out[s.Name] = why
		}
	}
	return out
}

// TestEverySchemaWithPersonalDataHasADomain fails when an ent schema holds personal data
// (a personal.Data() field, an edge to or from User) and no registered privacy domain
// answers for it, so a new domain cannot forget to take part in exports (and erasure).
// It also fails when a domain claims a schema that does not exist.
func TestEverySchemaWithPersonalDataHasADomain(t *testing.T) {
	reg, err := app.PrivacyRegistry()
	if err != nil {
		t.Fatal(err)
	}
	schemas := personalSchemas(t)
	if len(schemas) < 10 {
		t.Fatalf("found %d schemas with personal data, want the whole model (is the annotation read?)", len(schemas))
	}
	for name, why := range schemas {
		if reg.Owner(name) == nil {
			t.Errorf("ent schema %s holds personal data (%s) but no privacy domain lists it in Entities(): implement privacy.Domain in its package and register it in app.PrivacyRegistry", name, strings.Join(why, ", "))
		}
	}
	spec, err := (&load.Config{Path: "../../ent/schema"}).Load()
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, s := range spec.Schemas {
		all = append(all, s.Name)
	}
	for _, d := range reg.Domains() {
		for _, e := range d.Entities() {
			if !slices.Contains(all, e) {
				t.Errorf("domain %s claims %s, which is no ent schema", d.Name(), e)
			}
		}
	}
}

// TestReportListsEveryDomain checks the record of processing names every registered domain
// and each of its categories with a purpose, a legal basis and a retention.
func TestReportListsEveryDomain(t *testing.T) {
	reg, err := app.PrivacyRegistry()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := reg.Report(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, d := range reg.Domains() {
		if !strings.Contains(out, "\n## "+d.Name()+"\n") {
			t.Errorf("report has no section for domain %s", d.Name())
		}
		for _, c := range d.Categories() {
			if c.Purpose == "" || c.LegalBasis == "" || c.Retention == "" {
				t.Errorf("domain %s category %q lacks purpose, legal basis or retention", d.Name(), c.Name)
			}
			if !strings.Contains(out, "| "+c.Name+" |") {
				t.Errorf("report has no row for %s / %s", d.Name(), c.Name)
			}
		}
	}
}
