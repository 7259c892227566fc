package testkit

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// TryWrites runs fn as the viewer in ctx in a transaction that is always rolled back, so every
// row of a permission table starts from the same data, and returns Outcome(err) and
// whether fn wrote anything: any row added to or removed from a table, or any audit event
// (the audit hook records every change a signed-in person makes, updates included). A
// refusal must write nothing.
func (s *Services) TryWrites(ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) (outcome string, wrote bool) {
	s.TB.Helper()
	txCtx, _, err := s.DB.Client.OpenTx(ctx)
	if err != nil {
		s.TB.Fatalf("begin: %v", err)
	}
	tx := ent.TxFromContext(txCtx)
	defer func() { _ = tx.Rollback() }()
	before, err := rowCounts(viewer.NewSystemContext(txCtx), tx.Client())
	if err != nil {
		s.TB.Fatalf("count rows: %v", err)
	}
	ferr := fn(txCtx, tx.Client())
	after, err := rowCounts(viewer.NewSystemContext(txCtx), tx.Client())
	if err != nil {
		// PostgreSQL refuses statements after one failed: the transaction can only roll back.
		return Outcome(ferr), false
	}
	return Outcome(ferr), after != before
}

// rowCounts is the number of rows of every table a service of the tests writes, as one string.
func rowCounts(ctx context.Context, c *ent.Client) (string, error) {
	counts := []func(context.Context) (int, error){
		c.User.Query().Count, c.ApiToken.Query().Count, c.Session.Query().Count, c.LoginLink.Query().Count,
		c.Organisation.Query().Count, c.HostCentre.Query().Count, c.Affiliation.Query().Count,
		c.WorkingGroup.Query().Count, c.Membership.Query().Count, c.Meeting.Query().Count,
		c.ConflictOfInterestDeclaration.Query().Count, c.OutboxMessage.Query().Count, c.AuditEvent.Query().Count,
	}
	out := ""
	for _, count := range counts {
		n, err := count(ctx)
		if err != nil {
			return "", err
		}
		out += fmt.Sprintf("%d ", n)
	}
	return out, nil
}
