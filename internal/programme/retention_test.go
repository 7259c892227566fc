package programme_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/refereerequest"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/retention"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// retentionWorld is a completed call with four applications, and an open call:
//
//   - Marek (placed at B, accepted) uploaded a CV and has a referee letter: all of it stays,
//     the letter too (a placed application is kept whole);
//   - Ioana (placed at A, accepted) uploaded a CV and has no letter: nothing of hers goes;
//   - Petr (eligible, unmatched) uploaded a CV and has a referee letter: all of it goes;
//   - Zofia (a draft never submitted) uploaded the very same CV file as Ioana: her
//     application goes, the shared file stays for Ioana;
//   - Petr's draft to another call, still open: kept.
type retentionWorld struct {
	call, open                      *ent.Call
	marek, ioana, petr, zofia, more *ent.Application
	docs                            map[string]*ent.Document // by file name
	store                           *docstore.Store
	completedAt                     time.Time
}

func newRetentionWorld(t *testing.T, s *testkit.Services, w *testkit.World, documentsDir string) retentionWorld {
	t.Helper()
	rw := retentionWorld{docs: map[string]*ent.Document{}}
	store, err := docstore.New(documentsDir, programme.DefaultMaxDocumentBytes)
	if err != nil {
		t.Fatal(err)
	}
	rw.store = store
	o := testkit.MustOpenCall(t, s, w)
	rw.call = o.Call
	rw.open = testkit.MustOpenCall(t, s, w).Call
	petrUser := testkit.MustUser(t, s, "petr.svoboda@fnbrno.example.cz", "Petr Svoboda")
	zofiaUser := testkit.MustUser(t, s, "zofia.nowak@szpital.example.pl", "Zofia Nowak")

	upload := func(as *ent.User, a *ent.Application, name, content string) {
		testkit.MustDo(t, s, s.As(as), func(ctx context.Context, tx *ent.Client) error {
			d, err := s.Programme.UploadDocument(ctx, tx, a.ID, vocab.DocumentCV, name, bytes.NewReader(testkit.PDF(content)))
			rw.docs[name] = d
			return err
		})
	}
	letter := func(as *ent.User, a *ent.Application, referee, email string) {
		testkit.MustDo(t, s, s.As(as), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.RequestRefereeLetter(ctx, tx, a.ID, referee, email, false)
			return err
		})
		mail, err := s.DB.Client.OutboxMessage.Query().
			Where(outboxmessage.TemplateEQ("referee_request"), outboxmessage.Recipient(email)).Only(s.System())
		if err != nil {
			t.Fatal(err)
		}
		m := refereeLink.FindStringSubmatch(mail.TextBody)
		if m == nil {
			t.Fatalf("no link in the referee's email:\n%s", mail.TextBody)
		}
		testkit.MustDo(t, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
			return s.Programme.ReceiveRefereeLetter(ctx, tx, m[1], "letter-"+string(as.ID)+".pdf", bytes.NewReader(testkit.PDF("letter for "+as.Name)))
		})
	}
	submit := func(as *ent.User, a *ent.Application) *ent.Application {
		testkit.MustDo(t, s, s.As(as), func(ctx context.Context, tx *ent.Client) (err error) {
			a, err = s.Programme.Submit(ctx, tx, a.ID)
			return err
		})
		return a
	}
	rw.marek = testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(rw.call, w.Brno, w.CentreA, w.CentreB), false)
	upload(w.Trainee, rw.marek, "marek-cv.pdf", "Marek's CV")
	letter(w.Trainee, rw.marek, "Dr Jana Dvořáková", "jana.dvorakova@fnbrno.example.cz")
	rw.marek = submit(w.Trainee, rw.marek)
	rw.ioana = testkit.MustApply(t, s, w.OtherTrainee, testkit.CompleteDraft(rw.call, w.Bucharest, w.CentreA), false)
	upload(w.OtherTrainee, rw.ioana, "ioana-cv.pdf", "a CV two people uploaded")
	rw.ioana = submit(w.OtherTrainee, rw.ioana)
	rw.petr = testkit.MustApply(t, s, petrUser, testkit.CompleteDraft(rw.call, w.Brno, w.CentreA), false)
	upload(petrUser, rw.petr, "petr-cv.pdf", "Petr's CV")
	letter(petrUser, rw.petr, "Dr Tomáš Marek", "tomas.marek@fnbrno.example.cz")
	rw.petr = submit(petrUser, rw.petr)
	rw.zofia = testkit.MustApply(t, s, zofiaUser, testkit.CompleteDraft(rw.call, w.Brno, w.CentreA), false)
	upload(zofiaUser, rw.zofia, "zofia-cv.pdf", "a CV two people uploaded")
	rw.more = testkit.MustApply(t, s, petrUser, testkit.CompleteDraft(rw.open, w.Brno, w.CentreA), false)

	s.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		if rw.call, err = s.Programme.CloseCall(ctx, tx, rw.call.ID, false, ""); err != nil {
			return err
		}
		for _, a := range []*ent.Application{rw.marek, rw.ioana, rw.petr} {
			if _, err = s.Programme.DecideEligibility(ctx, tx, a.ID, true, ""); err != nil {
				return err
			}
		}
		if rw.call, err = s.Programme.StartReview(ctx, tx, rw.call.ID); err != nil {
			return err
		}
		rw.call, err = s.Programme.StartRanking(ctx, tx, rw.call.ID)
		return err
	})
	testkit.MustRank(t, s, w.Host, rw.call, w.CentreA, rw.ioana, rw.marek, rw.petr)
	testkit.MustRank(t, s, w.OtherHost, rw.call, w.CentreB, rw.marek)
	placements := testkit.MustPublish(t, s, w, testkit.MustStartRun(t, s, w, rw.call, false))
	if placements[rw.marek.ID] == nil || placements[rw.ioana.ID] == nil || placements[rw.petr.ID] != nil {
		t.Fatalf("the match placed %v; want Marek and Ioana, not Petr", placements)
	}
	testkit.MustDo(t, s, s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Placement.Accept(ctx, tx, placements[rw.marek.ID].ID)
		return err
	})
	testkit.MustDo(t, s, s.As(w.OtherTrainee), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Placement.Accept(ctx, tx, placements[rw.ioana.ID].ID)
		return err
	})
	rw.completedAt = time.Date(2027, 7, 1, 10, 0, 0, 0, time.UTC)
	s.Clock.Set(rw.completedAt)
	rw.call = testkit.MustStep(t, s, w, rw.call, s.Programme.CompleteCall)
	if rw.call.EndedAt == nil || !rw.call.EndedAt.Equal(rw.completedAt) {
		t.Fatalf("ended_at %v, want %v", rw.call.EndedAt, rw.completedAt)
	}
	return rw
}

