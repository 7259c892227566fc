package programme_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/refereerequest"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// permission is one row of the programme's permission table: an operation and what each
// kind of caller (testkit.World.Actors) gets: "ok", a refusal (UNAUTHENTICATED,
// FORBIDDEN, NOT_FOUND), or the state refusal of a caller who passed the permission check
// (INVALID_STATE: allowed, but not now).
type permission struct {
	op   string
	run  func(ctx context.Context, tx *ent.Client) error
	want map[string]string
}

// readOnly is the prefix of an operation that writes nothing when it is allowed.
const readOnly = "(read) "

// refused is the answer of every actor but those given: anonymous callers are asked to
// sign in, everyone else is FORBIDDEN.
func refused(allowed map[string]string) map[string]string {
	m := map[string]string{"anonymous": "UNAUTHENTICATED"}
	for _, a := range []string{"trainee", "other trainee", "host", "other host", "former host", "staff"} {
		m[a] = "FORBIDDEN"
	}
	for a, w := range allowed {
		m[a] = w
	}
	return m
}

// checkTable runs every operation as every actor, each in its own transaction that is
// rolled back (so every cell starts from the same data), and checks the answer and that a
// refused or state-refused operation wrote nothing: not a row of the programme's tables,
// not an email.
func checkTable(t *testing.T, s *testkit.Services, w *testkit.World, table []permission) {
	t.Helper()
	for _, p := range table {
		for _, a := range w.Actors(s) {
			want, ok := p.want[a.Name]
			if !ok {
				t.Fatalf("%s: no answer for %s in the table", p.op, a.Name)
			}
			got, wrote := tryAndRollBack(t, s, a.Ctx, p.run)
			if got != want {
				t.Errorf("%s as %s: %s, want %s", p.op, a.Name, got, want)
			}
			switch {
			case got != "ok" && wrote != "":
				t.Errorf("%s as %s was refused (%s) but wrote: %s", p.op, a.Name, got, wrote)
			case got == "ok" && wrote == "" && !strings.HasPrefix(p.op, readOnly):
				t.Errorf("%s as %s was allowed but wrote nothing", p.op, a.Name)
			}
		}
	}
}

// visible turns a read's answer into an outcome: NOT_FOUND when the caller sees none of it
// (the read policies filter rather than refuse), "ok" otherwise.
func visible(n int, err error) error {
	if err == nil && n == 0 {
		return apperr.New(apperr.NotFound, "nothing visible")
	}
	return err
}

