package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

var (
	t0  = time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)
	key = []byte("an audit key of at least 32 characters")
)

// record appends n events in one transaction, as a service does.
func record(t *testing.T, d *db.DB, now time.Time, n int) {
	t.Helper()
	ctx := viewer.NewSystemContext(context.Background())
	err := db.InTx(ctx, d.Client, func(ctx context.Context, tx *ent.Client) error {
		for i := range n {
			if err := audit.Record(ctx, tx, now, audit.Event{
				Action: "test.event", ObjectType: "User", ObjectID: fmt.Sprintf("usr_%d", i),
				Details: map[string]any{"n": i, "nested": map[string]any{"b": true, "a": []any{1.5, "x"}}, "html": "<b>&</b>"},
				ActorID: "usr_actor", ActorEmail: "actor@example.org",
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("record: %v", err)
	}
}

// recordAll appends n events with the bulk path.
func recordAll(t *testing.T, d *db.DB, now time.Time, n int) {
	t.Helper()
	events := make([]audit.Event, n)
	for i := range events {
		events[i] = audit.Event{Action: "test.bulk", ObjectType: "Placement", ObjectID: fmt.Sprintf("plc_%d", i)}
	}
	ctx := viewer.NewSystemContext(context.Background())
	if err := db.InTx(ctx, d.Client, func(ctx context.Context, tx *ent.Client) error {
		return audit.RecordAll(ctx, tx, now, events)
	}); err != nil {
		t.Fatalf("record all: %v", err)
	}
}

func verify(t *testing.T, d *db.DB, k []byte) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), d.Client, k)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func eventAt(t *testing.T, d *db.DB, seq int64) *ent.AuditEvent {
	t.Helper()
	e, err := d.Client.AuditEvent.Query().Where(auditevent.Seq(seq)).Only(viewer.NewSystemContext(context.Background()))
	if err != nil {
		t.Fatalf("event at %d: %v", seq, err)
	}
	return e
}

// sqlExec runs a statement as a DBA would, outside the application.
func sqlExec(t *testing.T, d *db.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.SQL().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dropGuards removes the append-only triggers of audit_events, as a DBA with full access could.
func dropGuards(t *testing.T, d *db.DB) {
	t.Helper()
	if d.Dialect == dialect.Postgres {
		sqlExec(t, d, `ALTER TABLE audit_events DISABLE TRIGGER USER`)
		sqlExec(t, d, `ALTER TABLE audit_checkpoints DISABLE TRIGGER USER`)
		return
	}
	for _, s := range []string{"audit_events_no_update", "audit_events_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"} {
		sqlExec(t, d, `DROP TRIGGER `+s)
	}
}

func TestChainVerifies(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		if rep := verify(t, d, nil); rep.Broken != nil || rep.Events != 0 || rep.Line() != "audit verify: ok events=0" {
			t.Fatalf("empty chain: %+v %q", rep, rep.Line())
		}
		record(t, d, t0, 3)
		recordAll(t, d, t0.Add(time.Minute), 2500) // three multi-row inserts
		record(t, d, t0.Add(2*time.Minute), 1)
		rep := verify(t, d, nil)
		if rep.Broken != nil || rep.Events != 2504 || rep.Start != 1 || rep.Last != 2504 {
			t.Fatalf("got %+v (%v), want 2504 events from 1, unbroken", rep, rep.Broken)
		}
		if got, want := rep.Line(), "audit verify: ok events=2504"; got != want {
			t.Fatalf("line %q, want %q", got, want)
		}
		first, second := eventAt(t, d, 1), eventAt(t, d, 2)
		if first.PrevHash != "" || second.PrevHash != first.Hash || len(first.Hash) != 64 {
			t.Fatalf("links: first %q/%q, second prev %q", first.PrevHash, first.Hash, second.PrevHash)
		}
	})
}

// TestVerifyFindsTampering edits, deletes and inserts rows directly in SQL, past the
// append-only guard, and checks Verify names the first broken link each time.
func TestVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, d *db.DB)
		at     int64
		reason string
	}{
		{"edited action", func(t *testing.T, d *db.DB) {
			sqlExec(t, d, `UPDATE audit_events SET action = 'user.read' WHERE seq = 3`)
		}, 3, "its hash does not match its contents (edited)"},
		{"edited details", func(t *testing.T, d *db.DB) {
			sqlExec(t, d, `UPDATE audit_events SET details = NULL WHERE seq = 4`)
		}, 4, "its personal fields do not match their digest (edited)"},
		{"edited actor's address", func(t *testing.T, d *db.DB) {
			sqlExec(t, d, `UPDATE audit_events SET actor_email = 'someone@example.org' WHERE seq = 3`)
		}, 3, "its personal fields do not match their digest (edited)"},
		{"edited digest", func(t *testing.T, d *db.DB) {
			sqlExec(t, d, `UPDATE audit_events SET personal_digest = $1 WHERE seq = 2`, strings.Repeat("1", 64))
		}, 2, "its hash does not match its contents (edited)"},
		{"address put back after an erasure", func(t *testing.T, d *db.DB) {
			eraseObject(t, d, "usr_3")
			sqlExec(t, d, `UPDATE audit_events SET actor_email = 'someone@example.org' WHERE seq = 4`)
		}, 4, "its personal fields were erased but some are set again (edited)"},
		{"edited with its hash", func(t *testing.T, d *db.DB) {
			sqlExec(t, d, `UPDATE audit_events SET actor_email = 'someone@example.org', hash = $1 WHERE seq = 2`, strings.Repeat("0", 64))
		}, 2, "its hash does not match its contents (edited)"},
		{"deleted", func(t *testing.T, d *db.DB) {
			sqlExec(t, d, `DELETE FROM audit_events WHERE seq = 2`)
		}, 3, "the event at position 2 is missing"},
		{"relinked", func(t *testing.T, d *db.DB) {
			sqlExec(t, d, `UPDATE audit_events SET prev_hash = $1 WHERE seq = 5`, eventAt(t, d, 3).Hash)
		}, 5, "its prev_hash is not the hash of the event before it"},
	}
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				d := testkit.NewDB(t, d.Dialect)
				record(t, d, t0, 6)
				if rep := verify(t, d, nil); rep.Broken != nil {
					t.Fatalf("before tampering: %v", rep.Broken)
				}
				dropGuards(t, d)
				c.tamper(t, d)
				rep := verify(t, d, nil)
				if rep.Broken == nil {
					t.Fatalf("tampering not found: %+v", rep)
				}
				want := eventAt(t, d, c.at)
				if rep.Broken.EventID != string(want.ID) || rep.Broken.Position != c.at || rep.Broken.Reason != c.reason {
					t.Fatalf("got %+v, want event %s at %d: %s", *rep.Broken, want.ID, c.at, c.reason)
				}
				if got, wantLine := rep.Line(), fmt.Sprintf("audit verify: BROKEN at event %s (position %d): %s", want.ID, c.at, c.reason); got != wantLine {
					t.Fatalf("line %q, want %q", got, wantLine)
				}
			})
		}
	})
}

