package db

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"ariga.io/atlas/sql/migrate"
	atlaspg "ariga.io/atlas/sql/postgres"
	atlassqlite "ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/migrations"
)

// revisionsTable records applied migrations. On PostgreSQL it lives in schema public
// (ARCHITECTURE §6.5).
const revisionsTable = "atlas_schema_revisions"

// migrationLockKey serialises migrations of several processes on one PostgreSQL
// (pg_advisory_lock key; arbitrary, fixed).
const migrationLockKey = 7_260_411_001

// ErrTampered is returned when a migration file does not match atlas.sum.
var ErrTampered = errors.New("migration files do not match atlas.sum")

// MigrationError says which migration file stopped the service and why.
type MigrationError struct {
	File   string
	Reason string
	Err    error
}

func (e *MigrationError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("migrations: %s", e.Reason)
	}
	return fmt.Sprintf("migration %s: %s", e.File, e.Reason)
}

func (e *MigrationError) Unwrap() error { return e.Err }

// Status describes the migration state of a database.
type Status struct {
	// Applied lists applied versions with when they ran, oldest first.
	Applied []AppliedMigration
	// Pending lists migration files not yet applied, in order.
	Pending []string
}

// AppliedMigration is one applied migration.
type AppliedMigration struct {
	Version     string
	Description string
	ExecutedAt  time.Time
	Error       string
}

// Current reports whether every migration is applied.
func (s Status) Current() bool { return len(s.Pending) == 0 }

// Migrate applies pending migrations from the embedded directory after verifying its
// integrity, then (re)installs the database-level guards. It returns the files applied.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	return d.migrate(ctx, nil)
}

// MigrateDir is Migrate with another directory (tests use it to tamper with files).
func (d *DB) MigrateDir(ctx context.Context, dir migrate.Dir) ([]string, error) {
	return d.migrate(ctx, dir)
}

func (d *DB) migrate(ctx context.Context, dir migrate.Dir) ([]string, error) {
	if dir == nil {
		md, err := migrations.Dir(d.Dialect)
		if err != nil {
			return nil, err
		}
		dir = md
	}
	var applied []string
	err := d.withExecutor(ctx, dir, func(ex *migrate.Executor, rrw migrate.RevisionReadWriter) error {
		if err := checkOrder(ctx, rrw, dir); err != nil {
			return err
		}
		pending, err := ex.Pending(ctx)
		if errors.Is(err, migrate.ErrNoPendingFiles) {
			return nil
		}
		if err != nil {
			return explain(err)
		}
		for _, f := range pending {
			if err := ex.Execute(ctx, f); err != nil {
				return &MigrationError{File: f.Name(), Reason: "failed to apply", Err: err}
			}
			applied = append(applied, f.Name())
		}
		return nil
	})
	if err != nil {
		return applied, err
	}
	if err := d.InstallGuards(ctx); err != nil {
		return applied, fmt.Errorf("install database guards: %w", err)
	}
	return applied, nil
}

