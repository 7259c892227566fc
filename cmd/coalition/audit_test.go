package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// TestAuditVerify runs `coalition audit verify` on a chain, then after a DBA edited a row
// past the append-only guard: the last line names the event and its position, and the
// exit status is 1.
func TestAuditVerify(t *testing.T) {
	for _, name := range testkit.Dialects() {
		t.Run(name, func(t *testing.T) {
			url := testkit.MigratedURL(t, name)
			getenv, _ := environment(t, map[string]string{"COALITION_DATABASE_URL": url})
			d, err := db.Open(context.Background(), url, db.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx := viewer.NewSystemContext(context.Background())
			if err := db.InTx(ctx, d.Client, func(ctx context.Context, tx *ent.Client) error {
				for _, a := range []string{"user.create", "user.grant_roles", "auth.sign_in"} {
					if err := audit.Record(ctx, tx, time.Now(), audit.Event{Action: a, ObjectType: "User", ObjectID: "usr_x"}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			out, _, err := runCLI(t, getenv, "audit", "verify")
			if err != nil || lastLine(out) != "audit verify: ok events=3" {
				t.Fatalf("verify: %v\n%s", err, out)
			}

			if name == dialect.Postgres {
				_, err = d.SQL().ExecContext(ctx, `ALTER TABLE audit_events DISABLE TRIGGER USER`)
			} else {
				_, err = d.SQL().ExecContext(ctx, `DROP TRIGGER audit_events_no_update`)
			}
			if err != nil {
				t.Fatal(err)
			}
			var id, action string
			if err := d.SQL().QueryRowContext(ctx, `SELECT id, action FROM audit_events WHERE seq = 2`).Scan(&id, &action); err != nil {
				t.Fatal(err)
			}
			// An edited field the hash covers directly, then (the first edit undone) an edited
			// personal field, which the hash covers through its salted digest (chain v2).
			for _, edit := range []struct{ set, undo, why string }{
				{`UPDATE audit_events SET action = 'user.nothing_happened' WHERE seq = 2`,
					`UPDATE audit_events SET action = '` + action + `' WHERE seq = 2`, "its hash does not match its contents (edited)"},
				{`UPDATE audit_events SET actor_email = 'someone-else@example.org' WHERE seq = 2`, "", "its personal fields do not match their digest (edited)"},
			} {
				if _, err := d.SQL().ExecContext(ctx, edit.set); err != nil {
					t.Fatal(err)
				}
				out, _, err = runCLI(t, getenv, "audit", "verify")
				want := "audit verify: BROKEN at event " + id + " (position 2): " + edit.why
				var ec exitCoder
				if !errors.As(err, &ec) || ec.ExitCode() != 1 || lastLine(out) != want {
					t.Fatalf("after %s: %v\n%s\nwant last line %q, exit status 1", edit.set, err, out, want)
				}
				if edit.undo != "" {
					if _, err := d.SQL().ExecContext(ctx, edit.undo); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, _, err := runCLI(t, getenv, "audit", "frobnicate"); err == nil {
				t.Fatal("audit frobnicate: no error")
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