// TestGuardsRefuseTampering: with the triggers in place, SQL cannot change or delete an
// event (or a checkpoint), nor delete one no checkpoint covers.
func TestGuardsRefuseTampering(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		record(t, d, t0, 2)
		for _, q := range []string{
			`UPDATE audit_events SET action = 'x' WHERE seq = 1`,
			`DELETE FROM audit_events WHERE seq = 1`,
			`DELETE FROM audit_events WHERE seq IS NULL OR seq > 0`,
		} {
			if _, err := d.SQL().ExecContext(context.Background(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: got %v, want an append-only refusal", q, err)
			}
		}
		if rep := verify(t, d, nil); rep.Broken != nil || rep.Events != 2 {
			t.Fatalf("after refused tampering: %+v", rep)
		}
	})
}

func TestPruneKeepsTheRestVerifiable(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		record(t, d, t0, 3)                     // positions 1–3
		recordAll(t, d, t0.AddDate(1, 0, 0), 2) // 4–5
		record(t, d, t0.AddDate(2, 0, 0), 2)    // 6–7
		if _, err := audit.Prune(ctx, d.Client, t0, t0, nil); err != audit.ErrNoKey {
			t.Fatalf("prune without a key: %v, want ErrNoKey", err)
		}
		// Nothing is older than the first event: nothing to do.
		if out, err := audit.Prune(ctx, d.Client, t0.AddDate(6, 0, 0), t0, key); err != nil || out.Deleted != 0 || out.Checkpoint != "" {
			t.Fatalf("nothing due: %+v %v", out, err)
		}
		now := t0.AddDate(7, 0, 0)
		cutoff := t0.AddDate(1, 0, 0).Add(time.Second) // 1–5 are older
		out, err := audit.Prune(ctx, d.Client, now, cutoff, key)
		if err != nil || out.Deleted != 5 || out.ThroughSeq != 5 {
			t.Fatalf("prune: %+v %v, want 5 deleted through 5", out, err)
		}
		if n := d.Client.AuditEvent.Query().CountX(viewer.NewSystemContext(ctx)); n != 2 {
			t.Fatalf("%d events left, want 2", n)
		}
		rep := verify(t, d, key)
		if rep.Broken != nil || rep.Events != 2 || rep.Start != 6 || rep.Checkpoints != 1 || rep.Pruned != 5 {
			t.Fatalf("after pruning: %+v %v", rep, rep.Broken)
		}
		// Appending goes on from the chain's head; a second prune adds a checkpoint.
		record(t, d, now, 1)
		if out, err := audit.Prune(ctx, d.Client, now, t0.AddDate(3, 0, 0), key); err != nil || out.Deleted != 2 || out.ThroughSeq != 7 {
			t.Fatalf("second prune: %+v %v", out, err)
		}
		// Pruning everything leaves the head in the checkpoint, and appending continues from it.
		if out, err := audit.Prune(ctx, d.Client, now.AddDate(1, 0, 0), now.AddDate(1, 0, 0), key); err != nil || out.ThroughSeq != 8 {
			t.Fatalf("prune all: %+v %v", out, err)
		}
		record(t, d, now.AddDate(1, 0, 0), 1)
		if e := eventAt(t, d, 9); e.Seq == nil || *e.Seq != 9 {
			t.Fatalf("after pruning everything the next position is %v, want 9", e.Seq)
		}
		if rep := verify(t, d, key); rep.Broken != nil || rep.Events != 1 || rep.Checkpoints != 3 || rep.Pruned != 8 {
			t.Fatalf("after three prunes: %+v %v", rep, rep.Broken)
		}
		// The checkpoints' signatures are checked.
		if rep := verify(t, d, nil); rep.Broken == nil || rep.Broken.Checkpoint == "" || !strings.Contains(rep.Line(), "no audit key") {
			t.Fatalf("without the key: %q", rep.Line())
		}
		if rep := verify(t, d, []byte("another key of at least 32 characters!")); rep.Broken == nil || !strings.Contains(rep.Line(), "signature does not match") {
			t.Fatalf("another key: %q", rep.Line())
		}
		dropGuards(t, d)
		sqlExec(t, d, `UPDATE audit_checkpoints SET pruned_count = 1`)
		if rep := verify(t, d, key); rep.Broken == nil || !strings.HasPrefix(rep.Line(), "audit verify: BROKEN at checkpoint ack_") {
			t.Fatalf("edited checkpoint: %q", rep.Line())
		}
	})
}

