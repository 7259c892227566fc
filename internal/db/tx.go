package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
)

// InTx runs fn in one transaction of client and commits it when fn returns nil (rolls it
// back otherwise, or when fn panics). It is the one way every entry point writes —
// pages, uploads, the CLI, jobs; /graphql's transactioner opens its transactions the same
// way (ent's Client.OpenTx) — so they all behave alike:
//
//   - the transaction is in fn's context (ent.TxFromContext, ent.FromContext), so code
//     deeper down joins it instead of opening its own;
//   - an email queued in it (notify, outbox.Enqueue) commits or rolls back with the change
//     that caused it, and wakes the outbox only after the commit (notify registers an
//     OnCommit hook on the transaction it finds in the context).
//
// When ctx already carries a transaction, fn runs in it and InTx neither commits nor rolls
// back: the owner of that transaction does.
func InTx(ctx context.Context, client *ent.Client, fn func(ctx context.Context, tx *ent.Client) error) (err error) {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return fn(ctx, tx.Client())
	}
	txCtx, _, err := client.OpenTx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := ent.TxFromContext(txCtx)
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(txCtx, tx.Client()); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return errors.Join(err, fmt.Errorf("roll back transaction: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// Retry calls fn until it succeeds, fails for another reason than the database being
// away (IsUnavailable), or ctx ends, pausing 50 ms, doubling up to a second, between
// attempts, and returns fn's last error. It is for writes that must not be lost to a
// moment when the database is away (a job's outcome, an email's delivery result); any
// other error is returned at once.
func Retry(ctx context.Context, fn func() error) error {
	pause := 50 * time.Millisecond
	for {
		err := fn()
		if err == nil || !IsUnavailable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}
