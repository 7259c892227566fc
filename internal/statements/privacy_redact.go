package statements

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/statementrevision"
	"github.com/gocart-coalition/coalition/ent/statementsignoff"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// redactUnpublished replaces the person's name and address (values) with
// privacy.ErasedText inside the statements' text that was never published, whoever wrote
// it: the title, summary and body of revisions never published (each hashed again, so
// its hash stays that of its text: a signatory's sign-off keeps the hash of the text they
// signed), the correction note of such a revision, the title and summary of a statement
// never published (its current revision's), and every sign-off's comment (never
// published). What was published stays as published (archival interest): published
// revisions with their correction notes and frozen declarations and signers, and the
// withdrawal reason of a statement, which readers see. It returns the rows changed.
func redactUnpublished(ctx context.Context, c *ent.Client, values []string) (int, error) {
	rows := 0
	revs, err := c.StatementRevision.Query().Where(statementrevision.PublishedAtIsNil(),
		privacy.Naming[predicate.StatementRevision](values, statementrevision.FieldTitle, statementrevision.FieldSummary,
			statementrevision.FieldBody, statementrevision.FieldCorrectionNote)).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("unpublished revisions naming the person: %w", err)
	}
	for _, r := range revs {
		title, c1 := privacy.Redact(r.Title, values)
		summary, c2 := privacy.Redact(r.Summary, values)
		body, c3 := privacy.Redact(r.Body, values)
		note, c4 := privacy.Redact(r.CorrectionNote, values)
		if !c1 && !c2 && !c3 && !c4 {
			continue
		}
		hash := Hash(Text{Title: title, Summary: summary, Body: body})
		// The text is immutable for everyone else; erasure is the one writer allowed to
		// change it, and only before publication.
		if err := c.StatementRevision.Update().Where(statementrevision.ID(r.ID), statementrevision.PublishedAtIsNil()).
			SetCorrectionNote(note).Modify(func(u *sql.UpdateBuilder) {
			u.Set(statementrevision.FieldTitle, title).Set(statementrevision.FieldSummary, summary).
				Set(statementrevision.FieldBody, body).Set(statementrevision.FieldHash, hash)
		}).Exec(ctx); err != nil {
			return rows, fmt.Errorf("redact an unpublished revision: %w", err)
		}
		rows++
	}
	sts, err := c.PolicyStatement.Query().Where(policystatement.PublishedRevisionIDIsNil(),
		privacy.Naming[predicate.PolicyStatement](values, policystatement.FieldTitle, policystatement.FieldSummary)).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("unpublished statements naming the person: %w", err)
	}
	for _, st := range sts {
		title, c1 := privacy.Redact(st.Title, values)
		summary, c2 := privacy.Redact(st.Summary, values)
		if !c1 && !c2 {
			continue
		}
		if err := c.PolicyStatement.UpdateOneID(st.ID).SetTitle(title).SetSummary(summary).Exec(ctx); err != nil {
			return rows, fmt.Errorf("redact an unpublished statement: %w", err)
		}
		rows++
	}
	sos, err := c.StatementSignoff.Query().Where(privacy.Naming[predicate.StatementSignoff](values, statementsignoff.FieldComment)).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("sign-offs naming the person: %w", err)
	}
	for _, so := range sos {
		comment, changed := privacy.Redact(so.Comment, values)
		if !changed {
			continue
		}
		if err := c.StatementSignoff.Update().Where(statementsignoff.ID(so.ID)).
			Modify(func(u *sql.UpdateBuilder) { u.Set(statementsignoff.FieldComment, comment) }).Exec(ctx); err != nil {
			return rows, fmt.Errorf("redact a sign-off's comment: %w", err)
		}
		rows++
	}
	return rows, nil
}
