package testkit

import (
	"context"

	"github.com/gocart-coalition/coalition/ent"
)

// Try runs fn in a transaction opened like Do's and always rolls it back, so every cell of
// a permission table starts from the same rows: it returns fn's error.
func (s *Services) Try(ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) error {
	s.TB.Helper()
	txCtx, _, err := s.DB.Client.OpenTx(ctx)
	if err != nil {
		s.TB.Fatalf("begin: %v", err)
	}
	tx := ent.TxFromContext(txCtx)
	defer func() { _ = tx.Rollback() }()
	return fn(txCtx, tx.Client())
}
