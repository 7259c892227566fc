package testkit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/migrations"
)

// PostgresEnv names the variable that turns on the PostgreSQL runs of DB-backed tests.
const PostgresEnv = "COALITION_TEST_POSTGRES_URL"

// Dialects lists the dialects DB-backed tests run on here: SQLite always, PostgreSQL when
// COALITION_TEST_POSTGRES_URL is set.
func Dialects() []string {
	if os.Getenv(PostgresEnv) != "" {
		return []string{dialect.SQLite, dialect.Postgres}
	}
	return []string{dialect.SQLite}
}

// EachDialect runs fn as a subtest per dialect, each with a fresh migrated database.
func EachDialect(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, name := range Dialects() {
		t.Run(name, func(t *testing.T) {
			fn(t, NewDB(t, name))
		})
	}
}

// DBOption tunes NewDB.
type DBOption func(*db.Options)

// WithQueryCounter counts every SQL statement the ent client sends.
func WithQueryCounter(c *QueryCounter) DBOption {
	return func(o *db.Options) { o.WrapDriver = c.wrap }
}

// NewDB returns a fresh, migrated database of the given dialect, closed (and on PostgreSQL
// dropped) when the test ends.
func NewDB(tb testing.TB, dialectName string, opts ...DBOption) *db.DB {
	tb.Helper()
	var o db.Options
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	var rawURL string
	switch dialectName {
	case dialect.SQLite:
		rawURL = "sqlite:" + filepath.Join(tb.TempDir(), "coalition.db")
	case dialect.Postgres:
		rawURL = postgresDatabase(tb)
	default:
		tb.Fatalf("unknown dialect %q", dialectName)
	}
	d, err := db.Open(ctx, rawURL, o)
	if err != nil {
		tb.Fatalf("open %s: %v", dialectName, err)
	}
	tb.Cleanup(func() { d.Close() })
	if dialectName == dialect.SQLite { // PostgreSQL databases are cloned from a migrated template
		if _, err := d.Migrate(ctx); err != nil {
			tb.Fatalf("migrate: %v", err)
		}
	}
	return d
}

// MigratedURL returns the URL of a fresh database of the dialect with every migration
// applied (dropped, on PostgreSQL, when the test ends), for tests that open it themselves:
// through a proxy they control, or with db.Options of their own (NewEnvOn).
func MigratedURL(tb testing.TB, dialectName string) string {
	tb.Helper()
	switch dialectName {
	case dialect.Postgres:
		return postgresDatabase(tb)
	case dialect.SQLite:
		rawURL := "sqlite:" + filepath.Join(tb.TempDir(), "coalition.db")
		d, err := db.Open(context.Background(), rawURL, db.Options{})
		if err != nil {
			tb.Fatalf("open sqlite: %v", err)
		}
		defer d.Close()
		if _, err := d.Migrate(context.Background()); err != nil {
			tb.Fatalf("migrate: %v", err)
		}
		return rawURL
	default:
		tb.Fatalf("unknown dialect %q", dialectName)
		return ""
	}
}

// RawURL returns the URL of a fresh, empty (not migrated) database of the dialect.
func RawURL(tb testing.TB, dialectName string) string {
	tb.Helper()
	if dialectName == dialect.Postgres {
		return emptyPostgresDatabase(tb)
	}
	return "sqlite:" + filepath.Join(tb.TempDir(), "coalition.db")
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// postgresDatabase clones a fresh database from a template that has every migration
// applied. The template is named after the migrations' checksum, so it is built once per
// schema version and shared by test binaries running in parallel.
func postgresDatabase(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		tb.Fatalf("%s is not set", PostgresEnv)
	}
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(admin) })
	if templateErr != nil {
		tb.Fatalf("postgres template: %v", templateErr)
	}
	return createDatabase(tb, admin, "TEMPLATE "+templateName)
}

func emptyPostgresDatabase(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		tb.Fatalf("%s is not set", PostgresEnv)
	}
	return createDatabase(tb, admin, "")
}

var dbSeq atomic.Int64

func createDatabase(tb testing.TB, admin, suffix string) string {
	tb.Helper()
	adm, err := stdsql.Open("pgx", admin)
	if err != nil {
		tb.Fatalf("postgres admin: %v", err)
	}
	defer adm.Close()
	name := fmt.Sprintf("coalition_test_%s_%d", randomHex(5), dbSeq.Add(1))
	ctx := context.Background()
	var lastErr error
	for range 10 { // cloning fails while another session is copying the same template
		if _, lastErr = adm.ExecContext(ctx, "CREATE DATABASE "+name+" "+suffix); lastErr == nil {
			break
		}
		if !strings.Contains(lastErr.Error(), "being accessed by other users") {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("create test database: %v", lastErr)
	}
	tb.Cleanup(func() {
		a, err := stdsql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDatabase(admin, name)
}

func ensureTemplate(admin string) (string, error) {
	ctx := context.Background()
	name := "coalition_tmpl_" + migrationsHash()
	adm, err := stdsql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer adm.Close()
	conn, err := adm.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Serialise template creation across test binaries.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7260411002)"); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock(7260411002)") //nolint:errcheck
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	d, err := db.Open(ctx, withDatabase(admin, building), db.Options{})
	if err != nil {
		return "", err
	}
	_, merr := d.Migrate(ctx)
	d.Close()
	if merr != nil {
		return "", merr
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

// migrationsHash identifies the schema version by the PostgreSQL atlas.sum.
func migrationsHash() string {
	dir, err := migrations.Dir(dialect.Postgres)
	if err != nil {
		return "unknown"
	}
	sum, err := dir.Checksum()
	if err != nil {
		return "unknown"
	}
	h := sha256.Sum256([]byte(sum.Sum()))
	return hex.EncodeToString(h[:6])
}

func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// QueryCounter counts the SQL statements sent through an ent driver.
type QueryCounter struct{ n atomic.Int64 }

// Count returns the statements counted so far.
func (c *QueryCounter) Count() int64 { return c.n.Load() }

// Reset sets the count to zero.
func (c *QueryCounter) Reset() { c.n.Store(0) }

func (c *QueryCounter) wrap(d dialect.Driver) dialect.Driver {
	return &countingDriver{Driver: d, c: c}
}

type countingDriver struct {
	dialect.Driver
	c *QueryCounter
}

func (d *countingDriver) Exec(ctx context.Context, q string, args, v any) error {
	d.c.n.Add(1)
	return d.Driver.Exec(ctx, q, args, v)
}

func (d *countingDriver) Query(ctx context.Context, q string, args, v any) error {
	d.c.n.Add(1)
	return d.Driver.Query(ctx, q, args, v)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, c: d.c}, nil
}

type countingTx struct {
	dialect.Tx
	c *QueryCounter
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.c.n.Add(1)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	t.c.n.Add(1)
	return t.Tx.Query(ctx, q, args, v)
}
