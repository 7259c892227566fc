package privacy_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/retention"
)

// TestReportListsTheRetentionRules: the record of processing ends with a Markdown table of
// the retention rules, one row per rule of the registry, with the periods it is given; a
// pipe in a rule's text is escaped so it cannot break the table.
func TestReportListsTheRetentionRules(t *testing.T) {
	reg, err := app.PrivacyRegistry()
	if err != nil {
		t.Fatal(err)
	}
	settings := retention.Settings{AuditYears: 9, MailBodyDays: 45, UnconfirmedDays: 20, ApplicationsMonths: 18}
	rules := append(settings.Rules(), retention.Rule{
		Job: "test.pipes", Category: "a | b", Deleted: "x", Kept: "y", Period: "z", Every: 30 * time.Second,
	})
	var b bytes.Buffer
	if err := reg.ReportWith(&b, rules); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i := strings.Index(out, "\n## Retention\n")
	if i < 0 {
		t.Fatalf("no retention section in:\n%s", out)
	}
	table := out[i:]
	header := "| job | data | deleted | kept | when | runs | variable |\n| --- | --- | --- | --- | --- | --- | --- |\n"
	if !strings.Contains(table, header) {
		t.Fatalf("no table header in:\n%s", table)
	}
	var rows []string
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, line)
		}
	}
	if len(rows) != len(rules) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(rules), table)
	}
	for i, r := range rules {
		row := rows[i]
		if !strings.HasPrefix(row, "| `"+r.Job+"` |") || !strings.Contains(row, "| "+r.Period+" |") {
			t.Errorf("row %d %q: want job %s and period %q", i, row, r.Job, r.Period)
		}
		if r.Variable != "" && !strings.HasSuffix(row, "| `"+r.Variable+"` |") {
			t.Errorf("row %q does not end with its variable %s", row, r.Variable)
		}
		if r.Variable == "" && !strings.HasSuffix(row, "| fixed |") {
			t.Errorf("row %q: a fixed period says so", row)
		}
		if n := strings.Count(strings.ReplaceAll(row, `\|`, ""), "|"); n != 8 {
			t.Errorf("row %q has %d cell borders, want 8", row, n)
		}
	}
	for _, want := range []string{"18 months after the call is completed or cancelled", "9 years after the event", "| daily |", "| hourly |", "| every 30s |", `a \| b`} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	// Report is ReportWith the default periods.
	var d bytes.Buffer
	if err := reg.Report(&d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.String(), "| 12 months after the call is completed or cancelled |") {
		t.Errorf("the default report lacks the default period of applications")
	}
}

// TestReportSaysPlacedTraineesSeeHostContacts: the record of processing says that a trainee
// placed at a centre sees its coordinators' name and email on the placement contract
// (access.PlacementContacts), and others only with the coordinators' consent; and that a
// placed application's referee letters are kept with it.
func TestReportSaysPlacedTraineesSeeHostContacts(t *testing.T) {
	reg, err := app.PrivacyRegistry()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := reg.Report(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i := strings.Index(out, "Host-centre contacts")
	if i < 0 {
		t.Fatalf("no host-centre contacts in:\n%s", out)
	}
	section := out[i:]
	if j := strings.Index(section, "\n#"); j > 0 {
		section = section[:j]
	}
	for _, want := range []string{"Art. 6(1)(b) contract", "the trainee placed at the centre", "accepted or confirmed placement at the centre (name and email)", "consent (HOST_CONTACT)"} {
		if !strings.Contains(section, want) {
			t.Errorf("the host-centre contacts lack %q:\n%s", want, section)
		}
	}
	if !strings.Contains(out, "placed applications whole, their referee letters included") {
		t.Errorf("the retention rules do not say placed applications keep their referee letters")
	}
}