func (rw retentionWorld) exists(t *testing.T, s *testkit.Services, id pulid.ID) bool {
	t.Helper()
	ok, err := s.DB.Client.Application.Query().Where(application.ID(id)).Exist(s.System())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func warnings(t *testing.T, s *testkit.Services) []*ent.OutboxMessage {
	t.Helper()
	ms, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ("application_retention_warning")).
		Order(outboxmessage.ByRecipient()).All(s.System())
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestApplicationRetention runs the applications' retention rule (12 months, the default)
// with the clock: nothing before a month ahead; one warning per application a month before
// (a rerun sends nothing); nothing deleted the second before the day; on the day the
// unsuccessful applications go with their documents and letters, the placed ones stay whole
// (Marek's referee letter, its request and its stored file included), the open call's
// draft stays, and the call counts what went.
func TestApplicationRetention(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		var dir string
		s := testkit.NewServicesWith(t, d, func(c *config.Config) { dir = c.DocumentsDir() })
		w := testkit.NewWorld(t, s)
		rw := newRetentionWorld(t, s, w, dir)
		due := rw.completedAt.AddDate(1, 0, 0)
		ctx := s.System()
		apply := func(at time.Time) programme.Retained {
			t.Helper()
			s.Clock.Set(at)
			out, err := s.Programme.ApplyRetention(ctx)
			if err != nil {
				t.Fatalf("at %s: %v", at, err)
			}
			return out
		}
		totalApps := s.DB.Client.Application.Query().CountX(ctx)

		// A month and a second before the day: nothing.
		if out := apply(due.AddDate(0, -1, 0).Add(-time.Second)); out != (programme.Retained{}) {
			t.Fatalf("before the warning: %+v", out)
		}
		if n := len(warnings(t, s)); n != 0 {
			t.Fatalf("%d warnings before the month", n)
		}

		// A month before: Petr and Zofia are warned, once; Marek (placed) is not.
		if out := apply(due.AddDate(0, -1, 0)); out != (programme.Retained{Warned: 2}) {
			t.Fatalf("a month before: %+v, want 2 warned", out)
		}
		if out := apply(due.AddDate(0, -1, 0).Add(time.Hour)); out != (programme.Retained{}) {
			t.Fatalf("a rerun: %+v, want nothing", out)
		}
		ms := warnings(t, s)
		if len(ms) != 2 {
			t.Fatalf("%d warnings, want 2", len(ms))
		}
		byTo := map[string]*ent.OutboxMessage{}
		for _, m := range ms {
			byTo[m.Recipient] = m
			for _, want := range []string{"2028-07-01", "requestDataExport", testkit.PublicURL} {
				if !strings.Contains(m.TextBody, want) || !strings.Contains(m.HTMLBody, want) {
					t.Errorf("warning to %s lacks %q:\n%s", m.Recipient, want, m.TextBody)
				}
			}
		}
		petr := byTo["petr.svoboda@fnbrno.example.cz"]
		if petr == nil || !strings.Contains(petr.Subject, "Your application to") ||
			!strings.Contains(petr.TextBody, "CV: petr-cv.pdf") || !strings.Contains(petr.TextBody, "1 referee letter") {
			t.Errorf("Petr's warning:\n%v", petr)
		}
		if byTo[w.Trainee.Email] != nil || byTo[w.OtherTrainee.Email] != nil || byTo["zofia.nowak@szpital.example.pl"] == nil {
			t.Errorf("warned %v; Marek and Ioana (placed) have nothing to lose, Zofia does", byTo)
		}

		// The second before the day: nothing is deleted.
		if out := apply(due.Add(-time.Second)); out != (programme.Retained{}) {
			t.Fatalf("the second before: %+v", out)
		}
		if n := s.DB.Client.Application.Query().CountX(ctx); n != totalApps {
			t.Fatalf("%d applications left, want %d", n, totalApps)
		}

		// On the day.
		out := apply(due)
		if out != (programme.Retained{Applications: 2, Letters: 1, Files: 2}) {
			t.Errorf("on the day: %+v, want 2 applications, 1 letter, 2 files (Petr's CV and letter)", out)
		}
		for name, c := range map[string]struct {
			id   pulid.ID
			kept bool
		}{"Marek": {rw.marek.ID, true}, "Ioana": {rw.ioana.ID, true}, "Petr": {rw.petr.ID, false},
			"Zofia": {rw.zofia.ID, false}, "Petr's draft to the open call": {rw.more.ID, true}} {
			if got := rw.exists(t, s, c.id); got != c.kept {
				t.Errorf("%s's application exists %v, want %v", name, got, c.kept)
			}
		}
		for _, gone := range []pulid.ID{rw.petr.ID, rw.zofia.ID} {
			if n := s.DB.Client.Document.Query().Where(document.ApplicationID(gone)).CountX(ctx) +
				s.DB.Client.RefereeRequest.Query().Where(refereerequest.ApplicationID(gone)).CountX(ctx) +
				s.DB.Client.ApplicationChoice.Query().Where(applicationchoice.ApplicationID(gone)).CountX(ctx) +
				s.DB.Client.HostRanking.Query().Where(hostranking.ApplicationID(gone)).CountX(ctx); n != 0 {
				t.Errorf("%d rows of the deleted application %s left", n, gone)
			}
		}
		if n := s.DB.Client.RefereeRequest.Query().Where(refereerequest.ApplicationID(rw.marek.ID)).CountX(ctx); n != 1 {
			t.Errorf("Marek keeps %d referee requests, want his 1", n)
		}
		kinds := s.DB.Client.Document.Query().Where(document.ApplicationID(rw.marek.ID)).Order(document.ByFilename()).Select(document.FieldFilename).StringsX(ctx)
		if len(kinds) != 2 || kinds[0] != "letter-"+string(w.Trainee.ID)+".pdf" || kinds[1] != "marek-cv.pdf" {
			t.Errorf("Marek's documents %v, want his referee letter and his CV", kinds)
		}
		letter, err := s.DB.Client.Document.Query().Where(document.ApplicationID(rw.marek.ID), document.RefereeRequestIDNotNil()).Only(ctx)
		if err != nil || !rw.store.Exists(letter.Sha256) {
			t.Errorf("Marek's referee letter's stored file: %v", err)
		}
		for name, kept := range map[string]bool{"marek-cv.pdf": true, "ioana-cv.pdf": true, "zofia-cv.pdf": true, "petr-cv.pdf": false} {
			if got := rw.store.Exists(rw.docs[name].Sha256); got != kept {
				t.Errorf("stored file of %s exists %v, want %v", name, got, kept)
			}
		}
		if c := s.DB.Client.Call.GetX(ctx, rw.call.ID); c.ApplicationsDeleted != 2 {
			t.Errorf("the call counts %d deleted applications, want 2", c.ApplicationsDeleted)
		}
		if n := s.DB.Client.Application.Query().Where(application.CallID(rw.call.ID)).CountX(ctx) +
			s.DB.Client.Call.GetX(ctx, rw.call.ID).ApplicationsDeleted; n != 4 {
			t.Errorf("the call's total is %d, want the 4 applications it had", n)
		}
		evs := s.DB.Client.AuditEvent.Query().Where(auditevent.ActionHasPrefix("retention.")).CountX(ctx)
		if evs != 2 {
			t.Errorf("%d retention audit events, want 2", evs)
		}

		// A later run finds nothing more.
		if out := apply(due.AddDate(0, 0, 1)); out != (programme.Retained{}) {
			t.Errorf("the day after: %+v", out)
		}
	})
}