// tryAndRollBack runs fn as ctx's viewer in a transaction opened like /graphql's, and rolls
// it back. It returns fn's outcome and, when the programme's rows differ afterwards (read
// in the same transaction), the first table that changed.
func tryAndRollBack(t *testing.T, s *testkit.Services, ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) (string, string) {
	t.Helper()
	txCtx, _, err := s.DB.Client.OpenTx(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	tx := ent.TxFromContext(txCtx)
	defer func() { _ = tx.Rollback() }()
	before := snapshot(t, s, tx.Client())
	ferr := fn(txCtx, tx.Client())
	if testkit.Outcome(ferr) == "INTERNAL" {
		return fmt.Sprintf("INTERNAL (%v)", ferr), ""
	}
	after := snapshot(t, s, tx.Client())
	for i := range before {
		if !bytes.Equal(before[i], after[i]) {
			return testkit.Outcome(ferr), tables[i]
		}
	}
	return testkit.Outcome(ferr), ""
}

// tables are what snapshot reads, in its order.
var tables = []string{"calls", "host_slots", "applications", "application_choices", "documents", "referee_requests",
	"host_rankings", "reviews", "placements", "outbox_messages"}

// snapshot reads every row of the programme's tables (and the outbox) as the system
// through client, as JSON.
func snapshot(t *testing.T, s *testkit.Services, client *ent.Client) [][]byte {
	t.Helper()
	ctx := s.System()
	var out [][]byte
	add := func(v any, err error) {
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		out = append(out, b)
	}
	add(client.Call.Query().Order(call.ByID()).All(ctx))
	add(client.HostSlot.Query().Order(hostslot.ByID()).All(ctx))
	add(client.Application.Query().Order(application.ByID()).All(ctx))
	add(client.ApplicationChoice.Query().Order(applicationchoice.ByID()).All(ctx))
	add(client.Document.Query().Order(document.ByID()).All(ctx))
	add(client.RefereeRequest.Query().Order(refereerequest.ByID()).All(ctx))
	add(client.HostRanking.Query().Order(hostranking.ByID()).All(ctx))
	add(client.Review.Query().Order(review.ByID()).All(ctx))
	add(client.Placement.Query().Order(placement.ByID()).All(ctx))
	add(client.OutboxMessage.Query().Order(outboxmessage.ByID()).All(ctx))
	return out
}

// TestProgrammePermissionTable is the programme's permission table: every operation on
// calls, slots, applications, documents, referee requests, host rankings and the export
// (and the reads the services answer themselves: a document's file, a draft's choices, a
// centre's ranking; "(read)", NOT_FOUND where the caller sees none) ×
// every kind of caller (anonymous, the trainee, another trainee, the coordinator of centre
// A, the coordinator of centre B, a former coordinator of A whose role was revoked, staff)
// → the answer, and nothing written on a refusal. Reviews have their own table.
//
// While the pilot call is open (12 January 2027): a draft call with a slot proposed by A
// and one approved at B; the open pilot call with a slot at A and at B; Marek's
// (the trainee's) draft to it with a CV.
func TestProgrammePermissionTable(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		draft := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		proposed := testkit.MustSlot(t, s, w, w.Host, draft, w.CentreA, "2027-05-03", 1, 1, false)
		testkit.MustSlot(t, s, w, w.Staff, draft, w.CentreB, "2027-04-05", 1, 1, true)
		o := testkit.MustOpenCall(t, s, w)
		marek := testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA), false)
		var cv *ent.Document
		testkit.MustDo(t, s, s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) (err error) {
			cv, err = s.Programme.UploadDocument(ctx, tx, marek.ID, vocab.DocumentCV, "cv.pdf", bytes.NewReader(testkit.PDF("CV")))
			return err
		})

		staffOnly := refused(map[string]string{"staff": "ok"})
		staffNotNow := refused(map[string]string{"staff": "INVALID_STATE"})
		centreA := refused(map[string]string{"host": "ok", "staff": "ok"})
		marekOnly := refused(map[string]string{"trainee": "ok", "other trainee": "NOT_FOUND"})
		marekAndStaffSee := map[string]string{"anonymous": "NOT_FOUND", "trainee": "ok", "other trainee": "NOT_FOUND",
			"host": "NOT_FOUND", "other host": "NOT_FOUND", "former host": "NOT_FOUND", "staff": "ok"}
		checkTable(t, s, w, []permission{
			{"createCall", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CreateCall(ctx, tx, testkit.PilotCall())
				return err
			}, staffOnly},
			{"updateCall (the draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.UpdateCall(ctx, tx, draft.ID, programme.CallInput{Title: ptr("Taken over")})
				return err
			}, staffOnly},
			{"openCall (the draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.OpenCall(ctx, tx, draft.ID)
				return err
			}, staffOnly},
			{"cancelCall (the draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CancelCall(ctx, tx, draft.ID, "Merged into the pilot.")
				return err
			}, staffOnly},
			{"closeCall (the open call, early)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CloseCall(ctx, tx, o.Call.ID, true, "Funding ends.")
				return err
			}, staffOnly},
			{"startReview (the open call)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.StartReview(ctx, tx, o.Call.ID)
				return err
			}, staffNotNow},
			{"startRanking (the open call)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.StartRanking(ctx, tx, o.Call.ID)
				return err
			}, staffNotNow},
			{"completeCall (the open call)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CompleteCall(ctx, tx, o.Call.ID)
				return err
			}, staffNotNow},
			{"proposeSlot (centre A, the draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.ProposeSlot(ctx, tx, programme.ProposeSlotInput{
					CallID: draft.ID, HostCentreID: w.CentreA.ID, StartDate: "2027-03-01", Weeks: 2, Capacity: 1,
				})
				return err
			}, centreA},
			{"approveSlot (A's proposal)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.ApproveSlot(ctx, tx, proposed.ID)
				return err
			}, staffOnly},
			{"rejectSlot (A's proposal)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.RejectSlot(ctx, tx, proposed.ID, "Too late in the window.")
				return err
			}, staffOnly},
			{"withdrawSlot (A's approved slot in the open call)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.WithdrawSlot(ctx, tx, o.SlotA.ID, "The unit moves.")
				return err
			}, centreA},
			{"withdrawSlot (A's proposal in the draft: seen only by A's coordinators and staff)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.WithdrawSlot(ctx, tx, proposed.ID, "The unit moves.")
				return err
			}, refused(map[string]string{"trainee": "NOT_FOUND", "other trainee": "NOT_FOUND", "host": "ok",
				"other host": "NOT_FOUND", "former host": "NOT_FOUND", "staff": "ok"})},
			{"saveApplication (one's own draft to the open call)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.SaveApplication(ctx, tx, programme.SaveApplicationInput{CallID: o.Call.ID, Role: ptr("Fellow")})
				return err
			}, refused(map[string]string{"trainee": "ok", "other trainee": "ok"})},
			{"submit (Marek's draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Submit(ctx, tx, marek.ID)
				return err
			}, marekOnly},
			{"withdraw (Marek's draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Withdraw(ctx, tx, marek.ID, "")
				return err
			}, marekOnly},
			{"uploadDocument (to Marek's draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.UploadDocument(ctx, tx, marek.ID, vocab.DocumentMotivationLetter, "letter.pdf", bytes.NewReader(testkit.PDF("letter")))
				return err
			}, marekOnly},
			{"removeDocument (Marek's CV)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.RemoveDocument(ctx, tx, cv.ID)
				return err
			}, marekOnly},
			{"requestRefereeLetter (for Marek's draft)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.RequestRefereeLetter(ctx, tx, marek.ID, "Dr Jana Dvořáková", "jana.dvorakova@fnbrno.example.cz", false)
				return err
			}, marekOnly},
			{"decideEligibility (Marek's draft, the call open)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.DecideEligibility(ctx, tx, marek.ID, true, "")
				return err
			}, staffNotNow},
			{readOnly + "openDocument (Marek's CV)", func(ctx context.Context, _ *ent.Client) error {
				_, f, err := s.Programme.OpenDocument(ctx, cv.ID)
				if f != nil {
					_ = f.Close()
				}
				return err
			}, marekAndStaffSee},
			{readOnly + "hostChoices (Marek's draft)", func(ctx context.Context, tx *ent.Client) error {
				hs, err := s.Programme.HostChoices(ctx, tx, marek.ID)
				return visible(len(hs), err)
			}, marekAndStaffSee},
			{readOnly + "applicationsCSV (the open call)", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.Programme.ApplicationsCSV(ctx, o.Call)
				return err
			}, staffOnly},
		})
	})
}

