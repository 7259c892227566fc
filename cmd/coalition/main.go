package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Embed the zone database: "today" is the date in Europe/Brussels (vocab.Zone).
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "coalition:", err)
		var ec exitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

// errUsage marks an error already explained by printed usage.
var errUsage = errors.New("usage")

type exitCoder interface{ ExitCode() int }

// env bundles what every subcommand receives instead of reading globals.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the GraphQL API, the email outbox and the scheduled jobs", runServe},
		{"migrate", "apply pending database migrations (`migrate status` lists them)", runMigrate},
		{"backup", "write a consistent copy of the live SQLite database to PATH", runBackup},
		{"user", "manage users: `user create --staff EMAIL` bootstraps the first staff member", runUser},
		{"mail", "outbox: `mail status`, `mail retry ID`, `mail retry --failed`", runMail},
		{"jobs", "list the scheduled jobs with their last run", runJobs},
		{"audit", "`audit verify`: check the audit trail's hash chain; names the first broken link", runAudit},
		{"demo", "fill an empty database with fictional demo data and print an API token per role (`--reset` empties it first)", runDemo},
		{"match", "`match solve [FILE]`: solve a matching instance given as JSON (stdin without FILE)", runMatch},
		{"privacy", "`privacy report`: print the record of processing activities (Markdown) from the code's registry", runPrivacy},
	}
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "coalition: unknown command %q\n\n", args[0])
	usage(stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: coalition COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `coalition COMMAND --help` for the flags of a command; every flag can also be set\nby a COALITION_* environment variable.")
}
