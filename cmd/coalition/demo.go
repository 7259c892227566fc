package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/cmd/coalition/internal/demo"
	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// errNotEmpty is the refusal of a database that already holds data (exit code 3).
type errNotEmpty struct{ what string }

func (e errNotEmpty) Error() string {
	return fmt.Sprintf("demo: the database is not empty (%s); run `coalition demo --reset` to delete everything in it and start again", e.what)
}

// ExitCode is 3: not a usage error, not a failure of the demo.
func (errNotEmpty) ExitCode() int { return 3 }

func runDemo(ctx context.Context, e env, args []string) error {
	var (
		reset bool
		seed  uint64
	)
	cfg, rest, err := flags(e, "demo", "demo [--reset] [--seed N] [flags]", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&reset, "reset", false, "delete everything in the configured database first (stop `coalition serve` before)")
		fs.Uint64Var(&seed, "seed", 1, "the seed of the names, choices and rankings: the same seed tells the same story")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("demo: unexpected argument %q", rest[0])
	}
	if reset {
		if err := resetDatabase(ctx, cfg); err != nil {
			return err
		}
	}
	began := time.Now()
	clk := demo.NewClock()
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: newLogger(cfg, e.stderr), Now: clk.Now})
	if err != nil {
		return err
	}
	defer a.Close()
	if what, err := nonEmpty(ctx, a.DB.Client); err != nil {
		return err
	} else if what != "" {
		return errNotEmpty{what}
	}
	res, err := demo.Run(ctx, a, clk, seed)
	if err != nil {
		return err
	}
	w := e.stderr
	where := a.DB.Dialect // never the URL: it may hold a password
	if a.DB.Path != "" {
		where = a.DB.Path
	}
	fmt.Fprintf(w, "demo: seed %d, built in %.1f s in %s, as of %s (all names and addresses are fictional):\n",
		res.Seed, time.Since(began).Seconds(), where, demo.End.Format("2 January 2006 15:04 MST"))
	for _, k := range []string{"users", "organisations", "host_centres", "calls", "slots", "applications", "placements",
		"placements_accepted", "working_groups", "memberships", "meetings", "declarations", "mailing_lists", "subscribers",
		"campaigns", "statements", "statements_published", "statements_corrected", "emails_sent"} {
		fmt.Fprintf(w, "  %-21s %d\n", strings.ReplaceAll(k, "_", " "), res.Counts[k])
	}
	fmt.Fprintf(w, "  sent campaign: %s/newsletter/%s\n", cfg.PublicURL, res.CampaignSlug)
	fmt.Fprintln(w, "API tokens (shown once; send as Authorization: Bearer …), as shell variables on standard output:")
	for _, p := range res.People {
		fmt.Fprintf(w, "  %-10s %s <%s>\n", p.Role, p.Name, p.Email)
		fmt.Fprintf(e.stdout, "export %s_TOKEN=%s\n", p.Role, p.Token)
	}
	return nil
}

// nonEmpty names what the database already holds ("" for nothing).
func nonEmpty(ctx context.Context, c *ent.Client) (string, error) {
	sys := viewer.NewSystemContext(ctx)
	for _, q := range []struct {
		what  string
		count func() (int, error)
	}{
		{"users", func() (int, error) { return c.User.Query().Count(sys) }},
		{"organisations", func() (int, error) { return c.Organisation.Query().Count(sys) }},
		{"calls", func() (int, error) { return c.Call.Query().Count(sys) }},
		{"mailing lists", func() (int, error) { return c.MailingList.Query().Count(sys) }},
		{"working groups", func() (int, error) { return c.WorkingGroup.Query().Count(sys) }},
	} {
		n, err := q.count()
		if err != nil {
			return "", err
		}
		if n > 0 {
			return fmt.Sprintf("%d %s", n, q.what), nil
		}
	}
	return "", nil
}

// resetDatabase deletes everything in the configured database: the SQLite file (with its
// WAL and shared-memory files), or every table of PostgreSQL's public schema. The next
// app.New migrates it afresh.
func resetDatabase(ctx context.Context, cfg config.Config) error {
	if path, ok := strings.CutPrefix(cfg.DatabaseURL, "sqlite:"); ok {
		path = strings.TrimPrefix(path, "//")
		path, _, _ = strings.Cut(path, "?")
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("demo --reset: %w", err)
			}
		}
		return nil
	}
	d, err := db.Open(ctx, cfg.DatabaseURL, db.Options{MaxConns: 1})
	if err != nil {
		return err
	}
	defer d.Close()
	for _, q := range []string{"DROP SCHEMA public CASCADE", "CREATE SCHEMA public"} {
		if _, err := d.SQL().ExecContext(ctx, q); err != nil {
			return fmt.Errorf("demo --reset: %w", err)
		}
	}
	return nil
}
