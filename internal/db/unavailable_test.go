package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

func TestIsUnavailable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("query users: %w", err) }
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"dial refused", wrap(opErr), true},
		{"connection reset", wrap(syscall.ECONNRESET), true},
		{"bad connection", wrap(driver.ErrBadConn), true},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), true},
		{"connect error", wrap(&pgconn.ConnectError{}), true},
		{"admin shutdown", wrap(&pgconn.PgError{Code: "57P01"}), true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", wrap(&pgconn.PgError{Code: "23505"}), false},
		{"query cancelled", &pgconn.PgError{Code: "57014"}, false},
		{"sqlite busy", wrap(sqlite3.Error{Code: sqlite3.ErrBusy}), true},
		{"sqlite locked", sqlite3.Error{Code: sqlite3.ErrLocked}, true},
		{"sqlite constraint", sqlite3.Error{Code: sqlite3.ErrConstraint}, false},
		{"request cancelled", wrap(context.Canceled), false},
		{"request timed out while dialling", errors.Join(context.DeadlineExceeded, opErr), false},
	}
	for _, tt := range tests {
		if got := IsUnavailable(tt.err); got != tt.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestSQLiteBusyIsUnavailable checks the real error of a write that waited out the busy
// timeout behind another connection's write lock.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/busy.db"
	d, err := Open(ctx, "sqlite:"+path, Options{BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.SQL().ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, "sqlite:"+path, Options{BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.SQL().BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	_, err = d.SQL().ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if err == nil || !IsUnavailable(err) {
		t.Fatalf("write behind a held lock: %v; want an error IsUnavailable accepts", err)
	}
}
