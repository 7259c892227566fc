package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/db"
)

// flags parses the configuration flags plus the subcommand's own (added by extra) and
// returns the configuration and the positional arguments.
func flags(e env, name, synopsis string, args []string, extra func(fs *flag.FlagSet)) (config.Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if extra != nil {
		extra(fs)
	}
	load := config.Register(fs, e.getenv)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: coalition %s\n\nEvery configuration flag can also be set by the environment variable named in its description.\n\n", synopsis)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, err
	}
	cfg, err := load()
	return cfg, fs.Args(), err
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB opens the configured database for an operator command.
func openDB(ctx context.Context, cfg config.Config) (*db.DB, error) {
	if strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
		if _, err := os.Stat(strings.TrimPrefix(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:"), "//")); err != nil {
			return nil, fmt.Errorf("no database at %s (start `coalition serve` or run `coalition migrate` first): %w", cfg.DatabaseURL, err)
		}
	}
	return db.Open(ctx, cfg.DatabaseURL, db.Options{MaxConns: 2})
}

// openDBForMigrate opens the configured database, creating a SQLite file if needed.
func openDBForMigrate(ctx context.Context, rawURL string) (*db.DB, error) {
	return db.Open(ctx, rawURL, db.Options{MaxConns: 2})
}
