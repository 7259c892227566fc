package programme_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/callreviewer"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/refereerequest"
	"github.com/gocart-coalition/coalition/ent/reviewassignment"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

func sha(c byte) string { return strings.Repeat(string(c), 64) }

// TestEraseProgramme erases Marek Novák, an applicant, a referee and a reviewer, next to
// his near-namesake Marek Novak, who applied to the same open call: Marek's submitted
// application stays as an anonymised, withdrawn row; his draft in another call is
// deleted; his documents, his referees' requests and the letter he wrote for the twin are
// deleted, the files returned for deletion except one the twin's application shares;
// reviews keep their scores without comments; his reviewer appointment and assignment go;
// the twin's application, documents, referee and reviews stay; Marek's export holds
// nothing personal afterwards.
func TestEraseProgramme(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w, twin := testkit.MustTwins(t, s)
		sys, c := s.System(), s.DB.Client
		o := testkit.MustOpenCall(t, s, w)
		mine := testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA, w.CentreB), true)
		theirs := testkit.MustApply(t, s, twin, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA), true)
		other := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		draft, err := c.Application.Create().SetCallID(other.ID).SetTraineeID(w.Trainee.ID).SetMotivation("Draft by Marek Novák").Save(sys)
		testkit.MustOK(t, err)
		_, err = c.ApplicationChoice.Create().SetApplicationID(draft.ID).SetHostCentreID(w.CentreA.ID).SetRank(1).Save(sys)
		testkit.MustOK(t, err)

		doc := func(a *ent.Application, kind vocab.DocumentKind, name string, hash byte, ref *ent.RefereeRequest) *ent.Document {
			q := c.Document.Create().SetApplicationID(a.ID).SetKind(kind).SetFilename(name).SetSha256(sha(hash)).SetSize(1000)
			if ref != nil {
				q.SetRefereeRequestID(ref.ID)
			}
			d, err := q.Save(sys)
			testkit.MustOK(t, err)
			return d
		}
		referee := func(a *ent.Application, name, email, token string) *ent.RefereeRequest {
			r, err := c.RefereeRequest.Create().SetApplicationID(a.ID).SetRefereeName(name).SetRefereeEmail(email).SetWaived(true).
				SetTokenHash(token).SetExpiresAt(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)).Save(sys)
			testkit.MustOK(t, err)
			return r
		}
		doc(mine, vocab.DocumentCV, "Marek_Novak_CV.pdf", 'a', nil)
		doc(mine, vocab.DocumentMotivationLetter, "motivation.pdf", 'c', nil)
		anna := referee(mine, "Prof. Anna Referee", "anna.referee@example.org", "t1")
		doc(mine, vocab.DocumentRefereeLetter, "letter.pdf", 'd', anna)
		twinCV := doc(theirs, vocab.DocumentCV, "CV_Marek_Novak.pdf", 'b', nil)
		twinShared := doc(theirs, vocab.DocumentSupportLetter, "support.pdf", 'c', nil)
		asReferee := referee(theirs, "Marek Novák", "Marek.Novak@fnbrno.example.cz", "t2")
		doc(theirs, vocab.DocumentRefereeLetter, "letter-by-marek.pdf", 'e', asReferee)
		prof := referee(theirs, "Prof. Other", "other.prof@example.org", "t3")
		profLetter := doc(theirs, vocab.DocumentRefereeLetter, "letter-by-prof.pdf", 'f', prof)

		review := func(a *ent.Application, by *ent.User, score int, comment string) *ent.Review {
			r, err := c.Review.Create().SetApplicationID(a.ID).SetReviewerID(by.ID).SetScores(map[string]int{"motivation": score}).
				SetComment(comment).SetConflictReason("reason of " + by.Name).Save(sys)
			testkit.MustOK(t, err)
			return r
		}
		onMine := review(mine, w.Staff, 4, "Marek Novák is strong")
		byMarek := review(theirs, w.Trainee, 5, "Good fit, says Marek Novák")
		onTheirs := review(theirs, w.Staff, 3, "Marek Novak is strong too")
		_, err = c.CallReviewer.Create().SetCallID(o.Call.ID).SetUserID(w.Trainee.ID).SetAppointedByID(w.Staff.ID).Save(sys)
		testkit.MustOK(t, err)
		_, err = c.ReviewAssignment.Create().SetApplicationID(theirs.ID).SetReviewerID(w.Trainee.ID).SetAssignedByID(w.Staff.ID).Save(sys)
		testkit.MustOK(t, err)
		testkit.MustContain(t, "Marek's export before erasure", testkit.ExportJSON(t, s, programme.PrivacyDomain{}, w.Trainee), "Marek_Novak_CV.pdf", "Good fit")

		erased := testkit.MustErase(t, s, programme.PrivacyDomain{}, w.Trainee)
		var files []string
		for _, d := range erased.Documents {
			files = append(files, d.SHA256)
		}
		slices.Sort(files)
		if want := []string{sha('a'), sha('d'), sha('e')}; !slices.Equal(files, want) {
			t.Errorf("files to delete %v, want %v (the shared file c stays)", files, want)
		}

		got, err := c.Application.Get(sys, mine.ID)
		testkit.MustOK(t, err)
		if got.Status != application.StatusWITHDRAWN || got.WithdrawnAt == nil || got.Motivation != "" || got.Role != "" ||
			got.HomeOrganisationID != nil || got.CartExperienceYears != 0 || len(got.Languages) != 0 || len(got.Availability) != 0 ||
			got.PreferredWeeks != nil || got.CallID != o.Call.ID || got.SubmittedAt == nil {
			t.Errorf("Marek's application after erasure: %+v", got)
		}
		if _, err := c.Application.Get(sys, draft.ID); !ent.IsNotFound(err) {
			t.Errorf("Marek's draft after erasure: %v, want deleted", err)
		}
		testkit.WantCount(t, s, "the draft's choices", c.ApplicationChoice.Query().Where(applicationchoice.ApplicationID(draft.ID)), 0)
		testkit.WantCount(t, s, "the documents of Marek's application", c.Document.Query().Where(document.ApplicationID(mine.ID)), 0)
		left, err := c.Document.Query().Where(document.ApplicationID(theirs.ID)).IDs(sys)
		testkit.MustOK(t, err)
		if !sameIDs(left, twinCV.ID, twinShared.ID, profLetter.ID) {
			t.Errorf("the twin's documents after erasure %v, want CV, support letter and the professor's letter", left)
		}
		refs, err := c.RefereeRequest.Query().Where(refereerequest.Or(refereerequest.ApplicationID(mine.ID), refereerequest.ApplicationID(theirs.ID))).IDs(sys)
		testkit.MustOK(t, err)
		if !sameIDs(refs, prof.ID) {
			t.Errorf("referee requests after erasure %v, want only the professor's for the twin", refs)
		}
		for _, x := range []struct {
			r       *ent.Review
			comment string
		}{{onMine, ""}, {byMarek, ""}, {onTheirs, "Marek Novak is strong too"}} {
			r, err := c.Review.Get(sys, x.r.ID)
			testkit.MustOK(t, err)
			if r.Comment != x.comment || r.Scores["motivation"] != x.r.Scores["motivation"] ||
				(x.comment == "") != (r.ConflictReason == "") {
				t.Errorf("review %s after erasure: comment %q, reason %q, scores %v", r.ID, r.Comment, r.ConflictReason, r.Scores)
			}
		}
		testkit.WantCount(t, s, "Marek's reviewer appointments", c.CallReviewer.Query().Where(callreviewer.UserID(w.Trainee.ID)), 0)
		testkit.WantCount(t, s, "Marek's review assignments", c.ReviewAssignment.Query().Where(reviewassignment.ReviewerID(w.Trainee.ID)), 0)
		tw, err := c.Application.Get(sys, theirs.ID)
		testkit.MustOK(t, err)
		if tw.Status != application.StatusSUBMITTED || tw.Motivation != testkit.Motivation || tw.HomeOrganisationID == nil {
			t.Errorf("the twin's application after erasure: %+v", tw)
		}
		testkit.WantCount(t, s, "the call's applications after erasure (one anonymised)", c.Application.Query().Where(application.CallID(o.Call.ID)), 2)

		after := testkit.ExportJSON(t, s, programme.PrivacyDomain{}, w.Trainee)
		testkit.MustNotContain(t, "Marek's export after erasure", after, "Marek", "Novak", "Novák", "Anna", "letter", ".pdf",
			"Good fit", "Haematology consultant", testkit.Motivation, string(w.Brno.ID))
		testkit.MustContain(t, "Marek's export after erasure (the anonymised application)", after, string(mine.ID), "WITHDRAWN")
		testkit.MustContain(t, "the twin's export after erasure", testkit.ExportJSON(t, s, programme.PrivacyDomain{}, twin),
			"CV_Marek_Novak.pdf", "Prof. Other", testkit.Motivation)
	})
}

func sameIDs(got []pulid.ID, want ...pulid.ID) bool {
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}