// MigrationStatus reports applied and pending migrations without changing anything.
func (d *DB) MigrationStatus(ctx context.Context) (Status, error) {
	var st Status
	err := d.withExecutor(ctx, nil, func(ex *migrate.Executor, rrw migrate.RevisionReadWriter) error {
		pending, err := ex.Pending(ctx)
		switch {
		case errors.Is(err, migrate.ErrNoPendingFiles):
		case err != nil:
			return explain(err)
		default:
			for _, f := range pending {
				st.Pending = append(st.Pending, f.Name())
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	revs, err := readRevisions(ctx, d.write, d.Dialect)
	if err != nil {
		return st, err
	}
	for _, r := range revs {
		st.Applied = append(st.Applied, AppliedMigration{
			Version: r.Version, Description: r.Description, ExecutedAt: r.ExecutedAt, Error: r.Error,
		})
	}
	return st, nil
}

// withExecutor verifies the directory and runs fn with an Atlas executor on a dedicated
// connection (holding the advisory lock on PostgreSQL).
func (d *DB) withExecutor(ctx context.Context, dir migrate.Dir, fn func(*migrate.Executor, migrate.RevisionReadWriter) error) error {
	if dir == nil {
		md, err := migrations.Dir(d.Dialect)
		if err != nil {
			return err
		}
		dir = md
	}
	if err := verify(dir); err != nil {
		return err
	}
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrations: get connection: %w", err)
	}
	defer conn.Close()

	var drv migrate.Driver
	switch d.Dialect {
	case dialect.Postgres:
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("migrations: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey) //nolint:errcheck
		drv, err = atlaspg.Open(conn)
	default:
		drv, err = atlassqlite.Open(conn)
	}
	if err != nil {
		return fmt.Errorf("migrations: open driver: %w", err)
	}
	rrw := &revisions{conn: conn, dialect: d.Dialect}
	if err := rrw.ensure(ctx); err != nil {
		return err
	}
	ex, err := migrate.NewExecutor(drv, dir, rrw, migrate.WithLogger(migrate.NopLogger{}))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return fn(ex, rrw)
}

// verify checks every file against atlas.sum and names the first one that differs.
func verify(dir migrate.Dir) error {
	err := migrate.Validate(dir)
	if err == nil {
		return nil
	}
	if errors.Is(err, migrate.ErrChecksumNotFound) {
		return &MigrationError{File: migrate.HashFileName, Reason: "missing: the migration directory cannot be verified", Err: ErrTampered}
	}
	if !errors.Is(err, migrate.ErrChecksumMismatch) {
		return &MigrationError{Reason: "cannot verify migration files", Err: err}
	}
	files, ferr := dir.Files()
	if ferr != nil {
		return &MigrationError{Reason: "cannot list migration files", Err: ferr}
	}
	want, herr := dir.Checksum() // what the files hash to now
	var recorded migrate.HashFile
	if sumFile, err := dir.Open(migrate.HashFileName); err == nil && herr == nil {
		b, _ := io.ReadAll(sumFile)
		sumFile.Close()
		_ = recorded.UnmarshalText(b) // the sum line mismatches by definition; entries are still parsed
	}
	for _, f := range files {
		now, _ := want.SumByName(f.Name())
		then, err := recorded.SumByName(f.Name())
		switch {
		case err != nil:
			return &MigrationError{File: f.Name(), Reason: "is not listed in atlas.sum (added by hand?)", Err: ErrTampered}
		case now != then:
			return &MigrationError{File: f.Name(), Reason: "was changed after it was generated (checksum differs from atlas.sum)", Err: ErrTampered}
		}
	}
	for _, r := range recorded {
		if !slices.ContainsFunc(files, func(f migrate.File) bool { return f.Name() == r.N }) {
			return &MigrationError{File: r.N, Reason: "is listed in atlas.sum but missing", Err: ErrTampered}
		}
	}
	return &MigrationError{File: migrate.HashFileName, Reason: "does not match the migration files", Err: ErrTampered}
}

// checkOrder refuses a pending file whose version is older than an applied one. Atlas only
// checks files between the first and last applied version; a file dated before the very
// first one would otherwise be silently skipped for ever.
func checkOrder(ctx context.Context, rrw migrate.RevisionReadWriter, dir migrate.Dir) error {
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil || len(revs) == 0 {
		return err
	}
	files, err := dir.Files()
	if err != nil {
		return err
	}
	applied := make(map[string]bool, len(revs))
	for _, r := range revs {
		applied[r.Version] = true
	}
	last := revs[len(revs)-1].Version
	for _, f := range files {
		if !applied[f.Version()] && f.Version() < last {
			return &MigrationError{File: f.Name(), Reason: "was added out of order (its version is older than the last applied one, " + last + ")"}
		}
	}
	return nil
}

// explain turns executor errors into messages that name the file.
func explain(err error) error {
	var nl *migrate.HistoryNonLinearError
	if errors.As(err, &nl) && len(nl.OutOfOrder) > 0 {
		return &MigrationError{File: nl.OutOfOrder[0].Name(), Reason: "was added out of order (its version is older than the last applied one)", Err: err}
	}
	var hc *migrate.HistoryChangedError
	if errors.As(err, &hc) {
		return &MigrationError{File: hc.File, Reason: "was changed after it was applied", Err: err}
	}
	return &MigrationError{Reason: "cannot plan", Err: err}
}

// revisions stores applied migrations in our own table (Atlas's own store is internal to
// its CLI).
type revisions struct {
	conn    *stdsql.Conn
	dialect string
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

func table(dialectName string) string {
	if dialectName == dialect.Postgres {
		return `"public".` + revisionsTable
	}
	return revisionsTable
}

func (r *revisions) ensure(ctx context.Context) error {
	_, err := r.conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table(r.dialect)+` (
		version VARCHAR(255) PRIMARY KEY,
		description VARCHAR(255) NOT NULL,
		type INTEGER NOT NULL,
		applied INTEGER NOT NULL,
		total INTEGER NOT NULL,
		executed_at VARCHAR(64) NOT NULL,
		execution_time BIGINT NOT NULL,
		error TEXT NOT NULL,
		error_stmt TEXT NOT NULL,
		hash VARCHAR(255) NOT NULL,
		partial_hashes TEXT NOT NULL,
		operator_version VARCHAR(255) NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("migrations: create revisions table: %w", err)
	}
	return nil
}

// Ident names the revisions table so Atlas ignores it when it inspects the schema.
func (r *revisions) Ident() *migrate.TableIdent {
	if r.dialect == dialect.Postgres {
		return &migrate.TableIdent{Name: revisionsTable, Schema: "public"}
	}
	return &migrate.TableIdent{Name: revisionsTable}
}

const revisionCols = `version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

func scanRevisions(ctx context.Context, q querier, tbl, where string, args ...any) ([]*migrate.Revision, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+revisionCols+` FROM `+tbl+where+` ORDER BY version`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*migrate.Revision
	for rows.Next() {
		var (
			r        migrate.Revision
			typ      int
			executed string
			dur      int64
			partial  string
		)
		if err := rows.Scan(&r.Version, &r.Description, &typ, &r.Applied, &r.Total, &executed, &dur,
			&r.Error, &r.ErrorStmt, &r.Hash, &partial, &r.OperatorVersion); err != nil {
			return nil, err
		}
		r.Type = migrate.RevisionType(typ)
		r.ExecutedAt, _ = time.Parse(time.RFC3339Nano, executed)
		r.ExecutionTime = time.Duration(dur)
		if partial != "" {
			_ = json.Unmarshal([]byte(partial), &r.PartialHashes)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

func readRevisions(ctx context.Context, db *stdsql.DB, dialectName string) ([]*migrate.Revision, error) {
	revs, err := scanRevisions(ctx, db, table(dialectName), "")
	if err != nil {
		return nil, fmt.Errorf("read migration revisions: %w", err)
	}
	return revs, nil
}

// ReadRevisions implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	return scanRevisions(ctx, r.conn, table(r.dialect), "")
}

// ReadRevision implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevision(ctx context.Context, v string) (*migrate.Revision, error) {
	revs, err := scanRevisions(ctx, r.conn, table(r.dialect), " WHERE version = $1", v)
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, migrate.ErrRevisionNotExist
	}
	return revs[0], nil
}

// WriteRevision implements migrate.RevisionReadWriter (upsert).
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	partial, err := json.Marshal(rev.PartialHashes)
	if err != nil {
		return err
	}
	_, err = r.conn.ExecContext(ctx, `INSERT INTO `+table(r.dialect)+` (`+revisionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (version) DO UPDATE SET description = excluded.description, type = excluded.type,
			applied = excluded.applied, total = excluded.total, executed_at = excluded.executed_at,
			execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt,
			hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`,
		rev.Version, rev.Description, int(rev.Type), rev.Applied, rev.Total,
		rev.ExecutedAt.UTC().Format(time.RFC3339Nano), int64(rev.ExecutionTime),
		rev.Error, rev.ErrorStmt, rev.Hash, string(partial), rev.OperatorVersion)
	return err
}

// DeleteRevision implements migrate.RevisionReadWriter.
func (r *revisions) DeleteRevision(ctx context.Context, v string) error {
	_, err := r.conn.ExecContext(ctx, `DELETE FROM `+table(r.dialect)+` WHERE version = $1`, v)
	return err
}
