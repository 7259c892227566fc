package main

import (
	"context"
	"fmt"
)

func runBackup(ctx context.Context, e env, args []string) error {
	cfg, rest, err := flags(e, "backup", "backup [flags] PATH", args, nil)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("backup: want exactly one PATH to write the copy to")
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Backup(ctx, rest[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", rest[0])
	return nil
}
