package graph_test

import (
	"fmt"
	"testing"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestBatchedStatementFields: a page of statements with its per-row lists (revisions,
// signatories, co-authors, endorsers, current revision; sign-offs share the loader's path
// but their cap alone passes the node budget on a page) costs the same number
// of SQL statements for one statement as for four: each field is one batched read for the
// page, not one per row.
func TestBatchedStatementFields(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newStatementWorld(t, e)
		const q = `{ statements(first: 4) { edges { node { id
			currentRevision { id } revisions { id } signatories { role }
			coAuthors { id } endorsers { id } } } } }`
		type page struct {
			Statements struct {
				Edges []struct {
					Node struct {
						Revisions   []struct{ ID string }
						Signatories []struct{ Role string }
						CoAuthors   []struct{ ID string }
						Endorsers   []struct{ ID string }
					}
				}
			}
		}
		measure := func(want int) int64 {
			w.staff.MustDo(`{ me { id } }`, nil, nil) // warm up (last_used_at)
			var out page
			n, _ := counted(t, e, w.staff, q, nil, &out)
			if len(out.Statements.Edges) != want {
				t.Fatalf("statements: %d, want %d", len(out.Statements.Edges), want)
			}
			for _, s := range out.Statements.Edges {
				if len(s.Node.Revisions) != 1 || len(s.Node.Signatories) != 3 || len(s.Node.CoAuthors) != 2 || len(s.Node.Endorsers) != 1 {
					t.Fatalf("a statement's lists: %+v", s.Node)
				}
			}
			return n
		}
		w.open(t, "batched-0", "Body.")
		one := measure(1)
		for i := 1; i < 4; i++ {
			w.open(t, fmt.Sprintf("batched-%d", i), "Body.")
		}
		if four := measure(4); four != one {
			t.Errorf("statements for a page of 4: %d, for a page of 1: %d; want equal (batched per page)", four, one)
		}
	})
}
