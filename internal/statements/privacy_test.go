package statements_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/statementsignatory"
	"github.com/gocart-coalition/coalition/ent/statementsignoff"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestEraseStatements erases Marek Novák, co-author and Brno's signatory of a published
// statement (being corrected) and of a draft, next to his near-namesake Marek Novak in the
// same roles: the published version still names both as published (authors, declarations,
// signers); Marek is no longer an author or a signatory of either statement, his sign-off
// on the unpublished revision is deleted and the one on the published revision kept
// without its comment; the twin's rows are untouched; Marek's export names nothing of
// him afterwards.
func TestEraseStatements(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w, twin := testkit.MustTwins(t, s)
		sys, c := s.System(), s.DB.Client
		at := time.Date(2027, 1, 5, 10, 0, 0, 0, time.UTC)
		statement := func(slug string) *ent.PolicyStatement {
			st, err := c.PolicyStatement.Create().SetSlug(slug).SetTitle("Access to CAR-T").SetTopics([]string{"access"}).
				SetCreatedByID(w.Staff.ID).AddAuthorIDs(w.Trainee.ID, twin.ID).AddCoauthorIDs(w.Brno.ID).Save(sys)
			testkit.MustOK(t, err)
			for _, u := range []*ent.User{w.Trainee, twin} {
				_, err := c.StatementSignatory.Create().SetStatementID(st.ID).SetOrganisationID(w.Brno.ID).SetUserID(u.ID).
					SetRole(statementsignatory.RoleCO_AUTHOR).Save(sys)
				testkit.MustOK(t, err)
			}
			return st
		}
		revision := func(st *ent.PolicyStatement, n int, by *ent.User, published bool) *ent.StatementRevision {
			q := c.StatementRevision.Create().SetStatementID(st.ID).SetNumber(n).SetTitle("Access to CAR-T").
				SetBody("Every eligible patient should be treated.").SetHash(strings.Repeat("ab", 32)).SetCreatedByID(by.ID).SetEditedAt(at)
			if published {
				q.SetVersion(1).SetPublishedAt(at).
					SetDeclarations([]vocab.FrozenDeclaration{
						{Person: "Marek Novak", Statement: "Nothing to declare.", DeclaredOn: "2027-01-02", DeclarationID: "coi_1"},
						{Person: "Marek Novák", Statement: "Nothing to declare.", DeclaredOn: "2027-01-02", DeclarationID: "coi_2"},
					}).
					SetSigners([]vocab.FrozenSigner{{Organisation: w.Brno.Name, Country: "CZ", Role: "CO_AUTHOR", SignedAt: at, People: []string{"Marek Novak", "Marek Novák"}}})
			}
			r, err := q.Save(sys)
			testkit.MustOK(t, err)
			return r
		}
		signoff := func(st *ent.PolicyStatement, r *ent.StatementRevision, u *ent.User, comment string) *ent.StatementSignoff {
			so, err := c.StatementSignoff.Create().SetStatementID(st.ID).SetRevisionID(r.ID).SetRevisionHash(r.Hash).
				SetOrganisationID(w.Brno.ID).SetUserID(u.ID).SetDecision(statementsignoff.DecisionAPPROVE).SetComment(comment).SetSignedAt(at).Save(sys)
			testkit.MustOK(t, err)
			return so
		}
		published := statement("car-t-access")
		v1 := revision(published, 1, twin, true)
		v2 := revision(published, 2, w.Trainee, false)
		testkit.MustOK(t, c.PolicyStatement.UpdateOneID(published.ID).SetStatus(policystatement.StatusPUBLISHED).SetPublishedRevisionID(v1.ID).
			SetCurrentRevisionID(v2.ID).SetPublishedVersions(1).SetPublishedAt(at).SetFirstPublishedAt(at).SetRevisionsCount(2).Exec(sys))
		mineOnV1 := signoff(published, v1, w.Trainee, "Approved by Marek Novák")
		signoff(published, v2, w.Trainee, "Marek Novák approves the correction")
		twinsOnV1 := signoff(published, v1, twin, "Approved by Marek Novak")
		twinsOnV2 := signoff(published, v2, twin, "ok")
		draft := statement("car-t-workforce")
		d1 := revision(draft, 1, w.Trainee, false)
		signoff(draft, d1, w.Trainee, "Marek Novák approves the draft")
		testkit.MustContain(t, "Marek's export before erasure", testkit.ExportJSON(t, s, statements.PrivacyDomain{}, w.Trainee), "approves the draft")

		erased := testkit.MustErase(t, s, statements.PrivacyDomain{}, w.Trainee)
		if erased.Rows != 7 || len(erased.Documents) != 0 {
			t.Errorf("erased = %+v, want 7 rows (2 authorships, 2 designations, 2 sign-offs deleted, 1 comment blanked)", erased)
		}

		for _, st := range []*ent.PolicyStatement{published, draft} {
			authors, err := st.QueryAuthors().IDs(sys)
			testkit.MustOK(t, err)
			if !slices.Equal(authors, []pulid.ID{twin.ID}) {
				t.Errorf("authors of %s after erasure: %v, want the twin", st.Slug, authors)
			}
			signatories, err := c.StatementSignatory.Query().Where(statementsignatory.StatementID(st.ID)).All(sys)
			testkit.MustOK(t, err)
			if len(signatories) != 1 || signatories[0].UserID != twin.ID {
				t.Errorf("signatories of %s after erasure: %v, want the twin", st.Slug, signatories)
			}
		}
		sos, err := c.StatementSignoff.Query().Order(ent.Asc(statementsignoff.FieldID)).All(sys)
		testkit.MustOK(t, err)
		var ids []pulid.ID
		for _, so := range sos {
			ids = append(ids, so.ID)
			if so.ID == mineOnV1.ID && (so.Comment != "" || so.Decision != mineOnV1.Decision || !so.SignedAt.Equal(at)) {
				t.Errorf("Marek's published sign-off after erasure: %+v, want kept without comment", so)
			}
			if so.UserID == twin.ID && so.Comment == "" {
				t.Errorf("the twin's sign-off %s lost its comment", so.ID)
			}
		}
		want := []pulid.ID{mineOnV1.ID, twinsOnV1.ID, twinsOnV2.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("sign-offs after erasure %v, want %v", ids, want)
		}
		if rev, err := c.StatementRevision.Get(sys, v2.ID); err != nil || rev.Body != v2.Body || rev.CreatedByID != w.Trainee.ID {
			t.Errorf("the revision Marek wrote after erasure: %+v, %v (its text stays)", rev, err)
		}

		pub, err := s.Statements.PublicGet(s.Anonymous(), "car-t-access", 0)
		testkit.MustOK(t, err)
		if !slices.Equal(pub.Authors, []string{"Marek Novak", "Marek Novák"}) || len(pub.CoAuthors) != 1 ||
			!slices.Equal(pub.CoAuthors[0].People, []string{"Marek Novak", "Marek Novák"}) {
			t.Errorf("the published statement after erasure: authors %v, co-authors %+v; want the names as published", pub.Authors, pub.CoAuthors)
		}

		after := testkit.ExportJSON(t, s, statements.PrivacyDomain{}, w.Trainee)
		testkit.MustNotContain(t, "Marek's export after erasure", after, "Marek", "Novák", "approves")
		testkit.MustContain(t, "Marek's export after erasure", after, `"authored":[]`, `"designated_signatory":[]`)
		if twinAfter := testkit.ExportJSON(t, s, statements.PrivacyDomain{}, twin); strings.Count(twinAfter, `"slug":`) != 2 || !strings.Contains(twinAfter, "Approved by Marek Novak") {
			t.Errorf("the twin's export after erasure lost data: %s", twinAfter)
		}
	})
}
