package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// deadlineMail lists "subject → recipient" of the call_deadline emails queued so far.
func deadlineMail(t *testing.T, e *testkit.Env) []string {
	t.Helper()
	rows, err := e.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("call_deadline")).
		Order(outboxmessage.ByID()).All(e.System())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Subject+" → "+r.Recipient)
	}
	return out
}

// closeDueTwiceAtOnce runs the deadline job's work in two goroutines at once, as two
// `serve` processes would, and returns how many transitions each applied.
func closeDueTwiceAtOnce(t *testing.T, e *testkit.Env) int {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	counts := make([]int, 2)
	for i := range counts {
		wg.Go(func() {
			<-start
			n, err := e.App.Programme.CloseDue(e.System())
			if err != nil {
				t.Errorf("CloseDue: %v", err)
			}
			counts[i] = n
		})
	}
	close(start)
	wg.Wait()
	return counts[0] + counts[1]
}

// TestCallDeadlinesAreJobs: a call closes itself at its application deadline and ranking
// closes at the ranking deadline, through the scheduled job; two runs at once, and a run
// after them, change it once and tell staff once.
func TestCallDeadlinesAreJobs(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		o := newOpenCall(t, e)
		staff, host := o.d.a.staff, o.d.a.host
		amust(t, o.d.a.trainee, saveAppM, map[string]any{"callId": o.call, "role": "Haematology consultant"})
		status := func() string {
			t.Helper()
			c, err := e.DB.Client.Call.Get(e.System(), pulid.ID(o.call))
			if err != nil {
				t.Fatal(err)
			}
			return string(c.Status)
		}
		runJobs := func() {
			t.Helper()
			if err := e.App.Jobs.RunDue(e.System()); err != nil {
				t.Fatal(err)
			}
		}

		// Before the deadline (2027-02-15 17:00 in Brussels, 16:00 UTC) the job leaves it open.
		e.Clock.Set(time.Date(2027, 2, 15, 15, 59, 0, 0, time.UTC))
		runJobs()
		if got := status(); got != "OPEN" {
			t.Fatalf("before the deadline: %s", got)
		}
		// Within one interval (5 minutes) of the deadline the scheduled job closes it and
		// tells staff.
		e.Clock.Set(time.Date(2027, 2, 15, 16, 4, 0, 0, time.UTC))
		runJobs()
		if got := status(); got != "CLOSED" {
			t.Fatalf("after the deadline job: %s", got)
		}
		want := []string{"Applications closed: Observership pilot, Q1 2027 → office@coalition.test"}
		if got := deadlineMail(t, e); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("emails: %q, want %q", got, want)
		}
		if n := closeDueTwiceAtOnce(t, e); n != 0 {
			t.Errorf("a second run applied %d transitions", n)
		}
		if got := deadlineMail(t, e); len(got) != 1 {
			t.Errorf("emails after a second run: %q", got)
		}
		msg, err := e.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("call_deadline")).Only(e.System())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg.TextBody, "0 applications were submitted; 1 draft was not") {
			t.Errorf("the email does not count the applications:\n%s", msg.TextBody)
		}

		// Staff move the call on; hosts rank until the ranking deadline (2027-02-26 17:00).
		e.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
		staff, host = e.SignIn("office@coalition.test"), e.SignIn("claire.martin@hopital.example.fr")
		pmust(t, staff, reviewM, map[string]any{"id": o.call})
		pmust(t, staff, rankingM, map[string]any{"id": o.call})
		rank := func() []userErr {
			t.Helper()
			var out struct {
				SubmitHostRanking struct{ UserErrors []userErr }
			}
			host.MustDo(`mutation($in: SubmitHostRankingInput!) { submitHostRanking(input: $in) { userErrors { field code message } } }`,
				map[string]any{"in": map[string]any{"callId": o.call, "hostCentreId": o.d.centreLyon, "applicationIds": []string{}}}, &out)
			return out.SubmitHostRanking.UserErrors
		}
		if ue := rank(); len(ue) > 0 {
			t.Fatalf("ranking before the deadline: %+v", ue)
		}
		runJobs()
		closed := func() bool {
			c, err := e.DB.Client.Call.Get(e.System(), pulid.ID(o.call))
			if err != nil {
				t.Fatal(err)
			}
			return c.RankingClosedAt != nil
		}
		if closed() {
			t.Fatal("ranking closed before its deadline")
		}

		// Two processes at the ranking deadline: ranking closes once, staff are told once.
		e.Clock.Set(time.Date(2027, 2, 26, 16, 0, 0, 0, time.UTC))
		host = e.SignIn("claire.martin@hopital.example.fr")
		if n := closeDueTwiceAtOnce(t, e); n != 1 {
			t.Errorf("two runs at once applied %d transitions, want 1", n)
		}
		if !closed() || status() != "RANKING" {
			t.Errorf("after the ranking deadline: closed %v, status %s", closed(), status())
		}
		runJobs()
		want = append(want, "Ranking closed: Observership pilot, Q1 2027 → office@coalition.test")
		if got := deadlineMail(t, e); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("emails: %q, want %q", got, want)
		}
		if ue := rank(); len(ue) != 1 || ue[0].Code != "INVALID_STATE" || !strings.Contains(ue[0].Message, "ranking deadline") {
			t.Errorf("ranking after the deadline: %+v", ue)
		}
		// The mail goes out like any other.
		e.DrainOutbox()
		if got := len(e.SMTP.Messages()); got == 0 {
			t.Error("nothing was sent")
		}
	})
}

