package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/cmd/coalition/internal/demo"
	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// demoEnv is a getenv pointing the CLI at url with its own data directory.
func demoEnv(t *testing.T, url string) (func(string) string, string) {
	dir := t.TempDir()
	vars := map[string]string{"COALITION_DATABASE_URL": url, "COALITION_DATA_DIR": dir, "COALITION_LOG_LEVEL": "warn"}
	return func(k string) string { return vars[k] }, dir
}

var exportRE = regexp.MustCompile(`(?m)^export ([A-Z]+)_TOKEN=(ct_[A-Za-z0-9_-]{43})$`)

// TestDemo runs `coalition demo` on a fresh database of each dialect and checks what it
// built (by counting, as the system), that the campaign went through the outbox to the
// file transport, that it printed a working token per role, that it refuses to run
// again without --reset, and that --reset starts again from nothing.
func TestDemo(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		getenv, dir := demoEnv(t, d.URL)
		stdout, stderr, err := runCLI(t, getenv, "demo", "--seed", "3")
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, stderr)
		}
		tokens := map[string]string{}
		for _, m := range exportRE.FindAllStringSubmatch(stdout, -1) {
			tokens[m[1]] = m[2]
		}
		for _, r := range demo.Roles {
			if tokens[string(r)] == "" {
				t.Errorf("no token for %s in %q", r, stdout)
			}
		}
		if !strings.Contains(stderr, "fictional") || !strings.Contains(stderr, "/newsletter/coalition-quarterly-") {
			t.Errorf("summary: %s", stderr)
		}
		checkDemoData(t, d.Client)
		// The campaign and every other email went to the file transport of the data directory.
		emails, _ := filepath.Glob(filepath.Join(dir, "mail", "*", "*.eml"))
		if more, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml")); len(more) > 0 {
			emails = append(emails, more...)
		}
		if len(emails) < 100 {
			t.Errorf("%d .eml files under %s, want every email of the demo", len(emails), dir)
		}

		// The database is not empty now: refused, nothing changed.
		users := count(t, d.Client.User.Query())
		_, stderr, err = runCLI(t, getenv, "demo")
		var ec exitCoder
		if !errors.As(err, &ec) || ec.ExitCode() != 3 || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "--reset") {
			t.Errorf("second demo: err %v (%T), stderr %s", err, err, stderr)
		}
		if n := count(t, d.Client.User.Query()); n != users {
			t.Errorf("the refused demo changed the users: %d, was %d", n, users)
		}

		// --reset empties the database and builds the demo again.
		if _, stderr, err := runCLI(t, getenv, "demo", "--reset", "--seed", "3"); err != nil {
			t.Fatalf("demo --reset: %v\n%s", err, stderr)
		}
		fresh, err := db.Open(context.Background(), d.URL, db.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		checkDemoData(t, fresh.Client)
	})
}

