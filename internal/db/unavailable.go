package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// IsUnavailable reports whether err means that the database could not be reached or could
// not take the work right now, so the same request may well succeed a moment later: the
// one classification of "the database is down" that the HTTP surface answers with 503
// (UNAVAILABLE) instead of 500. It is true for
//
//   - a connection that could not be made (pgconn.ConnectError, a *net.OpError, refused or
//     reset connections) or that broke under a statement (driver.ErrBadConn, an unexpected
//     EOF from the driver);
//   - PostgreSQL's SQLSTATE class 08 (connection exception), 57P01 admin_shutdown,
//     57P02 crash_shutdown, 57P03 cannot_connect_now, and 53300 too_many_connections;
//   - SQLite's SQLITE_BUSY and SQLITE_LOCKED, which reach us only after the busy timeout
//     (another connection held the write lock all that time).
//
// A cancelled or timed-out context is not unavailability: it is the request's own limit.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return true
		default:
			return false
		}
	}
	var sqliteErr sqlite3.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code == sqlite3.ErrBusy || sqliteErr.Code == sqlite3.ErrLocked
	}
	var connectErr *pgconn.ConnectError
	var opErr *net.OpError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &opErr):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}
