package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gocart-coalition/coalition/internal/app"
)

func runJobs(ctx context.Context, e env, args []string) error {
	cfg, rest, err := flags(e, "jobs", "jobs [flags]", args, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("jobs: unexpected argument %q", rest[0])
	}
	d, err := openDB(ctx, cfg) // refuses to create a database just to list jobs
	if err != nil {
		return err
	}
	cfg.NoMigrate = true
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: newLogger(cfg, e.stderr), DB: d})
	if err != nil {
		d.Close()
		return err
	}
	defer d.Close()
	list, err := a.Jobs.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tEVERY\tLAST START\tOUTCOME\tDURATION\tRUNS\tFAILURES\tLAST ERROR")
	for _, j := range list {
		last, outcome := "never", "-"
		if j.LastStartedAt != nil {
			last = j.LastStartedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		if j.LastOutcome != "" {
			outcome = j.LastOutcome
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", j.Name, j.Interval, last, outcome,
			j.LastDuration.Round(time.Millisecond), j.Runs, j.Failures, j.LastError)
	}
	return tw.Flush()
}
