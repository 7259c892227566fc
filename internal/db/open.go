package db

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/gocart-coalition/coalition/ent"
	_ "github.com/gocart-coalition/coalition/ent/runtime" // privacy policies and hooks
)

// DB is an open database: the ent client plus the raw pools behind it.
type DB struct {
	// Dialect is dialect.SQLite or dialect.Postgres.
	Dialect string
	// Client is the ent client every domain package uses.
	Client *ent.Client
	// Path is the SQLite file ("" on PostgreSQL).
	Path string
	// URL is the URL Open was given, so a test can point a second process (an operator
	// command) at the same database.
	URL string

	write *stdsql.DB    // SQLite: the single writer connection; PostgreSQL: the pool
	read  *stdsql.DB    // SQLite: the reader pool; PostgreSQL: same as write
	ckpt  *checkpointer // SQLite: the background checkpoints (checkpoint.go); nil on PostgreSQL
}

// Options tunes Open.
type Options struct {
	// MaxConns caps the PostgreSQL pool and the SQLite reader pool (0 = default).
	MaxConns int
	// WrapDriver, when set, wraps the ent driver (tests use it to count SQL statements).
	WrapDriver func(dialect.Driver) dialect.Driver
	// BusyTimeout is how long a SQLite connection waits for a lock before it fails with
	// SQLITE_BUSY (0 = DefaultBusyTimeout). Tests of a locked database shorten it.
	BusyTimeout time.Duration
	// CheckpointEvery is how often a SQLite database's WAL is checkpointed in the
	// background (checkpoint.go; 0 = DefaultCheckpointEvery, negative = never, for tests
	// that call DB.Checkpoint themselves).
	CheckpointEvery time.Duration
}

// DefaultBusyTimeout is the SQLite busy timeout unless Options.BusyTimeout says otherwise.
const DefaultBusyTimeout = 5 * time.Second

// ErrUnsupportedURL is returned for a database URL that is neither SQLite nor PostgreSQL.
var ErrUnsupportedURL = errors.New("unsupported database URL: use sqlite:PATH or postgres://…")

// Open connects to the database named by rawURL:
//
//	sqlite:data/coalition.db, sqlite://data/coalition.db, sqlite:///abs/path.db
//	postgres://user:pass@host:5432/dbname?sslmode=disable
//
// A SQLite file and its directory are created on first use. Open does not migrate.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	var (
		d   *DB
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		d, err = openSQLite(ctx, sqlitePath(rawURL), opts)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		d, err = openPostgres(ctx, rawURL, opts)
	default:
		return nil, ErrUnsupportedURL
	}
	if err != nil {
		return nil, err
	}
	d.URL = rawURL
	return d, nil
}