// TestConcurrentCallStepsOneWins: staff cancel the same call at the same moment over HTTP
// (after its deadline, before the job closed it); exactly one step wins, each other answer is INVALID_STATE (it read the new
// status) or CONFLICT (it lost the conditional update), never INTERNAL.
func TestConcurrentCallStepsOneWins(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		o := newOpenCall(t, e)
		e.Clock.Set(time.Date(2027, 2, 15, 17, 0, 0, 0, time.UTC)) // after the deadline; the job has not run
		staff := e.SignIn("office@coalition.test")
		const n = 8
		results := make([]*testkit.Response, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				results[i] = staff.Do(cancelCallM, map[string]any{"in": map[string]any{"id": o.call, "reason": "Funding withdrawn."}})
			})
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		for _, r := range results {
			if r.Code() == "CONFLICT" {
				lost++
				if msg := r.Errors[0].Message; strings.Contains(msg, "%!") || !strings.Contains(msg, "changed meanwhile") {
					t.Errorf("conflict message: %q", msg)
				}
				continue
			}
			if len(r.Errors) > 0 {
				t.Errorf("unexpected error: %s", r.Body)
				continue
			}
			var out map[string]progPayload
			if err := json.Unmarshal(r.Data, &out); err != nil {
				t.Fatal(err)
			}
			for _, p := range out {
				switch {
				case p.Call != nil:
					won++
				case len(p.UserErrors) == 1 && p.UserErrors[0].Code == "INVALID_STATE":
					lost++
				default:
					t.Errorf("unexpected payload: %s", r.Body)
				}
			}
		}
		if won != 1 || lost != n-1 {
			t.Errorf("won %d, lost %d", won, lost)
		}
	})
}

// TestLostRaceIsConflict: a status change whose conditional update finds the row changed
// since it was read answers CONFLICT with a plain message. On PostgreSQL the test holds the
// call's row, lets the request read the call and wait for the row, then changes the status
// and lets go; the request's UPDATE … WHERE status = 'OPEN' then matches nothing. (On
// SQLite write transactions never overlap, so the request reads the new status and answers
// INVALID_STATE: TestConcurrentCallStepsOneWins.)
func TestLostRaceIsConflict(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		if e.Dialect != dialect.Postgres {
			t.Skip("a lost race needs overlapping write transactions (PostgreSQL)")
		}
		o := newOpenCall(t, e)
		sys := e.System()
		tx, err := e.DB.Client.Tx(sys)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := db.LockRows(e.Dialect, tx.Call.Query().Where(call.ID(pulid.ID(o.call))), call.Table).Only(sys); err != nil {
			t.Fatal(err)
		}
		done := make(chan *testkit.Response, 1)
		go func() {
			done <- o.d.a.staff.Do(cancelCallM, map[string]any{"in": map[string]any{"id": o.call, "reason": "Funding withdrawn."}})
		}()
		waitForLockWaiter(t, e)
		if err := tx.Call.UpdateOneID(pulid.ID(o.call)).SetStatus(call.StatusCLOSED).SetStatusReason("Closed early.").Exec(sys); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.Code() != "CONFLICT" {
			t.Fatalf("lost race answered %s", r.Body)
		}
		if msg := r.Errors[0].Message; msg != "the call changed meanwhile; reload it" {
			t.Errorf("message %q", msg)
		}
		c, err := e.DB.Client.Call.Get(sys, pulid.ID(o.call))
		if err != nil || c.Status != call.StatusCLOSED {
			t.Errorf("call after the race: %v, %v", c, err)
		}
	})
}

// TestLostAcceptIsConflict: an offer accepted while the host cancels it. The test holds the
// placement's row, lets the acceptance read the offer and wait for the row, then cancels the
// placement and lets go: the acceptance's conditional update matches nothing, which is
// CONFLICT with a plain message (it was INTERNAL, "%!w(<nil>)").
func TestLostAcceptIsConflict(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		if e.Dialect != dialect.Postgres {
			t.Skip("a lost race needs overlapping write transactions (PostgreSQL)")
		}
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		var run struct {
			StartMatchRun struct{ MatchRun struct{ ID string } }
		}
		staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": false}}, &run)
		amust(t, staff, publishRunM, map[string]any{"id": run.StartMatchRun.MatchRun.ID})
		ioanaC := e.SignIn("ioana.popescu@example.ro")
		id := pulid.ID(placementOf(t, e, r.ioana))
		sys := e.System()
		tx, err := e.DB.Client.Tx(sys)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := db.LockRows(e.Dialect, tx.Placement.Query().Where(placement.ID(id)), placement.Table).Only(sys); err != nil {
			t.Fatal(err)
		}
		done := make(chan *testkit.Response, 1)
		go func() { done <- ioanaC.Do(acceptPlcM, map[string]any{"in": map[string]any{"id": string(id)}}) }()
		waitForLockWaiter(t, e)
		if err := tx.Placement.UpdateOneID(id).SetStatus(placement.StatusCANCELLED).SetStatusReason("Host closed.").Exec(sys); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		res := <-done
		if res.Code() != "CONFLICT" || res.Errors[0].Message != "the placement changed meanwhile; reload it" {
			t.Fatalf("lost acceptance answered %s", res.Body)
		}
		p, err := e.DB.Client.Placement.Get(sys, id)
		if err != nil || p.Status != placement.StatusCANCELLED || p.AcceptedAt != nil {
			t.Errorf("placement after the race: %+v, %v", p, err)
		}
	})
}

// waitForLockWaiter returns once a session of the test's database waits for a row lock.
func waitForLockWaiter(t *testing.T, e *testkit.Env) {
	t.Helper()
	conn, err := sql.Open("pgx", e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting int
		err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if waiting > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no request waited for the row")
		case <-tick.C:
		}
	}
}
