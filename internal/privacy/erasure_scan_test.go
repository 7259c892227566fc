package privacy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/erasurerequest"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/docstore"
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

// scan returns "table.column" for every column of every table holding value (its text,
// case-insensitive).
func scan(t *testing.T, d *db.DB, cols []column, value string) []string {
	t.Helper()
	var found []string
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE LOWER(CAST(%q AS TEXT)) LIKE $1`, c.table, c.name)
		var n int
		if err := d.SQL().QueryRowContext(context.Background(), q, "%"+strings.ToLower(value)+"%").Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%s.%s (%d rows)", c.table, c.name, n))
		}
	}
	return found
}

// TestErasureLeavesNoTrace is the erasure's proof: two similar people (Marek Novák and
// Marek Novak, addresses a letter apart) with data in every domain, all of it written
// through the services as people write it (newTwins: the emails, audit events and consent
// records those steps leave are in the database too); Marek is erased through the app's
// own registry and job; then every column of every table (from the schema catalogue, on
// both dialects) is searched for his name, address, the hashes and name of his document
// and what only he wrote (his position, his declared interest): none is found, while the
// other Marek's are all still there, and the audit chain verifies. The schema has no phone
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
		docs, err := c.Document.Query().Where(document.HasApplicationWith(application.TraineeID(marek.ID))).All(sys)
		if err != nil || len(docs) == 0 {
			t.Fatalf("Marek's documents: %d %v", len(docs), err)
		}
		// Besides his name, address and files: what only he wrote (his position, his
		// declared interest, his file's name); the twin wrote his own.
		erased := []string{marek.Name, marek.Email, "Consultant haematologist", "Kite Alpha", "marek-cv.pdf"}
		for _, doc := range docs {
			erased = append(erased, doc.Sha256)
		}
		kept := []string{twin.Name, twin.Email, "Registrar in cell therapy", "Novartis Beta"}
		cols := allColumns(t, d)
		for _, v := range append(append([]string{}, erased...), kept...) {
			found := scan(t, d, cols, v)
			if len(found) == 0 {
				t.Fatalf("the fixture holds no %q: the scan would prove nothing", v)
			}
			t.Logf("before erasure %q is in %s", v, strings.Join(found, ", "))
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
		for _, v := range erased {
			if found := scan(t, d, cols, v); len(found) > 0 {
				t.Errorf("%q is still in %s", v, strings.Join(found, ", "))
			}
		}
		for _, v := range kept {
			if len(scan(t, d, cols, v)) == 0 {
				t.Errorf("the other person's %q is gone", v)
			}
		}
		store := testkitStore(t, s)
		for _, doc := range docs {
			if store.Exists(doc.Sha256) {
				t.Errorf("document %s still in the store", doc.Sha256)
			}
		}
		if rep, err := audit.Verify(context.Background(), c, nil); err != nil || rep.Broken != nil {
			t.Fatalf("audit verify: %v %+v", err, rep.Broken)
		}
	})
}

// testkitStore opens the app's document store.
func testkitStore(t *testing.T, s *testkit.Services) *docstore.Store {
	t.Helper()
	store, err := docstore.New(s.Config.DocumentsDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return store
}
