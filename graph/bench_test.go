package graph_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// usersPage is what a staff front end asks for: a page of users with a nested connection.
const usersPage = `query($n: Int!) { users(first: $n) {
	totalCount
	pageInfo { hasNextPage endCursor }
	edges { node { id email name roles disabled createdAt apiTokens(first: 5) { totalCount edges { node { id name } } } } }
} }`

// seedUsers creates n trainees (and a token for every tenth), returning a staff client.
func seedUsers(tb testing.TB, e *testkit.Env, n int) *testkit.Client {
	tb.Helper()
	_, staff := e.NewUser("office@coalition.test", "Coalition Office", viewer.RoleStaff)
	ctx := e.System()
	for i := range n {
		u, err := e.App.Auth.CreateUser(ctx, e.DB.Client, auth.CreateUserInput{
			Email: fmt.Sprintf("trainee%03d@centre.example.cz", i), Name: fmt.Sprintf("Trainee %03d", i), Roles: []viewer.Role{viewer.RoleTrainee},
		})
		if err != nil {
			tb.Fatal(err)
		}
		if i%10 == 0 {
			if _, _, err := e.App.Auth.CreateAPIToken(ctx, e.DB.Client, auth.CreateAPITokenInput{UserID: u.ID, Name: "sync", Scopes: []viewer.Scope{viewer.ScopeRead}}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	// Warm up: the first authenticated request records last_used_at once.
	staff.MustDo(`{ me { id } }`, nil, nil)
	return staff
}

// TestUsersPageStatementsDoNotGrowWithPageSize guards against N+1 queries: the number of
// SQL statements for a page (with a nested connection) is the same for 1, 10, 50 and 100.
func TestUsersPageStatementsDoNotGrowWithPageSize(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		staff := seedUsers(t, e, 120)
		counts := map[int]int64{}
		for _, n := range []int{1, 10, 50, 100} {
			e.Queries.Reset()
			var out struct {
				Users struct {
					TotalCount int
					Edges      []any
				}
			}
			staff.MustDo(usersPage, map[string]any{"n": n}, &out)
			if len(out.Users.Edges) != n || out.Users.TotalCount != 121 {
				t.Fatalf("first %d: got %d edges of %d", n, len(out.Users.Edges), out.Users.TotalCount)
			}
			counts[n] = e.Queries.Count()
		}
		if counts[1] != counts[100] || counts[10] != counts[100] || counts[50] != counts[100] {
			t.Fatalf("SQL statements per request by page size: %v; want the same for every size", counts)
		}
		t.Logf("SQL statements per request (auth + page + nested connection): %d", counts[50])
	})
}

// handWritten is the baseline: the same rows read with database/sql and written with
// encoding/json, authenticated by the same session lookup, no GraphQL and no ORM.
func handWritten(db *sql.DB, placeholder func(int) string) http.Handler {
	type token struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	type node struct {
		ID        string          `json:"id"`
		Email     string          `json:"email"`
		Name      string          `json:"name"`
		Roles     json.RawMessage `json:"roles"`
		Disabled  bool            `json:"disabled"`
		CreatedAt time.Time       `json:"createdAt"`
		Tokens    []token         `json:"apiTokens"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		h := sha256.Sum256([]byte(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")))
		var uid string
		if err := db.QueryRowContext(ctx, "SELECT user_id FROM sessions WHERE token_hash = "+placeholder(1), hex.EncodeToString(h[:])).Scan(&uid); err != nil {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		var total int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&total); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		rows, err := db.QueryContext(ctx, "SELECT id, email, name, roles, disabled, created_at FROM users ORDER BY id LIMIT 51")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var nodes []*node
		byID := map[string]*node{}
		for rows.Next() {
			n := &node{Tokens: []token{}}
			var roles []byte
			if err := rows.Scan(&n.ID, &n.Email, &n.Name, &roles, &n.Disabled, &n.CreatedAt); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			n.Roles = roles
			nodes = append(nodes, n)
			byID[n.ID] = n
		}
		rows.Close()
		more := len(nodes) > 50
		if more {
			nodes = nodes[:50]
		}
		ids := make([]any, len(nodes))
		marks := make([]string, len(nodes))
		for i, n := range nodes {
			ids[i], marks[i] = n.ID, placeholder(i+1)
		}
		trows, err := db.QueryContext(ctx, "SELECT id, name, user_id FROM api_tokens WHERE user_id IN ("+strings.Join(marks, ",")+") ORDER BY id", ids...)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		for trows.Next() {
			var t token
			var owner string
			if err := trows.Scan(&t.ID, &t.Name, &owner); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			if n := byID[owner]; n != nil && len(n.Tokens) < 5 {
				n.Tokens = append(n.Tokens, t)
			}
		}
		trows.Close()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"users": map[string]any{
			"totalCount": total, "hasNextPage": more, "nodes": nodes,
		}}})
	})
}

// BenchmarkUsersPage50 serves the same page of 50 users through the whole GraphQL stack
// and through the hand-written baseline, over real HTTP, side by side.
//
//	go test -run '^$' -bench UsersPage50 -benchmem ./graph/
func BenchmarkUsersPage50(b *testing.B) {
	e := testkit.NewEnv(b, dialect.SQLite)
	staff := seedUsers(b, e, 200)
	base := httptest.NewServer(handWritten(e.DB.SQL(), func(int) string { return "?" }))
	defer base.Close()
	body, _ := json.Marshal(map[string]any{"query": usersPage, "variables": map[string]any{"n": 50}})

	var perOp [2]float64
	b.Run("graphql", func(b *testing.B) {
		e.Queries.Reset()
		b.ReportAllocs()
		for b.Loop() {
			if r := staff.Post(body); r.Status != 200 || len(r.Errors) > 0 {
				b.Fatalf("graphql: %s", r.Body)
			}
		}
		perOp[0] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(e.Queries.Count())/float64(b.N), "sql/op")
	})
	b.Run("handwritten", func(b *testing.B) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base.URL, nil)
		req.Header.Set("Authorization", "Bearer "+staff.Token)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := base.Client().Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("handwritten: %v %v", err, resp)
			}
			var v map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
		}
		perOp[1] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(4, "sql/op")
	})
	if perOp[0] > 0 && perOp[1] > 0 {
		b.Logf("graphql %.0f ns/op, handwritten %.0f ns/op: GraphQL takes %.2fx the time", perOp[0], perOp[1], perOp[0]/perOp[1])
	}
}

// BenchmarkRequestLoginLink measures sign-in requests through the API: validation, rate
// limit counts, link row, rendered email and outbox row in one transaction.
//
//	go test -run '^$' -bench RequestLoginLink -benchmem ./graph/
func BenchmarkRequestLoginLink(b *testing.B) {
	for _, dn := range testkit.Dialects() {
		b.Run(dn, func(b *testing.B) {
			e := testkit.NewEnv(b, dn)
			anon := e.Anonymous()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i%25 == 0 { // stay under the per-client rate limit: move past its window
					e.Clock.Advance(16 * time.Minute)
				}
				body := []byte(fmt.Sprintf(`{"query":"mutation { requestLoginLink(input: {email: \"person%d@example.org\"}) { accepted } }"}`, i))
				if r := anon.Post(body); !strings.Contains(string(r.Body), `"accepted":true`) {
					b.Fatalf("request %d: %s", i, r.Body)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
