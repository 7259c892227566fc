package main

import (
	"context"
	"fmt"
	"net"

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
