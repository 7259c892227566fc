package statements

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/ent/statementrevision"
	"github.com/gocart-coalition/coalition/ent/statementsignatory"
	"github.com/gocart-coalition/coalition/ent/statementsignoff"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the policy statements' part in data-subject requests: the statements
// the person authored or opened, the revisions they wrote, where they were designated a
// signatory, and the sign-offs they gave.
type PrivacyDomain struct{}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "statements" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string {
	return []string{"PolicyStatement", "StatementRevision", "StatementSignatory", "StatementSignoff"}
}

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Policy statements", Data: "authorship, revisions written, designation as a signatory, sign-offs and endorsements (decision, time), the declarations of interest frozen with a published revision",
			Purpose: "draft, sign off and publish the coalition's joint statements", LegalBasis: "Art. 6(1)(f) legitimate interest (speaking for the member organisations); publication in the public interest",
			Retention: "drafts until withdrawn; published statements keep their authors and signatories as published (archival interest), also on erasure; on erasure the person leaves every statement's authors, their signatory designations and their sign-offs on revisions never published are deleted, the comments of their published sign-offs blanked, and their name and address in text never published (drafts, others' sign-off comments) replaced by \"[erased]\"", Recipients: "the public, once a statement is published"},
	}
}

// StatementsExport is statements.json.
type StatementsExport struct {
	Authored    []*ent.PolicyStatement    `json:"authored"`
	Revisions   []*ent.StatementRevision  `json:"revisions_written"`
	Signatories []*ent.StatementSignatory `json:"designated_signatory"`
	Signoffs    []*ent.StatementSignoff   `json:"signoffs"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	var out StatementsExport
	var err error
	if out.Authored, err = c.PolicyStatement.Query().
		Where(policystatement.Or(policystatement.HasAuthorsWith(user.ID(p.ID)), policystatement.CreatedByID(p.ID))).
		Order(ent.Asc(policystatement.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("statements: %w", err)
	}
	if out.Revisions, err = c.StatementRevision.Query().Where(statementrevision.CreatedByID(p.ID)).
		Order(ent.Asc(statementrevision.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("statement revisions: %w", err)
	}
	if out.Signatories, err = c.StatementSignatory.Query().Where(statementsignatory.UserID(p.ID)).
		Order(ent.Asc(statementsignatory.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("statement signatories: %w", err)
	}
	if out.Signoffs, err = c.StatementSignoff.Query().Where(statementsignoff.UserID(p.ID)).
		Order(ent.Asc(statementsignoff.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("statement sign-offs: %w", err)
	}
	return privacy.Part{Data: out}, nil
}

// Erase implements privacy.Domain. Published statements keep the author and signer
// names as published (archival interest): the public page reads them from the frozen
// copies in each published revision (declarations and signers), which erasure leaves
// alone, and a sign-off given on a published revision stays as the record of that
// signature (its comment, never published, is blanked). Everything not published goes:
// the person is removed from every statement's authors (so no later version names them),
// their designations as a signatory are deleted, and so are their sign-offs on revisions
// never published. Revisions the person wrote keep their text, which is the coalition's
// joint work, and point to the anonymised account; but the person's name and address
// inside text never published, whoever wrote it (drafts, other people's sign-off
// comments), are replaced by privacy.ErasedText: see redactUnpublished.
func (PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	var out privacy.Erased
	n, err := c.PolicyStatement.Update().Where(policystatement.HasAuthorsWith(user.ID(p.ID))).RemoveAuthorIDs(p.ID).Save(ctx)
	if err != nil {
		return out, fmt.Errorf("statement authors: %w", err)
	}
	out.Rows += n
	if n, err = c.StatementSignatory.Delete().Where(statementsignatory.UserID(p.ID)).Exec(ctx); err != nil {
		return out, fmt.Errorf("delete signatory designations: %w", err)
	}
	out.Rows += n
	if n, err = c.StatementSignoff.Delete().Where(statementsignoff.UserID(p.ID),
		statementsignoff.HasRevisionWith(statementrevision.PublishedAtIsNil())).Exec(ctx); err != nil {
		return out, fmt.Errorf("delete unpublished sign-offs: %w", err)
	}
	out.Rows += n
	// comment is immutable for everyone else; erasure is the one writer allowed to blank it.
	if n, err = c.StatementSignoff.Update().Where(statementsignoff.UserID(p.ID), statementsignoff.CommentNEQ("")).
		Modify(func(u *sql.UpdateBuilder) { u.Set(statementsignoff.FieldComment, "") }).Save(ctx); err != nil {
		return out, fmt.Errorf("blank published sign-offs' comments: %w", err)
	}
	out.Rows += n
	values, err := privacy.PersonValues(ctx, c, p)
	if err != nil {
		return out, err
	}
	if n, err = redactUnpublished(ctx, c, values); err != nil {
		return out, err
	}
	out.Rows += n
	return out, nil
}