// TestConcurrentAppendsFormOneChain appends from several goroutines, each with its own
// transactions, through two pools on the same database (two serve processes on
// PostgreSQL): the chain has no fork and no gap.
func TestConcurrentAppendsFormOneChain(t *testing.T) {
	for _, name := range testkit.Dialects() {
		t.Run(name, func(t *testing.T) {
			url := testkit.MigratedURL(t, name)
			var pools [2]*db.DB
			for i := range pools {
				d, err := db.Open(context.Background(), url, db.Options{})
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				t.Cleanup(func() { d.Close() })
				pools[i] = d
			}
			const workers, each = 6, 15
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d := pools[w%2]
					ctx := viewer.NewSystemContext(context.Background())
					for i := range each {
						err := db.InTx(ctx, d.Client, func(ctx context.Context, tx *ent.Client) error {
							if i%3 == 0 {
								return audit.RecordAll(ctx, tx, t0, []audit.Event{{Action: "a.one"}, {Action: "a.two"}})
							}
							return audit.Record(ctx, tx, t0, audit.Event{Action: "a.single"})
						})
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("append: %v", err)
			}
			want := workers * (each + each/3)
			if rep := verify(t, pools[0], nil); rep.Broken != nil || rep.Events != want {
				t.Fatalf("got %+v (%v), want %d events unbroken", rep, rep.Broken, want)
			}
		})
	}
}

// eraseObject erases the personal fields of the events about object, as an erasure does.
func eraseObject(t *testing.T, d *db.DB, object string) int {
	t.Helper()
	ctx := viewer.NewSystemContext(context.Background())
	var n int
	if err := db.InTx(ctx, d.Client, func(ctx context.Context, tx *ent.Client) (err error) {
		n, err = audit.Erase(ctx, tx, auditevent.ObjectID(object))
		return err
	}); err != nil {
		t.Fatalf("erase: %v", err)
	}
	return n
}

