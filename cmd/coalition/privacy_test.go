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

// TestPrivacyReportRetentionFollowsConfiguration: the report's retention table shows the
// periods the COALITION_RETENTION_* variables set, and a bad value is refused.
func TestPrivacyReportRetentionFollowsConfiguration(t *testing.T) {
	getenv, _ := environment(t, map[string]string{"COALITION_RETENTION_APPLICATIONS_MONTHS": "24"})
	out, _, err := runCLI(t, getenv, "privacy", "report")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "| 24 months after the call is completed or cancelled | daily | `COALITION_RETENTION_APPLICATIONS_MONTHS` |") {
		t.Errorf("the report does not show the configured period:\n%s", out[strings.Index(out, "## Retention"):])
	}
	getenv, _ = environment(t, map[string]string{"COALITION_RETENTION_APPLICATIONS_MONTHS": "0"})
	if _, _, err := runCLI(t, getenv, "privacy", "report"); err == nil || !strings.Contains(err.Error(), "COALITION_RETENTION_APPLICATIONS_MONTHS") {
		t.Errorf("a period of 0: %v, want an error naming the variable", err)
	}
}
