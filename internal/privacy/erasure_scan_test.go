package privacy_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/erasurerequest"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// column is one column of one table of the database.
type column struct{ table, name string }

// allColumns lists every column of every table, from the schema catalogue.
func allColumns(t *testing.T, d *db.DB) []column {
	t.Helper()
	ctx := context.Background()
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2`
	if d.Dialect == dialect.Postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY 1, 2`
	}
	rows, err := d.SQL().QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("schema catalogue: %v", err)
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("only %d columns in the catalogue", len(out))
	}
	return out
}

// cells is the text of every column of every table (each cell cast to text, NULLs left
// out), read once so that the search decides in Go: SQL's LOWER and LIKE fold ASCII
// letters only on SQLite (and by the locale on PostgreSQL), so "MAREK NOVÁK" would not
// be found by a search for "marek novák".
type cells map[column][]string

// readCells reads every cell of cols.
func readCells(t *testing.T, d *db.DB, cols []column) cells {
	t.Helper()
	out := cells{}
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q WHERE %q IS NOT NULL`, c.name, c.table, c.name)
		rows, err := d.SQL().QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			out[c] = append(out[c], fold(v))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows.Close()
	}
	return out
}

// fold maps every character of s to the smallest of its Unicode simple case folding
// orbit ("Á", "á" → "Á"; "K", "k", "\u212a" (Kelvin) → "K"), so that two strings are
// equal under strings.EqualFold exactly when their folds are equal, and a value occurs in
// a text in some case exactly when its fold is a substring of the text's.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// scan returns "table.column (n rows)" for every column of cols holding value (its text,
// in any case) in all.
func scan(all cells, cols []column, value string) []string {
	v := fold(value)
	var found []string
	for _, c := range cols {
		n := 0
		for _, cell := range all[c] {
			if strings.Contains(cell, v) {
				n++
			}
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%s.%s (%d rows)", c.table, c.name, n))
		}
	}
	return found
}

// TestErasureLeavesNoTrace is the erasure's proof: two similar people (Marek Novák and
// Marek Novak, addresses a letter apart) with data in every domain, all of it written
// through the services as people write it (newTwins and moreOfRealUse: the emails, audit
// events and consent records those steps leave are in the database too); Marek is erased
// through the app's own registry and job; then every column of every table (from the
// schema catalogue, on both dialects) is searched, in Go and in any case (readCells,
// fold), for his name, address, the hashes and names of his files (his CV, the letter he
// wrote) and what only he wrote (his position, his declared interest): none is found, while the other Marek's are all still there, the
// files are gone from the store, and the audit chain verifies. The schema has no phone
// column; so there is no phone number to search for.
func TestErasureLeavesNoTrace(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		s := erasureServices(t, d)
		x := newTwins(t, s)
		w := x.w
		c := s.DB.Client
		sys := s.System()
		marek, twin := w.Trainee, x.twin
		// The platform's domains too: sessions, sign-in links, mail.
		signInAs(t, s, marek.Email)
		signInAs(t, s, twin.Email)
		letter := moreOfRealUse(t, s, x)
		docs, err := c.Document.Query().Where(document.HasApplicationWith(application.TraineeID(marek.ID))).All(sys)
		if err != nil || len(docs) == 0 {
			t.Fatalf("Marek's documents: %d %v", len(docs), err)
		}
		// Besides his name, address and files: what only he wrote (his position, his
		// declared interest, his file's name); the twin wrote his own.
		erased := []string{marek.Name, marek.Email, "Consultant haematologist", "Kite Alpha", "marek-cv.pdf", letter.Sha256, "letter-by-marek.pdf"}
		for _, doc := range docs {
			erased = append(erased, doc.Sha256)
		}
		kept := []string{twin.Name, twin.Email, "Registrar in cell therapy", "Novartis Beta"}
		cols := allColumns(t, d)
		before := readCells(t, d, cols)
		for _, v := range append(append([]string{}, erased...), kept...) {
			found := scan(before, cols, v)
			if len(found) == 0 {
				t.Fatalf("the fixture holds no %q: the scan would prove nothing", v)
			}
			t.Logf("before erasure %q is in %s", v, strings.Join(found, ", "))
		}
		// The scan finds his name written in capitals: only the centre's profile has it
		// there.
		if upperName == marek.Name || !slices.ContainsFunc(scan(before, cols, marek.Name), func(f string) bool {
			return strings.HasPrefix(f, "host_centres.description ")
		}) {
			t.Fatalf("the scan for %q does not find %q in the centre's profile", marek.Name, upperName)
		}

		var req *ent.ErasureRequest
		testkit.MustDo(t, s, s.As(marek), func(ctx context.Context, tx *ent.Client) (err error) {
			req, err = s.Privacy.RequestErasure(ctx, tx, "")
			return err
		})
		if req.Status == erasurerequest.StatusPENDING {
			testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
				_, err = s.Privacy.ApproveErasure(ctx, tx, req.ID, "placement withdrawn by phone")
				return err
			})
		}
		if n, err := s.Privacy.RunErasures(sys); err != nil || n != 1 {
			t.Fatalf("erasure: %d erased, %v", n, err)
		}
		after := readCells(t, d, cols)
		for _, v := range erased {
			if found := scan(after, cols, v); len(found) > 0 {
				t.Errorf("%q is still in %s", v, strings.Join(found, ", "))
			}
		}
		for _, v := range kept {
			if len(scan(after, cols, v)) == 0 {
				t.Errorf("the other person's %q is gone", v)
			}
		}
		store := testkitStore(t, s)
		for _, doc := range append(docs, letter) {
			if store.Exists(doc.Sha256) {
				t.Errorf("document %s still in the store", doc.Sha256)
			}
		}
		if rep, err := audit.Verify(context.Background(), c, nil); err != nil || rep.Broken != nil {
			t.Fatalf("audit verify: %v %+v", err, rep.Broken)
		}
	})
}

// moreOfRealUse adds, through the services, what the export test's fixture leaves out
// because it would put the twin's name into Marek's export: a meeting of their group
// (invitations to both, minutes naming both, both attending), a statement in review that
// both co-author, for which both are Brno's signatories and Marek signs off with a
// comment, a centre's profile in which its coordinator names Marek in capitals
// ("MAREK NOVÁK", which SQLite's LOWER would not fold), and a second call in which the twin asks Marek for a referee letter, which
// Marek uploads through the emailed link. It returns that letter.
func moreOfRealUse(t *testing.T, s *testkit.Services, x *twins) *ent.Document {
	t.Helper()
	w, twin, marek := x.w, x.twin, x.w.Trainee

	// The meeting, this afternoon in Paris; the minutes once it has started.
	var mt *ent.Meeting
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		where, agenda := "Room 2, Brussels", "1. The pharmacy survey"
		mt, err = s.WorkingGroups.ScheduleMeeting(ctx, tx, groups.ScheduleMeetingInput{GroupID: x.group.ID, Title: "Quarterly meeting",
			Start: "2027-02-16T14:00", End: "2027-02-16T15:00", TimeZone: "Europe/Paris", Location: &where, Agenda: &agenda})
		return err
	})
	s.Clock.Set(time.Date(2027, 2, 16, 15, 0, 0, 0, time.UTC))
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.WorkingGroups.RecordMinutes(ctx, tx, groups.MinutesInput{ID: mt.ID, AttendeeIDs: []pulid.ID{marek.ID, twin.ID},
			Minutes: "Marek Novák presented the survey; Marek Novak (marek.novak@fnbrno.example.com) seconded."})
		return err
	})

	// The statement: both author it for Brno and are its signatories; Marek approves.
	var st *ent.PolicyStatement
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		if st, err = s.Statements.Open(ctx, tx, statements.OpenInput{Slug: "car-t-access", Topics: []string{"access"},
			Text:      statements.Text{Title: "Access to CAR-T", Summary: "Every eligible patient.", Body: "Every eligible patient should be treated."},
			AuthorIDs: []pulid.ID{marek.ID, twin.ID}, CoAuthorIDs: []pulid.ID{w.Brno.ID}}); err != nil {
			return err
		}
		for _, u := range []*ent.User{marek, twin} {
			if _, err = s.Statements.DesignateSignatory(ctx, tx, st.ID, w.Brno.ID, u.ID); err != nil {
				return err
			}
		}
		st, err = s.Statements.Submit(ctx, tx, st.ID)
		return err
	})
	testkit.MustDo(t, s, s.As(marek), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Statements.Sign(ctx, tx, statements.SignInput{StatementID: st.ID, OrganisationID: w.Brno.ID, RevisionID: *st.CurrentRevisionID,
			Decision: statements.Approve, Comment: "Approved by Marek Novák"})
		return err
	})

	// Lyon's coordinator names Marek in the centre's profile, in capitals: kept text
	// written by someone else, which the erasure redacts in any case.
	testkit.MustDo(t, s, s.As(w.Host), func(ctx context.Context, tx *ent.Client) error {
		desc := upperName + " arranges our visits from Brno."
		_, err := s.Directory.UpdateHostCentre(ctx, tx, directory.UpdateHostCentreInput{ID: w.CentreA.ID,
			HostCentreProfile: directory.HostCentreProfile{Description: &desc}})
		return err
	})

	// The second call, open now: the twin's draft, and Marek's letter for it.
	in := testkit.PilotCall()
	in.Title, in.Opens, in.Closes = ptr("Observership, Q2 2027"), ptr("2027-02-16T00:00"), ptr("2027-03-31T17:00")
	in.PlacementStart, in.PlacementEnd, in.RankingDeadline = ptr(vocab.Date("2027-05-01")), ptr(vocab.Date("2027-08-31")), ptr("2027-04-15T17:00")
	c := testkit.MustCreateCall(t, s, w, in)
	testkit.MustSlot(t, s, w, w.Host, c, w.CentreA, "2027-05-10", 1, 1, true)
	c = testkit.MustStep(t, s, w, c, s.Programme.OpenCall)
	app := testkit.CompleteDraft(c, w.Brno, w.CentreA)
	app.Availability = []vocab.DateRange{{From: "2027-05-01", To: "2027-08-31"}}
	draft := testkit.MustApply(t, s, twin, app, false)
	testkit.MustDo(t, s, s.As(twin), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Programme.RequestRefereeLetter(ctx, tx, draft.ID, marek.Name, marek.Email, true)
		return err
	})
	token := testkit.MailedToken(t, s, marek.Email, "referee_request")
	testkit.MustDo(t, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
		return s.Programme.ReceiveRefereeLetter(ctx, tx, token, "letter-by-marek.pdf", bytes.NewReader(testkit.PDF("Letter for Marek Novak")))
	})
	letter, err := s.DB.Client.Document.Query().Where(document.ApplicationID(draft.ID), document.KindEQ(vocab.DocumentRefereeLetter)).Only(s.System())
	if err != nil {
		t.Fatalf("Marek's letter: %v", err)
	}
	return letter
}

// upperName is Marek's name as the centre's profile writes it: in capitals, with the
// diacritic, which SQL's LOWER leaves as it is on SQLite.
const upperName = "MAREK NOVÁK"

func ptr[T any](v T) *T { return &v }

// testkitStore opens the app's document store.
func testkitStore(t *testing.T, s *testkit.Services) *docstore.Store {
	t.Helper()
	store, err := docstore.New(s.Config.DocumentsDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return store
}
