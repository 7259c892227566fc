package access

import (
	"context"
	"reflect"
	"slices"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// PublishedStatementStatuses are the statuses of a policy statement the public reads: a
// withdrawn statement stays readable, clearly marked.
var PublishedStatementStatuses = []string{"PUBLISHED", "CORRECTED", "WITHDRAWN"}

// CanManageStatements reports whether v may open policy statements, name their authors,
// organisations and signatories, send them for review, schedule, publish, correct and
// withdraw them, and read every one: coalition staff (and the system, for the
// publication job).
func CanManageStatements(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }

// CanEditStatement reports whether v may write a new revision of a statement whose authors
// are authors: one of its authors, or staff.
func CanEditStatement(v viewer.Viewer, authors []string) bool {
	return CanManageStatements(v) || (v.Kind == viewer.User && v.UserID != "" && slices.Contains(authors, v.UserID))
}

// CanSignStatement reports whether v may sign off (or endorse) a statement for an
// organisation whose designated signatories are signatories: only a designated signatory,
// staff included (staff do not sign for organisations they were not designated for).
func CanSignStatement(v viewer.Viewer, signatories []string) bool {
	return v.Kind == viewer.User && v.UserID != "" && slices.Contains(signatories, v.UserID)
}

// StatementParticipant is the entql predicate of the statements user takes part in: as an
// author or as a designated signatory (co-author or endorser contact).
func StatementParticipant(user string) entql.P {
	return entql.Or(
		entql.HasEdgeWith("authors", entql.FieldEQ("id", user)),
		entql.HasEdgeWith("signatories", entql.FieldEQ("user_id", user)),
	)
}

// PublishedStatement is the entql predicate of the statements the public reads.
func PublishedStatement() entql.P {
	vals := make([]any, len(PublishedStatementStatuses))
	for i, s := range PublishedStatementStatuses {
		vals[i] = s
	}
	return entql.FieldIn("status", vals...)
}

// visibleStatement is the predicate of the statements v reads (staff and the system are
// allowed before it is needed): the published ones, and for a signed-in user also the
// ones they take part in.
func visibleStatement(ctx context.Context) entql.P {
	if me := signedIn(ctx); me != "" {
		return entql.Or(PublishedStatement(), StatementParticipant(me))
	}
	return PublishedStatement()
}

// FilterVisibleStatements narrows PolicyStatement reads to the published statements and,
// for a signed-in person, those they write or sign: before publication a statement is
// invisible to everyone else, in lists and through node(id:) alike.
var FilterVisibleStatements = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	f.Where(visibleStatement(ctx))
	return privacy.Allow
})

// FilterVisibleRevisions narrows StatementRevision reads: the published revisions of
// published statements for everyone, and every revision of the statements a signed-in
// person takes part in.
var FilterVisibleRevisions = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	public := entql.And(entql.FieldNotNil("version"), entql.HasEdgeWith("statement", PublishedStatement()))
	if me := signedIn(ctx); me != "" {
		f.Where(entql.Or(public, entql.HasEdgeWith("statement", StatementParticipant(me))))
		return privacy.Allow
	}
	f.Where(public)
	return privacy.Allow
})

// FilterStatementParticipantRows narrows reads of a statement's signatories and sign-offs
// to the statement's participants (staff and the system are allowed before); the public
// reads what a published revision froze instead.
var FilterStatementParticipantRows = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	me := signedIn(ctx)
	if me == "" {
		f.Where(nothing)
		return privacy.Allow
	}
	f.Where(entql.HasEdgeWith("statement", StatementParticipant(me)))
	return privacy.Allow
})

// AllowStatementParticipantUpdate lets a signed-in participant update (never create or
// delete) the statements they take part in and their sign-offs: an author's edit moves
// the statement's current revision and voids the sign-offs; the last sign-off approves
// it. The update is narrowed to their statements, so for any other it matches no row;
// the service asks CanEditStatement and CanSignStatement first.
var AllowStatementParticipantUpdate = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	me := signedIn(ctx)
	if me == "" || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
		return privacy.Skip
	}
	f, ok := filterOf(m)
	if !ok {
		return privacy.Denyf("mutation %T cannot be filtered", m)
	}
	if m.Type() == "PolicyStatement" {
		f.Where(StatementParticipant(me))
	} else {
		f.Where(entql.HasEdgeWith("statement", StatementParticipant(me)))
	}
	return privacy.Allow
})

// AllowParticipantCreate lets a signed-in person create a statement's revision written by
// themself (created_by_id): the service asks CanEditStatement first.
var AllowParticipantCreate = ownCreate("created_by_id", "a person writes only their own revisions")

// AllowOwnSignoff lets a signed-in person give their own sign-off (user_id): the service
// asks CanSignStatement first.
var AllowOwnSignoff = ownCreate("user_id", "a person signs only for themself")

func ownCreate(column, refusal string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		me := signedIn(ctx)
		if me == "" || !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		if owner, ok := m.Field(column); ok {
			if id := reflect.ValueOf(owner); id.Kind() == reflect.String && id.String() == me {
				return privacy.Allow
			}
		}
		return privacy.Denyf("%s", refusal)
	})
}

// statementCoParticipants is the User predicate of the authors and designated signatories
// of the statements user takes part in: the people a participant reads beside the
// statement (a sign-off's signatory, a signatory's person).
func statementCoParticipants(user string) entql.P {
	return entql.Or(
		entql.HasEdgeWith("authored_statements", StatementParticipant(user)),
		entql.HasEdgeWith("statement_signatures", entql.HasEdgeWith("statement", StatementParticipant(user))),
	)
}
