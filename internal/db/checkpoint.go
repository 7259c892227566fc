package db

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SQLite checkpoints in the background.
//
// In WAL mode a commit appends the transaction's pages to the WAL file; a checkpoint copies
// them into the database file. By default SQLite runs that checkpoint inside the commit that
// takes the WAL past 1,000 pages, on the committing connection: a transaction that writes a
// few MiB (publishing a match, a campaign's recipients, a group of delivery results) then
// pays for copying the whole WAL and two fsyncs before its commit returns, on the one
// writer connection every request waits for. Measured on a 1,000 × 200 match publication it
// was about a sixth of the request's processor time.
//
// So every connection opened by this package has automatic checkpoints off, and each
// SQLite DB runs a checkpointer on a connection of its own: every CheckpointEvery it runs
// a PASSIVE checkpoint, which copies what it can without blocking the writer or readers,
// on the other core. As before, synchronous=NORMAL makes commits durable when the WAL is
// checkpointed; a quiet server is now checkpointed within CheckpointEvery of a write,
// rather than only once 1,000 pages have accumulated. journal_size_limit truncates the WAL
// file back to 64 MiB after a spike once the WAL restarts.

// sqliteDriverName is SQLite's driver with the connection settings above.
const sqliteDriverName = "sqlite3-coalition"

// walSizeLimit is journal_size_limit: the WAL file is truncated to this size when it is
// reset after a checkpoint.
const walSizeLimit = 64 << 20

func init() {
	stdsql.Register(sqliteDriverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if _, err := c.Exec("PRAGMA wal_autocheckpoint=0", nil); err != nil {
			return fmt.Errorf("turn off automatic checkpoints: %w", err)
		}
		if _, err := c.Exec(fmt.Sprintf("PRAGMA journal_size_limit=%d", walSizeLimit), nil); err != nil {
			return fmt.Errorf("set journal_size_limit: %w", err)
		}
		return nil
	}})
}

// DefaultCheckpointEvery is how often the checkpointer runs unless Options.CheckpointEvery
// says otherwise.
const DefaultCheckpointEvery = time.Second

// Checkpointed is what one checkpoint did: the WAL's size in pages when it ran and how many
// of them are now in the database file. Busy reports that another checkpoint was running.
type Checkpointed struct {
	Busy         bool
	WALPages     int
	Checkpointed int
}

// Checkpoint runs a PASSIVE checkpoint of a SQLite database now, on the checkpointer's own
// connection: it copies the committed WAL pages that no reader still needs into the
// database file without waiting for the writer or readers. The background checkpointer
// calls it every CheckpointEvery; tests and `coalition backup` may call it directly. On
// PostgreSQL it does nothing.
func (d *DB) Checkpoint(ctx context.Context) (Checkpointed, error) {
	var c Checkpointed
	if d.ckpt == nil {
		return c, nil
	}
	var busy int
	err := d.ckpt.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &c.WALPages, &c.Checkpointed)
	if err != nil {
		return c, fmt.Errorf("checkpoint %s: %w", d.Path, err)
	}
	c.Busy = busy != 0
	return c, nil
}

// checkpointer is a SQLite DB's checkpoint connection and, when running, its loop.
type checkpointer struct {
	db   *stdsql.DB
	stop chan struct{}
	done sync.WaitGroup
}

func openCheckpointer(path string, opts Options) (*checkpointer, error) {
	// Neither the single writer (a checkpoint there would wait for, and hold up, writes)
	// nor a query-only reader.
	conn, err := stdsql.Open(sqliteDriverName, sqliteDSN(path, false, opts.BusyTimeout))
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	return &checkpointer{db: conn, stop: make(chan struct{})}, nil
}

// run checkpoints d every interval until close.
func (c *checkpointer) run(d *DB, every time.Duration) {
	t := time.NewTicker(every)
	// A failure (the disk full, say) is retried at the next tick; the WAL keeps every
	// commit meanwhile.
	c.loop(d, t.C, every*10, func(Checkpointed, error) {})
	c.done.Go(func() { <-c.stop; t.Stop() })
}

// loop checkpoints d at each tick until close, each checkpoint given at most limit, and
// tells after what it did.
func (c *checkpointer) loop(d *DB, ticks <-chan time.Time, limit time.Duration, after func(Checkpointed, error)) {
	c.done.Go(func() {
		for {
			select {
			case <-c.stop:
				return
			case <-ticks:
				ctx, cancel := context.WithTimeout(context.Background(), limit)
				r, err := d.Checkpoint(ctx)
				cancel()
				after(r, err)
			}
		}
	})
}

func (c *checkpointer) close() error {
	close(c.stop)
	c.done.Wait()
	return c.db.Close()
}
