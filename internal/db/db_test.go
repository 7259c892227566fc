package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
	"github.com/gocart-coalition/coalition/migrations"
)

func openEmpty(t *testing.T, dialectName string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), testkit.RawURL(t, dialectName), db.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestMigrateEmptyDatabase(t *testing.T) {
	for _, dn := range testkit.Dialects() {
		t.Run(dn, func(t *testing.T) {
			ctx := context.Background()
			d := openEmpty(t, dn)

			st, err := d.MigrationStatus(ctx)
			if err != nil {
				t.Fatalf("status before: %v", err)
			}
			if st.Current() || len(st.Applied) != 0 {
				t.Fatalf("empty database: got current=%v applied=%d, want pending migrations", st.Current(), len(st.Applied))
			}
			applied, err := d.Migrate(ctx)
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if len(applied) != len(st.Pending) || len(applied) == 0 {
				t.Fatalf("applied %v, want %v", applied, st.Pending)
			}
			again, err := d.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second migrate: applied %v, err %v; want nothing", again, err)
			}
			st, err = d.MigrationStatus(ctx)
			if err != nil || !st.Current() || len(st.Applied) != len(applied) {
				t.Fatalf("status after: %+v, %v", st, err)
			}
			// The schema is usable.
			sys := viewer.NewSystemContext(ctx)
			u, err := d.Client.User.Create().SetEmail("a@example.org").Save(sys)
			if err != nil {
				t.Fatalf("create user: %v", err)
			}
			if !u.ID.Valid() || u.ID.Prefix() != "usr" {
				t.Fatalf("user id %q: want a valid usr_ ULID", u.ID)
			}
		})
	}
}

// tamperedDir returns the embedded migrations with edit applied.
func tamperedDir(t *testing.T, dn string, edit func(*migrate.MemDir, []migrate.File)) *migrate.MemDir {
	t.Helper()
	dir, err := migrations.Dir(dn)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil || len(files) == 0 {
		t.Fatalf("files: %v (%d)", err, len(files))
	}
	edit(dir, files)
	return dir
}

func TestMigrateRefusesTamperedFile(t *testing.T) {
	for _, dn := range testkit.Dialects() {
		t.Run(dn, func(t *testing.T) {
			var name string
			dir := tamperedDir(t, dn, func(d *migrate.MemDir, files []migrate.File) {
				name = files[0].Name()
				b := append(files[0].Bytes(), []byte("\n-- sneaky edit\nDROP TABLE users;\n")...)
				if err := d.WriteFile(name, b); err != nil {
					t.Fatal(err)
				}
			})
			d := openEmpty(t, dn)
			_, err := d.MigrateDir(context.Background(), dir)
			var me *db.MigrationError
			if !errors.As(err, &me) || !errors.Is(err, db.ErrTampered) {
				t.Fatalf("got %v, want a MigrationError wrapping ErrTampered", err)
			}
			if me.File != name || !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q names %q, want file %q", err, me.File, name)
			}
			// Nothing was applied.
			st, err := d.MigrationStatus(context.Background())
			if err != nil {
				t.Fatalf("status: %v", err)
			}
			if len(st.Applied) != 0 {
				t.Fatalf("applied %v after refusing, want none", st.Applied)
			}
		})
	}
}

func TestMigrateRefusesUnlistedFile(t *testing.T) {
	dir := tamperedDir(t, dialect.SQLite, func(d *migrate.MemDir, _ []migrate.File) {
		if err := d.WriteFile("29990101000000_extra.sql", []byte("CREATE TABLE x (id int);\n")); err != nil {
			t.Fatal(err)
		}
	})
	d := openEmpty(t, dialect.SQLite)
	_, err := d.MigrateDir(context.Background(), dir)
	if !errors.Is(err, db.ErrTampered) || !strings.Contains(err.Error(), "29990101000000_extra.sql") {
		t.Fatalf("got %v, want a tamper error naming the extra file", err)
	}
}

func TestMigrateRefusesOutOfOrderFile(t *testing.T) {
	for _, dn := range testkit.Dialects() {
		t.Run(dn, func(t *testing.T) {
			ctx := context.Background()
			d := openEmpty(t, dn)
			if _, err := d.Migrate(ctx); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			// A file older than the applied ones appears, with a correct atlas.sum.
			dir := tamperedDir(t, dn, func(md *migrate.MemDir, files []migrate.File) {
				if err := md.WriteFile("20000101000000_late.sql", []byte("CREATE TABLE late_arrival (id int);\n")); err != nil {
					t.Fatal(err)
				}
				all, err := md.Files()
				if err != nil {
					t.Fatal(err)
				}
				sum, err := migrate.NewHashFile(all)
				if err != nil {
					t.Fatal(err)
				}
				if err := migrate.WriteSumFile(md, sum); err != nil {
					t.Fatal(err)
				}
			})
			_, err := d.MigrateDir(ctx, dir)
			var me *db.MigrationError
			if !errors.As(err, &me) || me.File != "20000101000000_late.sql" {
				t.Fatalf("got %v, want an out-of-order error naming 20000101000000_late.sql", err)
			}
		})
	}
}

