// Package personal marks the ent schema fields that hold personal data, so that
// internal/privacy can check that every schema holding any is exported and erased by a
// registered domain (internal/privacy's coverage test reads these annotations).
package personal

// Annotation marks a field as personal data (a name, an address, an IP address, free text
// written by or about a person). A schema with an edge to User holds personal data too,
// marked or not.
type Annotation struct {
	// Personal is always true; it is what the coverage test looks for.
	Personal bool `json:"personal"`
}

// Name implements entgo.io/ent/schema.Annotation.
func (Annotation) Name() string { return "PersonalData" }

// Data marks a field as personal data.
func Data() Annotation { return Annotation{Personal: true} }