// TestRetentionWaitsAMonthAfterALateWarning: when the warning goes out late (the job did
// not run, or the period was shortened), the deletion waits a month after it.
func TestRetentionWaitsAMonthAfterALateWarning(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		var dir string
		s := testkit.NewServicesWith(t, d, func(c *config.Config) { dir = c.DocumentsDir() })
		w := testkit.NewWorld(t, s)
		rw := newRetentionWorld(t, s, w, dir)
		late := rw.completedAt.AddDate(1, 0, 3) // 3 days after the due day, never warned
		s.Clock.Set(late)
		out, err := s.Programme.ApplyRetention(s.System())
		if err != nil || out != (programme.Retained{Warned: 2}) {
			t.Fatalf("late: %+v %v, want 2 warned and nothing deleted", out, err)
		}
		if m := warnings(t, s)[0]; !strings.Contains(m.TextBody, "2028-08-04") {
			t.Errorf("the warning names the wrong day:\n%s", m.TextBody)
		}
		s.Clock.Set(late.AddDate(0, 1, 0).Add(-time.Second))
		if out, err := s.Programme.ApplyRetention(s.System()); err != nil || out != (programme.Retained{}) {
			t.Fatalf("a second before a month after the warning: %+v %v", out, err)
		}
		s.Clock.Set(late.AddDate(0, 1, 0))
		if out, err := s.Programme.ApplyRetention(s.System()); err != nil || out.Applications != 2 {
			t.Fatalf("a month after the warning: %+v %v, want 2 applications deleted", out, err)
		}
	})
}

