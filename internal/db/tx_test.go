package db_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

func TestInTxCommitsRollsBackJoinsAndRunsCommitHooksAfterCommit(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		sys := viewer.NewSystemContext(context.Background())
		count := func() int {
			n, err := d.Client.Job.Query().Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		create := func(ctx context.Context, tx *ent.Client, name string) error {
			return tx.Job.Create().SetName(name).Exec(ctx)
		}

		// Committed: the transaction is in fn's context, and its commit hooks run after
		// the commit (this is how the outbox is woken).
		var woke, inCtx bool
		err := db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
			t := ent.TxFromContext(ctx)
			inCtx = t != nil
			t.OnCommit(func(next ent.Committer) ent.Committer {
				return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
					err := next.Commit(ctx, tx)
					woke = err == nil
					return err
				})
			})
			return create(ctx, tx, "a")
		})
		if err != nil || !inCtx || !woke || count() != 1 {
			t.Fatalf("commit: err %v, tx in context %v, hook after commit %v, rows %d; want nil, true, true, 1", err, inCtx, woke, count())
		}

		// Rolled back with fn's error, which the caller gets as it was.
		boom := errors.New("boom")
		err = db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
			if err := create(ctx, tx, "b"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || count() != 1 {
			t.Fatalf("rollback: err %v, rows %d; want boom, 1", err, count())
		}

		// Nested: the inner call joins the outer transaction, whose rollback undoes both.
		err = db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
			if err := db.InTx(ctx, d.Client, func(ctx context.Context, inner *ent.Client) error {
				return create(ctx, inner, "c")
			}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || count() != 1 {
			t.Fatalf("nested: err %v, rows %d; want boom, 1 (the inner write rolled back with the outer)", err, count())
		}

		// A panic rolls back and goes on panicking.
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic swallowed")
				}
			}()
			_ = db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
				_ = create(ctx, tx, "d")
				panic("boom")
			})
		}()
		if count() != 1 {
			t.Fatalf("rows after a panic = %d, want 1", count())
		}
	})
}

// Retry retries only while the database is away; any other error comes back at once.
func TestRetryOnlyRetriesUnavailability(t *testing.T) {
	calls := 0
	boom := errors.New("constraint failed")
	if err := db.Retry(context.Background(), func() error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("a plain error: %v after %d calls, want it after 1", err, calls)
	}
	calls = 0
	err := db.Retry(context.Background(), func() error {
		calls++
		if calls < 3 {
			return driver.ErrBadConn // the database is away
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("unavailable twice, then fine: %v after %d calls, want nil after 3", err, calls)
	}
}
