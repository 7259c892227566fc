package db

import (
	"context"

	"entgo.io/ent/dialect"
)

// appendOnlyTables may only ever be inserted into. The ent privacy policy refuses updates
// and deletes through the application; these triggers refuse them to anyone with SQL
// access too. They are not in the generated migrations (ent plans tables, not triggers),
// so Migrate (re)installs them idempotently after every run.
//
// audit_events has one exception, the retention of the audit trail (audit.Prune): a row
// may be deleted once a signed checkpoint covers it (its position is at most a
// checkpoint's through_seq; a legacy row without a position, once any checkpoint exists),
// and the checkpoint is written in the same transaction before the delete.
var appendOnlyTables = []string{"audit_events", "audit_checkpoints"}

// prunable is the condition under which a row of audit_events (OLD) may be deleted.
const prunable = `(OLD.seq IS NOT NULL AND OLD.seq <= (SELECT coalesce(max(through_seq), 0) FROM audit_checkpoints))
	OR (OLD.seq IS NULL AND EXISTS (SELECT 1 FROM audit_checkpoints))`

func (d *DB) installGuards(ctx context.Context) error {
	var stmts []string
	switch d.Dialect {
	case dialect.Postgres:
		stmts = append(stmts, `CREATE OR REPLACE FUNCTION coalition_append_only() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`,
			`CREATE OR REPLACE FUNCTION coalition_audit_events_guard() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN
				IF TG_OP = 'DELETE' AND (`+prunable+`) THEN RETURN OLD; END IF;
				RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
			END $$`)
		for _, t := range appendOnlyTables {
			fn := "coalition_append_only()"
			if t == "audit_events" {
				fn = "coalition_audit_events_guard()"
			}
			stmts = append(stmts,
				`CREATE OR REPLACE TRIGGER `+t+`_append_only BEFORE UPDATE OR DELETE ON `+t+
					` FOR EACH ROW EXECUTE FUNCTION `+fn,
				`CREATE OR REPLACE TRIGGER `+t+`_no_truncate BEFORE TRUNCATE ON `+t+
					` FOR EACH STATEMENT EXECUTE FUNCTION coalition_append_only()`)
		}
	default:
		for _, t := range appendOnlyTables {
			when := ""
			if t == "audit_events" {
				when = ` WHEN NOT (` + prunable + `)`
			}
			// Dropped and created again (in one transaction) so a changed condition replaces
			// the old trigger: SQLite has no CREATE OR REPLACE TRIGGER.
			stmts = append(stmts,
				`CREATE TRIGGER IF NOT EXISTS `+t+`_no_update BEFORE UPDATE ON `+t+
					` BEGIN SELECT RAISE(ABORT, '`+t+` is append-only'); END`,
				`DROP TRIGGER IF EXISTS `+t+`_no_delete`,
				`CREATE TRIGGER `+t+`_no_delete BEFORE DELETE ON `+t+when+
					` BEGIN SELECT RAISE(ABORT, '`+t+` is append-only'); END`)
		}
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}
