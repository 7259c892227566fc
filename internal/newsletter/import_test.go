package newsletter_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// importCSV is a CSV of n people, reader<from>…reader<from+n-1>@example.org.
func importCSV(from, n int) string {
	var b strings.Builder
	b.WriteString("email,name\r\n")
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "reader%05d@example.org,Reader %d\r\n", i, i)
	}
	return b.String()
}

// TestImportInBatches: an import larger than one batch writes every row once, with the
// same result as one by one: new people UNCONFIRMED with a SIGNUP record and one opt-in
// email each (whose link confirms), a person already waiting on another list gets the new
// list without a second email within the hour, a confirmed one and a suppressed one are
// skipped; a refused file of the same size writes nothing.
func TestImportInBatches(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		q := mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		mustList(t, s, w, "Policy statements", "policy", mailinglist.VisibilityPUBLIC)
		if err := subscribe(s, "waiting@example.org", "", "policy"); err != nil {
			t.Fatal(err)
		}
		if err := subscribe(s, "member@example.org", "", "quarterly"); err != nil {
			t.Fatal(err)
		}
		if _, err := confirm(s, confirmTokens(t, s, "member@example.org")[0]); err != nil {
			t.Fatal(err)
		}
		testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
			_, err := newsletter.Suppress(ctx, tx, "bounced@example.org", newsletter.ReasonHardBounce, "550")
			return err
		})
		imp := func(csv string) (newsletter.ImportResult, error) {
			var res newsletter.ImportResult
			err := s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				var err error
				res, err = s.Newsletter.Import(ctx, tx, newsletter.ImportInput{ListID: q.ID, CSV: csv})
				return err
			})
			return res, err
		}
		const n = 1201 // three batches
		subsBefore := testkit.Count(s, s.DB.Client.Subscriber.Query())
		bad := importCSV(0, n) + "=cmd|' /C calc'!A0,X\r\n"
		if _, err := imp(bad); testkit.Outcome(err) != "INVALID" {
			t.Fatalf("refused file: %v", err)
		}
		if got := testkit.Count(s, s.DB.Client.Subscriber.Query()); got != subsBefore {
			t.Fatalf("a refused file wrote %d subscribers", got-subsBefore)
		}
		csv := importCSV(0, n) + "waiting@example.org,Wanda\r\nmember@example.org,\r\nbounced@example.org,\r\n"
		res, err := imp(csv)
		if err != nil || res.Imported != n+1 || res.Skipped != 2 {
			t.Fatalf("import: %+v %v, want %d imported and 2 skipped", res, err, n+1)
		}
		if got := testkit.Count(s, s.DB.Client.Subscriber.Query()); got != subsBefore+n {
			t.Errorf("subscribers: %d new, want %d", got-subsBefore, n)
		}
		if got := status(t, s, "waiting@example.org", q); got != "UNCONFIRMED" {
			t.Errorf("the waiting address: %s", got)
		}
		if got := len(confirmTokens(t, s, "waiting@example.org")); got != 1 {
			t.Errorf("the waiting address got %d confirmation emails, want still 1 (within the hour)", got)
		}
		emails := testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("newsletter_confirm"), outboxmessage.RecipientHasPrefix("reader")))
		signups := testkit.Count(s, s.DB.Client.ConsentEvidence.Query().Where(consentevidence.EventEQ(consentevidence.EventSIGNUP), consentevidence.SourceEQ(consentevidence.SourceIMPORT), consentevidence.ActorID(string(w.Staff.ID))))
		if emails != n || signups != n+1 {
			t.Errorf("confirmation emails %d (want %d), import SIGNUP records %d (want %d)", emails, n, signups, n+1)
		}
		last := fmt.Sprintf("reader%05d@example.org", n-1)
		tok := confirmTokens(t, s, last)
		if len(tok) != 1 {
			t.Fatalf("%s: %d confirmation emails", last, len(tok))
		}
		if lists, err := confirm(s, tok[0]); err != nil || len(lists) != 1 || lists[0] != "Quarterly newsletter" {
			t.Fatalf("confirm an imported address: %v %v", lists, err)
		}
		if got := status(t, s, last, q); got != "CONFIRMED" {
			t.Errorf("after confirming: %s", got)
		}
	})
}

// BenchmarkImport10000 measures a staff import of 10,000 new people (the largest file
// allowed) into a list on SQLite, opt-in emails included, in one transaction, and the SQL
// statements it takes (the time depends on the machine's load; the statements do not).
func BenchmarkImport10000(b *testing.B) {
	q := &testkit.QueryCounter{}
	s := testkit.NewServices(b, testkit.NewDB(b, dialect.SQLite, testkit.WithQueryCounter(q)))
	var statements int64
	staff := testkit.MustUser(b, s, "office@coalition.test", "Office", viewer.RoleStaff)
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		var l *ent.MailingList
		testkit.MustDo(b, s, s.As(staff), func(ctx context.Context, tx *ent.Client) error {
			name, slug := fmt.Sprintf("List %d", round), fmt.Sprintf("list-%d", round)
			var err error
			l, err = s.Newsletter.CreateList(ctx, tx, newsletter.ListInput{Name: &name, Slug: &slug})
			return err
		})
		csv := importCSV(round*10_000, 10_000)
		q.Reset()
		b.StartTimer()
		var res newsletter.ImportResult
		testkit.MustDo(b, s, s.As(staff), func(ctx context.Context, tx *ent.Client) error {
			var err error
			res, err = s.Newsletter.Import(ctx, tx, newsletter.ImportInput{ListID: l.ID, CSV: csv})
			return err
		})
		statements += q.Count()
		if res.Imported != 10_000 {
			b.Fatalf("imported %d", res.Imported)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/import")
	b.ReportMetric(float64(statements)/float64(b.N), "statements/import")
}
