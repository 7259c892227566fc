package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

func runMigrate(ctx context.Context, e env, args []string) error {
	cfg, rest, err := flags(e, "migrate", "migrate [status] [flags]", args, nil)
	if err != nil {
		return err
	}
	d, err := openDBForMigrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	switch {
	case len(rest) == 0:
		applied, err := d.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(e.stdout, "database is up to date")
		}
		for _, f := range applied {
			fmt.Fprintln(e.stdout, "applied", f)
		}
		return nil
	case len(rest) == 1 && rest[0] == "status":
		st, err := d.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tDESCRIPTION\tSTATE\tAPPLIED AT")
		for _, m := range st.Applied {
			state := "applied"
			if m.Error != "" {
				state = "failed: " + m.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Version, m.Description, state, m.ExecutedAt.UTC().Format("2006-01-02 15:04:05Z"))
		}
		for _, p := range st.Pending {
			fmt.Fprintf(tw, "%s\t\tpending\t\n", p)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if st.Current() {
			fmt.Fprintln(e.stdout, "\ndatabase is up to date")
		} else {
			fmt.Fprintf(e.stdout, "\n%d migration(s) pending: run `coalition migrate`\n", len(st.Pending))
		}
		return nil
	default:
		return fmt.Errorf("migrate: unexpected arguments %v (want nothing or `status`)", rest)
	}
}
