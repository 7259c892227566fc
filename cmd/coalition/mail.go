package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"time"

	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

func runMail(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "retry") {
		return fmt.Errorf("mail: want `mail status`, `mail retry ID` or `mail retry --failed`")
	}
	sub := args[0]
	var failed bool
	cfg, rest, err := flags(e, "mail "+sub, "mail status | mail retry (ID | --failed) [flags]", args[1:], func(fs *flag.FlagSet) {
		if sub == "retry" {
			fs.BoolVar(&failed, "failed", false, "queue every failed message again")
		}
	})
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	sys := viewer.NewSystemContext(ctx)
	now := time.Now()
	switch {
	case sub == "status" && len(rest) == 0:
		st, err := outbox.Status(sys, d.Client, now)
		if err != nil {
			return err
		}
		states := make([]string, 0, len(st.Counts))
		for s := range st.Counts {
			states = append(states, s)
		}
		sort.Strings(states)
		for _, s := range states {
			fmt.Fprintf(e.stdout, "%-10s %d\n", s, st.Counts[s])
		}
		if st.OldestQueued != nil {
			fmt.Fprintf(e.stdout, "oldest queued: %s (%s ago)\n", st.OldestQueued.UTC().Format(time.RFC3339), now.Sub(*st.OldestQueued).Round(time.Second))
		} else {
			fmt.Fprintln(e.stdout, "oldest queued: none")
		}
		return nil
	case sub == "retry" && failed && len(rest) == 0:
		n, err := outbox.RetryFailed(sys, d.Client, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d failed message(s) queued again\n", n)
		return nil
	case sub == "retry" && !failed && len(rest) == 1:
		if err := outbox.Retry(sys, d.Client, rest[0], now); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s queued again\n", rest[0])
		return nil
	}
	return fmt.Errorf("mail: want `mail status`, `mail retry ID` or `mail retry --failed`")
}
