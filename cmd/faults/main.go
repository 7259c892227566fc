package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/gocart-coalition/coalition/internal/faults"
)

func main() {
	bin := flag.String("bin", "./bin/coalition", "the coalition binary to test")
	pg := flag.String("postgres", os.Getenv("COALITION_TEST_POSTGRES_URL"), "admin URL of a PostgreSQL server for the two-process scenario (empty skips it)")
	pgBin := flag.String("pg-bin", "", "directory of initdb and pg_ctl (default: the newest /usr/lib/postgresql/*/bin)")
	only := flag.String("run", "", "run only the scenarios whose names match this regular expression")
	flag.Parse()
	var re *regexp.Regexp
	if *only != "" {
		var err error
		if re, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(os.Stderr, "faults: -run: %v\n", err)
			os.Exit(2)
		}
	}
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(os.Stderr, "faults: %v (run make build first)\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results := faults.Run(ctx, faults.Config{Bin: *bin, PostgresURL: *pg, PGBinDir: *pgBin, Log: os.Stdout, Only: re})
	code := 0
	for _, r := range results {
		if !r.OK() {
			code = 1
		}
	}
	fmt.Println(faults.Summary(results))
	os.Exit(code)
}