// TestProgrammePermissionTableAfterTheDeadline is the same table for what happens after
// applications close: deciding eligibility while the call is CLOSED, host rankings and
// withdrawal while it is in RANKING (testkit.MustRankedCall, 16 February 2027).
func TestProgrammePermissionTableAfterTheDeadline(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		// A second call, closed with a submitted application, for the eligibility decision.
		in := testkit.PilotCall()
		in.Title = ptr("Autumn call")
		in.Opens, in.Closes = ptr("2027-02-16T12:00"), ptr("2027-02-20T17:00")
		in.RankingDeadline = ptr("2027-02-25T17:00")
		autumn := testkit.MustCreateCall(t, s, w, in)
		testkit.MustSlot(t, s, w, w.Host, autumn, w.CentreA, "2027-05-03", 1, 1, true)
		autumn = testkit.MustStep(t, s, w, autumn, s.Programme.OpenCall)
		s.Clock.Advance(4 * time.Hour) // 13:00: open
		submitted := testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(autumn, w.Brno, w.CentreA), true)
		s.Clock.Advance(5 * 24 * time.Hour) // 21 February: closed
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.CloseCall(ctx, tx, autumn.ID, false, "")
			return err
		})

		rank := func(apps ...*ent.Application) func(ctx context.Context, tx *ent.Client) error {
			return func(ctx context.Context, tx *ent.Client) error {
				ids := make([]pulid.ID, len(apps))
				for i, a := range apps {
					ids[i] = a.ID
				}
				_, err := s.Programme.SubmitHostRanking(ctx, tx, r.Call.ID, w.CentreA.ID, ids)
				return err
			}
		}
		checkTable(t, s, w, []permission{
			{"decideEligibility (eligible; the autumn call closed)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.DecideEligibility(ctx, tx, submitted.ID, true, "")
				return err
			}, refused(map[string]string{"staff": "ok"})},
			{"decideEligibility (ineligible; the pilot call in RANKING)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.DecideEligibility(ctx, tx, r.Marek.ID, false, "Not a haematologist.")
				return err
			}, refused(map[string]string{"staff": "INVALID_STATE"})},
			{"submitHostRanking (centre A ranks Marek first)", rank(r.Marek, r.Ioana),
				refused(map[string]string{"host": "ok", "staff": "ok"})},
			{readOnly + "hostRankingOf (centre A's)", func(ctx context.Context, tx *ent.Client) error {
				apps, err := s.Programme.HostRankingOf(ctx, tx, r.Call.ID, w.CentreA.ID)
				return visible(len(apps), err)
			}, map[string]string{"anonymous": "NOT_FOUND", "trainee": "NOT_FOUND", "other trainee": "NOT_FOUND",
				"host": "ok", "other host": "NOT_FOUND", "former host": "NOT_FOUND", "staff": "ok"}},
			{"withdraw (Marek's eligible application)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Withdraw(ctx, tx, r.Marek.ID, "I have a place elsewhere.")
				return err
			}, refused(map[string]string{"trainee": "ok", "other trainee": "NOT_FOUND",
				// The coordinators of the centres Marek chose see his application, and still may not withdraw it.
				"host": "FORBIDDEN", "other host": "FORBIDDEN"})},
			{"saveApplication (the pilot call, past its deadline)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.SaveApplication(ctx, tx, programme.SaveApplicationInput{CallID: r.Call.ID, Role: ptr("Fellow")})
				return err
			}, refused(map[string]string{"trainee": "INVALID_STATE", "other trainee": "INVALID_STATE"})},
			{"startRanking (the pilot call, in RANKING)", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.StartRanking(ctx, tx, r.Call.ID)
				return err
			}, refused(map[string]string{"staff": "INVALID_STATE"})},
		})
	})
}