func count[Q interface {
	Count(context.Context) (int, error)
}](t *testing.T, q Q) int {
	t.Helper()
	n, err := q.Count(viewer.NewSystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkDemoData asserts what the issue asks of the demo, by counting.
func checkDemoData(t *testing.T, c *ent.Client) {
	t.Helper()
	ctx := viewer.NewSystemContext(context.Background())
	for _, w := range []struct {
		what string
		got  int
		want int
	}{
		{"societies", count(t, c.Organisation.Query().Where(organisation.KindEQ(organisation.KindSOCIETY))), 2},
		{"host centres", count(t, c.HostCentre.Query()), 6},
		{"calls", count(t, c.Call.Query()), 2},
		{"working groups", count(t, c.WorkingGroup.Query()), 2},
		{"meetings", count(t, c.Meeting.Query()), 2},
		{"statements", count(t, c.PolicyStatement.Query()), 4},
		{"applications", count(t, c.Application.Query()), 20},
		{"draft applications", count(t, c.Application.Query().Where(application.StatusEQ(application.StatusDRAFT))), 5},
		{"submitted applications", count(t, c.Application.Query().Where(application.StatusEQ(application.StatusSUBMITTED))), 4},
		{"eligible applications", count(t, c.Application.Query().Where(application.StatusEQ(application.StatusELIGIBLE))), 10},
		{"ineligible applications", count(t, c.Application.Query().Where(application.StatusEQ(application.StatusINELIGIBLE))), 1},
		{"confirmed subscriptions", count(t, c.NewsletterSubscription.Query().Where(newslettersubscription.StatusEQ(newslettersubscription.StatusCONFIRMED))), 26},
		{"sent campaigns in the archive", count(t, c.Campaign.Query().Where(campaign.StatusEQ(campaign.StatusSENT), campaign.PublicArchive(true))), 4},
		{"emails not sent", count(t, c.OutboxMessage.Query().Where(outboxmessage.StateNotIn(outboxmessage.StateSent, outboxmessage.StateSuppressed))), 0},
		{"declarations", count(t, c.ConflictOfInterestDeclaration.Query()), 9},
	} {
		if w.got != w.want {
			t.Errorf("%s: %d, want %d", w.what, w.got, w.want)
		}
	}
	trainees, err := c.User.Query().Where(user.EmailNotIn("nora.reader@reader.example.net", "pieter.devries@esbmt.example.org", "isabel.fernandez@ehf.example.org")).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byCountry := map[string]int{}
	for _, u := range trainees {
		if slices.Equal(u.Roles, []viewer.Role{viewer.RoleTrainee}) {
			byCountry[u.Email[strings.LastIndexByte(u.Email, '.')+1:]]++
		}
	}
	if want := map[string]int{"cz": 5, "ro": 5, "pl": 5, "ie": 5}; fmt.Sprint(byCountry) != fmt.Sprint(want) {
		t.Errorf("trainees by country: %v, want %v", byCountry, want)
	}
	ps, err := c.Placement.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[placement.Status]int{}
	for _, p := range ps {
		states[p.Status]++
	}
	for _, s := range []placement.Status{placement.StatusOFFERED, placement.StatusACCEPTED, placement.StatusCONFIRMED, placement.StatusDECLINED} {
		if states[s] == 0 {
			t.Errorf("no %s placement: %v", s, states)
		}
	}
	sts, err := c.PolicyStatement.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	published, corrected := 0, 0
	for _, s := range sts {
		if s.PublishedVersions > 0 {
			published++
		}
		if s.PublishedVersions > 1 {
			corrected++
		}
	}
	if published != 3 || corrected != 1 {
		t.Errorf("%d statements published, %d corrected; want 3 and 1", published, corrected)
	}
}

// story is what a seed decides: who the trainees are, where they applied, where they were
// placed.
func story(t *testing.T, c *ent.Client) string {
	t.Helper()
	ctx := viewer.NewSystemContext(context.Background())
	apps, err := c.Application.Query().WithTrainee().WithCall().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, a := range apps {
		line := fmt.Sprintf("%s %s %s", a.Edges.Trainee.Name, a.Edges.Call.Title, a.Status)
		ps, err := c.Placement.Query().Where(placement.ApplicationID(a.ID)).WithHostCentre().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			line += fmt.Sprintf(" → %s %s %s", p.Edges.HostCentre.Name, p.StartDate, p.Status)
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestDemoSeed: the same seed tells the same story; another seed another one.
func TestDemoSeed(t *testing.T) {
	build := func(seed string) string {
		d := testkit.NewDB(t, "sqlite3")
		getenv, _ := demoEnv(t, d.URL)
		if _, stderr, err := runCLI(t, getenv, "demo", "--seed", seed); err != nil {
			t.Fatalf("demo --seed %s: %v\n%s", seed, err, stderr)
		}
		return story(t, d.Client)
	}
	a, b, other := build("5"), build("5"), build("6")
	if a != b {
		t.Errorf("seed 5 told two stories:\n%s\n---\n%s", a, b)
	}
	if a == other {
		t.Errorf("seeds 5 and 6 told the same story:\n%s", a)
	}
	if strings.Count(a, "\n") != 19 {
		t.Errorf("the story has %d applications, want 20:\n%s", strings.Count(a, "\n")+1, a)
	}
}

// BenchmarkDemo measures `coalition demo` on a fresh SQLite file (make bench-demo).
func BenchmarkDemo(b *testing.B) {
	for b.Loop() {
		dir := b.TempDir()
		vars := map[string]string{"COALITION_DATA_DIR": dir, "COALITION_LOG_LEVEL": "warn"}
		if err := run(context.Background(), []string{"demo"}, func(k string) string { return vars[k] }, strings.NewReader(""), devNull{}, devNull{}); err != nil {
			b.Fatal(err)
		}
		_ = os.RemoveAll(dir)
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }
