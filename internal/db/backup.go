package db

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"entgo.io/ent/dialect"
)

// ErrBackupUnsupported is returned by Backup on PostgreSQL, which has its own tools.
var ErrBackupUnsupported = errors.New("backup is for SQLite; on PostgreSQL use pg_dump")

// Backup writes a consistent copy of a live SQLite database to path with VACUUM INTO:
// one transaction-consistent snapshot, readers and the writer keep working meanwhile.
// It refuses to overwrite an existing file.
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.Dialect != dialect.SQLite {
		return ErrBackupUnsupported
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup %s: file exists", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	// A connection of its own, neither the query-only readers (SQLite counts VACUUM as a
	// write) nor the single writer: VACUUM INTO only needs a read transaction on the
	// source, so writes go on while the copy is made.
	conn, err := stdsql.Open("sqlite3", "file:"+d.Path+"?_fk=1&_busy_timeout=5000")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