func sqlitePath(raw string) string {
	p := strings.TrimPrefix(raw, "sqlite:")
	p = strings.TrimPrefix(p, "//")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// writerCacheKiB is the writer connection's page cache, negative as SQLite's cache_size
// takes a size in KiB.
const writerCacheKiB = -16 << 10

// sqliteDSN builds the connection string. Every flag matters (ARCHITECTURE §6.3):
//
//	_fk=1                 enforce foreign keys (SQLite's default is off)
//	_journal_mode=WAL     readers never block the writer, the writer never blocks readers
//	_busy_timeout=5000    wait up to 5 s (Options.BusyTimeout) for a lock instead of failing at once
//	_synchronous=NORMAL   durable at checkpoints; safe with WAL, far fewer fsyncs
//	_txlock=immediate     take the write lock at BEGIN: read-then-write transactions
//	                      otherwise fail with "database is locked" under concurrency
//	_cache_size=-16384    the one writer keeps up to 16 MiB of pages (SQLite's default is 2 MiB):
//	                      a large write transaction (publishing a match writes a few MiB of rows
//	                      and index entries) then stays in memory until its commit instead of
//	                      spilling pages to the WAL midway and reading them back. 32 MiB was no
//	                      faster once checkpoints left the commit (checkpoint.go), and held 17 MB
//	                      more of a newsletter send's peak memory
func sqliteDSN(path string, readOnly bool, busy time.Duration) string {
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	q := url.Values{}
	q.Set("_fk", "1")
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	q.Set("_synchronous", "NORMAL")
	if readOnly {
		// Readers refuse writes outright; their transactions stay deferred (shared).
		q.Set("_query_only", "1")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
		q.Set("_cache_size", strconv.Itoa(writerCacheKiB))
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite URL has no file path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	write, err := stdsql.Open(sqliteDriverName, sqliteDSN(path, false, opts.BusyTimeout))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One writer: SQLite has one write lock, so queueing in Go is cheaper than busy-waiting.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read, err := stdsql.Open(sqliteDriverName, sqliteDSN(path, true, opts.BusyTimeout))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite reader %s: %w", path, err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = max(4, runtime.NumCPU())
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	ckpt, err := openCheckpointer(path, opts)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite checkpointer %s: %w", path, err)
	}
	d := &DB{Dialect: dialect.SQLite, Path: path, write: write, read: read, ckpt: ckpt}
	switch every := opts.CheckpointEvery; {
	case every == 0:
		ckpt.run(d, DefaultCheckpointEvery)
	case every > 0:
		ckpt.run(d, every)
	}
	var drv dialect.Driver = splitDriver{
		w: entsql.OpenDB(dialect.SQLite, write),
		r: entsql.OpenDB(dialect.SQLite, read),
	}
	d.Client = newClient(drv, opts)
	return d, nil
}

func openPostgres(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	pool, err := stdsql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 20
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	d := &DB{Dialect: dialect.Postgres, write: pool, read: pool}
	d.Client = newClient(entsql.OpenDB(dialect.Postgres, pool), opts)
	return d, nil
}

func newClient(drv dialect.Driver, opts Options) *ent.Client {
	if opts.WrapDriver != nil {
		drv = opts.WrapDriver(drv)
	}
	return ent.NewClient(ent.Driver(drv))
}

// SQL returns the writer pool, for the few operations below ent (migrations, backups,
// advisory locks).
func (d *DB) SQL() *stdsql.DB { return d.write }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.write.PingContext(ctx); err != nil {
		return err
	}
	return d.read.PingContext(ctx)
}

// Close closes the client and pools.
func (d *DB) Close() error {
	var err error
	if d.ckpt != nil {
		err = d.ckpt.close()
	}
	err = errors.Join(err, d.Client.Close())
	if d.read != d.write {
		err = errors.Join(err, d.read.Close())
	}
	return errors.Join(err, d.write.Close())
}

// splitDriver sends SQLite writes and transactions to the single writer connection and
// plain reads to the reader pool.
type splitDriver struct{ w, r *entsql.Driver }

var _ dialect.Driver = splitDriver{}

func (d splitDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.w.Exec(ctx, query, args, v)
}

// Query sends reads to the reader pool. ent also sends writes that return rows as
// queries (INSERT … RETURNING, upserts): those go to the writer.
func (d splitDriver) Query(ctx context.Context, query string, args, v any) error {
	if isWrite(query) {
		return d.w.Query(ctx, query, args, v)
	}
	return d.r.Query(ctx, query, args, v)
}

// isWrite reports whether a statement changes data (by its first keyword).
func isWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) > 7 {
		q = q[:7]
	}
	q = strings.ToUpper(q)
	for _, kw := range []string{"INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"} {
		if strings.HasPrefix(q, kw) {
			return true
		}
	}
	return false
}

func (d splitDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.w.Tx(ctx) }

// BeginTx lets ent's Client.BeginTx work through the split driver.
func (d splitDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	return d.w.BeginTx(ctx, opts)
}

func (d splitDriver) Close() error    { return errors.Join(d.r.Close(), d.w.Close()) }
func (d splitDriver) Dialect() string { return dialect.SQLite }

// LockRows makes q lock the rows it reads until the transaction ends, on PostgreSQL
// (SELECT … FOR UPDATE OF table), so checks and writes made on them by concurrent
// transactions run one after the other. On SQLite, write transactions already take the
// single write lock at BEGIN (_txlock=immediate), so q is returned as is.
func LockRows[Q interface {
	ForUpdate(...entsql.LockOption) Q
}](dialectName string, q Q, table string) Q {
	if dialectName != dialect.Postgres {
		return q
	}
	return q.ForUpdate(entsql.WithLockTables(table))
}
