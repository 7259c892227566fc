package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/app"
)

// TestPrivacyReport runs `coalition privacy report`: Markdown with a section per
// registered domain, needing no database; a wrong subcommand is a usage error.
func TestPrivacyReport(t *testing.T) {
	getenv, _ := environment(t, nil)
	out, _, err := runCLI(t, getenv, "privacy", "report")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "# Record of processing activities\n") {
		t.Errorf("report starts %q", out[:min(len(out), 80)])
	}
	reg, err := app.PrivacyRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range reg.Domains() {
		if !strings.Contains(out, "\n## "+d.Name()+"\n") {
			t.Errorf("report lacks domain %s", d.Name())
		}
	}
	if _, stderr, err := runCLI(t, getenv, "privacy", "erase"); !errors.Is(err, errUsage) || !strings.Contains(stderr, "privacy report") {
		t.Errorf("privacy erase: %v %q, want usage", err, stderr)
	}
}