func TestAuditEventsAreAppendOnlyInTheDatabase(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := viewer.NewSystemContext(context.Background())
		ev, err := d.Client.AuditEvent.Create().SetAction("test.event").SetOccurredAt(testkit.DefaultNow).Save(ctx)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		// Even the system viewer cannot change it through ent …
		if err := d.Client.AuditEvent.DeleteOne(ev).Exec(ctx); err == nil {
			t.Fatal("delete through ent succeeded, want denial")
		}
		// … and raw SQL is refused by the trigger.
		if _, err := d.SQL().ExecContext(ctx, "UPDATE audit_events SET action = 'x'"); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("raw update: got %v, want append-only error", err)
		}
		if _, err := d.SQL().ExecContext(ctx, "DELETE FROM audit_events"); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("raw delete: got %v, want append-only error", err)
		}
		n, err := d.Client.AuditEvent.Query().Count(ctx)
		if err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
	})
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	ctx := viewer.NewSystemContext(context.Background())
	d := testkit.NewDB(t, dialect.SQLite)
	for _, e := range []string{"a@example.org", "b@example.org"} {
		if _, err := d.Client.User.Create().SetEmail(e).Save(ctx); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "backup", "copy.db")
	if err := d.Backup(ctx, path); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if err := d.Backup(ctx, path); err == nil {
		t.Fatal("second backup to the same path succeeded, want refusal")
	}
	c, err := db.Open(ctx, "sqlite:"+path, db.Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer c.Close()
	st, err := c.MigrationStatus(ctx)
	if err != nil || !st.Current() {
		t.Fatalf("backup migration status %+v, %v: want current", st, err)
	}
	n, err := c.Client.User.Query().Count(ctx)
	if err != nil || n != 2 {
		t.Fatalf("users in backup = %d, %v; want 2", n, err)
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "", "./data/c.db"} {
		if _, err := db.Open(context.Background(), u, db.Options{}); !errors.Is(err, db.ErrUnsupportedURL) {
			t.Errorf("Open(%q) = %v, want ErrUnsupportedURL", u, err)
		}
	}
}

// ent sends upserts (INSERT … ON CONFLICT … RETURNING) as queries; outside a transaction
// they must reach the SQLite writer, not the query-only readers.
func TestUpsertOutsideTransaction(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := viewer.NewSystemContext(context.Background())
		for range 2 {
			if err := d.Client.Job.Create().SetName("nightly").OnConflictColumns("name").Ignore().Exec(ctx); err != nil {
				t.Fatalf("upsert: %v", err)
			}
		}
		if n, err := d.Client.Job.Query().Count(ctx); err != nil || n != 1 {
			t.Fatalf("jobs = %d, %v; want 1", n, err)
		}
	})
}

// TestSQLiteWriterKeepsALargePageCache: the one writer connection keeps up to 16 MiB of
// pages (SQLite's default is 2 MiB), so a large write transaction does not spill midway.
func TestSQLiteWriterKeepsALargePageCache(t *testing.T) {
	d := openEmpty(t, dialect.SQLite)
	var pages int
	if err := d.SQL().QueryRowContext(context.Background(), "PRAGMA cache_size").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != -16384 {
		t.Errorf("writer cache_size %d, want -16384 (16 MiB)", pages)
	}
}

// TestSQLiteCommitsLeaveCheckpointsToTheCheckpointer: a commit of several MiB returns
// without copying the WAL into the database file (SQLite's automatic checkpoint would, on
// the writer, once the WAL passes 1,000 pages); the checkpointer copies it at its next
// tick, on its own connection.
func TestSQLiteCommitsLeaveCheckpointsToTheCheckpointer(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, testkit.RawURL(t, dialect.SQLite), db.Options{CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w := d.SQL()
	if _, err := w.ExecContext(ctx, "CREATE TABLE scratch (id INTEGER PRIMARY KEY, b BLOB)"); err != nil {
		t.Fatal(err)
	}
	size := func(suffix string) int64 {
		t.Helper()
		fi, err := os.Stat(d.Path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size("")
	const rows, rowBytes = 2000, 4000 // 8 MB: about 2,000 pages past the automatic threshold
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?) INSERT INTO scratch (b) SELECT randomblob(?) FROM n", rows, rowBytes); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := size(""); got != before {
		t.Fatalf("the commit checkpointed: database file %d → %d bytes", before, got)
	}
	if wal := size("-wal"); wal < rows*rowBytes {
		t.Fatalf("WAL %d bytes after writing %d", wal, rows*rowBytes)
	}

	ticks := make(chan time.Time)
	done := make(chan db.Checkpointed)
	d.CheckpointAt(ticks, func(c db.Checkpointed, err error) {
		if err != nil {
			t.Error(err)
		}
		done <- c
	})
	ticks <- time.Now()
	c := <-done
	if c.Busy || c.WALPages < 1000 || c.Checkpointed != c.WALPages {
		t.Fatalf("checkpoint: %+v, want every one of more than 1,000 WAL pages copied", c)
	}
	if got := size(""); got < before+rows*rowBytes {
		t.Errorf("database file %d bytes after the checkpoint, want at least %d", got, before+rows*rowBytes)
	}
	var n int
	if err := d.SQL().QueryRowContext(ctx, "SELECT count(*) FROM scratch").Scan(&n); err != nil || n != rows {
		t.Errorf("%d rows (%v), want %d", n, err, rows)
	}
}