var refereeLink = regexp.MustCompile(`/referee\?token=(rl_[A-Za-z0-9_-]+)`)

// TestRefereeLinkIsTheOnlyCredential: a referee letter is uploaded by whoever holds the
// link, signed in or not, as any role; without the link nobody uploads one (the trainee
// included: they upload their own documents, never a letter).
func TestRefereeLinkIsTheOnlyCredential(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		o := testkit.MustOpenCall(t, s, w)
		marek := testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA), false)
		testkit.MustDo(t, s, s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.RequestRefereeLetter(ctx, tx, marek.ID, "Dr Jana Dvořáková", "jana.dvorakova@fnbrno.example.cz", true)
			return err
		})
		mail, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ("referee_request")).Only(s.System())
		if err != nil {
			t.Fatal(err)
		}
		m := refereeLink.FindStringSubmatch(mail.TextBody)
		if m == nil {
			t.Fatalf("no link in the referee's email:\n%s", mail.TextBody)
		}
		upload := func(secret string) func(ctx context.Context, tx *ent.Client) error {
			return func(ctx context.Context, tx *ent.Client) error {
				return s.Programme.ReceiveRefereeLetter(ctx, tx, secret, "letter.pdf", bytes.NewReader(testkit.PDF("letter")))
			}
		}
		all := func(answer string) map[string]string {
			m := map[string]string{}
			for _, a := range w.Actors(s) {
				m[a.Name] = answer
			}
			return m
		}
		checkTable(t, s, w, []permission{
			{"receiveRefereeLetter (with the link)", upload(m[1]), all("ok")},
			{"receiveRefereeLetter (a made-up link)", upload("rl_" + m[1][len(m[1])-20:]), all("INVALID")},
		})

		// The link's holder writes as themself: the letter and the receipt, recorded in the
		// audit trail with the referee's address; a second upload finds the link used.
		testkit.MustDo(t, s, s.Anonymous(), upload(m[1]))
		if got := testkit.Outcome(s.Do(s.Anonymous(), upload(m[1]))); got != "ALREADY_USED" {
			t.Errorf("a second upload: %s, want ALREADY_USED", got)
		}
		ev, err := s.DB.Client.AuditEvent.Query().Where(auditevent.Action("referee_request.letter_received")).Only(s.System())
		if err != nil {
			t.Fatalf("the letter's arrival in the audit trail: %v", err)
		}
		if ev.Details["referee_email"] != "jana.dvorakova@fnbrno.example.cz" {
			t.Errorf("audit details %v, want the referee's address", ev.Details)
		}
		// The link grants that letter only: nothing else of the request, no other document.
		req, err := s.DB.Client.RefereeRequest.Query().Only(s.System())
		if err != nil {
			t.Fatal(err)
		}
		holder := access.WithRefereeLink(s.Anonymous(), string(req.ID))
		err = s.Do(holder, func(ctx context.Context, tx *ent.Client) error {
			return tx.RefereeRequest.UpdateOneID(req.ID).SetExpiresAt(req.ExpiresAt.AddDate(1, 0, 0)).Exec(ctx)
		})
		if got := testkit.Outcome(err); got != "INTERNAL" || !strings.Contains(err.Error(), "referee link") {
			t.Errorf("extend the link with the link: %v, want a privacy denial", err)
		}
		err = s.Do(holder, func(ctx context.Context, tx *ent.Client) error {
			return tx.Document.Create().SetApplicationID(marek.ID).SetKind(vocab.DocumentCV).SetFilename("cv.pdf").
				SetSha256(strings.Repeat("0", 64)).SetSize(1).Exec(ctx)
		})
		if err == nil || !strings.Contains(err.Error(), "referee link") {
			t.Errorf("upload a CV with the link: %v, want a privacy denial", err)
		}
	})
}