// TestTwoProcessesWarnAndDeleteOnce: two services on one database (two `serve` processes)
// run their due jobs at the same moment, a month before the day and on the day: the
// retention.applications job runs once each time, each trainee gets one warning, and the
// call counts each deleted application once.
func TestTwoProcessesWarnAndDeleteOnce(t *testing.T) {
	for _, name := range testkit.Dialects() {
		t.Run(name, func(t *testing.T) {
			url := testkit.MigratedURL(t, name)
			shared := t.TempDir()
			var procs [2]*testkit.Services
			for i := range procs {
				d, err := db.Open(context.Background(), url, db.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				procs[i] = testkit.NewServicesWith(t, d, func(c *config.Config) { c.DataDir = shared })
			}
			s := procs[0]
			w := testkit.NewWorld(t, s)
			rw := newRetentionWorld(t, s, w, filepath.Join(shared, "documents"))
			due := rw.completedAt.AddDate(1, 0, 0)
			runBoth := func(at time.Time) {
				t.Helper()
				var wg sync.WaitGroup
				errs := make([]error, len(procs))
				for i, p := range procs {
					p.Clock.Set(at)
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[i] = p.Jobs.RunDue(p.System())
					}()
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("process %d: %v", i, err)
					}
				}
			}
			runs := func() int64 {
				list, err := s.Jobs.List(s.System())
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range list {
					if st.Name == retention.JobApplications {
						return st.Runs
					}
				}
				return 0
			}
			runBoth(due.AddDate(0, -1, 0))
			if n := len(warnings(t, s)); n != 2 || runs() != 1 {
				t.Fatalf("a month before: %d warnings, %d runs; want 2 and 1", n, runs())
			}
			runBoth(due)
			if runs() != 2 {
				t.Fatalf("on the day: %d runs in all, want 2", runs())
			}
			if rw.exists(t, s, rw.petr.ID) || rw.exists(t, s, rw.zofia.ID) || !rw.exists(t, s, rw.marek.ID) {
				t.Fatal("on the day: want Petr's and Zofia's applications gone, Marek's kept")
			}
			if c := s.DB.Client.Call.GetX(s.System(), rw.call.ID); c.ApplicationsDeleted != 2 {
				t.Errorf("the call counts %d deleted, want 2", c.ApplicationsDeleted)
			}
			if n := len(warnings(t, s)); n != 2 {
				t.Errorf("%d warnings in all, want 2", n)
			}
		})
	}
}