// TestEraseKeepsTheChainVerifiable blanks one event's personal fields (an erasure) and
// checks the chain still verifies, the event keeps its facts, the others keep their
// personal fields, and the guard refuses any other update, also in SQL.
func TestEraseKeepsTheChainVerifiable(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		record(t, d, t0, 6)
		before := eventAt(t, d, 3)
		if before.ActorEmail == "" || before.Salt == "" || len(before.PersonalDigest) != 64 || len(before.Details) == 0 {
			t.Fatalf("a v2 event before erasure: %+v", before)
		}
		if n := eraseObject(t, d, "usr_2"); n != 1 {
			t.Fatalf("erased %d events, want 1", n)
		}
		if n := eraseObject(t, d, "usr_2"); n != 0 {
			t.Fatalf("erased %d events again, want 0", n)
		}
		rep := verify(t, d, nil)
		if rep.Broken != nil || rep.Line() != "audit verify: ok events=6" {
			t.Fatalf("after erasure: %q %+v", rep.Line(), rep.Broken)
		}
		after := eventAt(t, d, 3)
		if after.ActorEmail != "" || after.IP != "" || after.Details != nil || after.Salt != "" {
			t.Fatalf("personal fields left: %+v", after)
		}
		if after.ID != before.ID || after.ActorID != before.ActorID || after.Action != before.Action || after.ObjectID != before.ObjectID ||
			after.Hash != before.Hash || after.PersonalDigest != before.PersonalDigest || !after.OccurredAt.Equal(before.OccurredAt) {
			t.Fatalf("facts changed: before %+v, after %+v", before, after)
		}
		if other := eventAt(t, d, 4); other.ActorEmail != "actor@example.org" || len(other.Details) == 0 {
			t.Fatalf("another event erased: %+v", other)
		}
		for _, q := range []string{
			`UPDATE audit_events SET actor_email = 'x@example.org' WHERE seq = 4`,
			`UPDATE audit_events SET actor_email = '', ip = '', details = NULL, salt = '', action = 'x' WHERE seq = 4`,
			`UPDATE audit_events SET actor_email = '', ip = '', details = NULL, salt = '', hash = 'x' WHERE seq = 4`,
			`UPDATE audit_events SET actor_email = 'x@example.org' WHERE seq = 3`,
		} {
			if _, err := d.SQL().ExecContext(context.Background(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: got %v, want an append-only refusal", q, err)
			}
		}
	})
}

// TestUpgradeTurnsAV1ChainIntoV2 rewrites a chain as the v1 encoding wrote it, checks it
// verifies as it is, then upgrades it (as the first erasure does) and checks it verifies,
// every event is v2 with its personal fields unchanged, and an erasure now works.
func TestUpgradeTurnsAV1ChainIntoV2(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		record(t, d, t0, 4)
		ctx := context.Background()
		dropGuards(t, d)
		if err := audit.RewriteAsV1(ctx, d.Client); err != nil {
			t.Fatal(err)
		}
		if rep := verify(t, d, nil); rep.Broken != nil || rep.Events != 4 {
			t.Fatalf("v1 chain: %+v", rep.Broken)
		}
		if e := eventAt(t, d, 2); e.PersonalDigest != "" {
			t.Fatalf("not v1: %+v", e)
		}
		if err := d.InstallGuards(ctx); err != nil {
			t.Fatal(err)
		}
		if err := audit.Upgrade(ctx, d.Client); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		rep := verify(t, d, nil)
		if rep.Broken != nil || rep.Line() != "audit verify: ok events=4" {
			t.Fatalf("after upgrade: %q %+v", rep.Line(), rep.Broken)
		}
		for seq := int64(1); seq <= 4; seq++ {
			if e := eventAt(t, d, seq); e.PersonalDigest == "" || e.Salt == "" || e.ActorEmail != "actor@example.org" {
				t.Fatalf("event %d after upgrade: %+v", seq, e)
			}
		}
		if n := eraseObject(t, d, "usr_1"); n != 1 {
			t.Fatalf("erased %d, want 1", n)
		}
		if rep := verify(t, d, nil); rep.Broken != nil || rep.Events != 4 {
			t.Fatalf("after erasure: %+v", rep.Broken)
		}
	})
}
