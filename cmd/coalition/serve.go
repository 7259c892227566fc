package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime/pprof"

	"github.com/gocart-coalition/coalition/internal/app"
)

func runServe(ctx context.Context, e env, args []string) error {
	cfg, rest, err := flags(e, "serve", "serve [flags]", args, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("serve: unexpected argument %q", rest[0])
	}
	log := newLogger(cfg, e.stderr)
	if path := e.getenv("COALITION_CPU_PROFILE"); path != "" {
		// A CPU profile of the whole run, written when serve returns (for
		// `go tool pprof`; e.g. around `make bench-newsletter`).
		stop, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	return a.Serve(ctx, ln)
}

// startCPUProfile starts a CPU profile into path and returns the function that ends it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("COALITION_CPU_PROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("COALITION_CPU_PROFILE: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
