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
// and the checkpoint is written in the same transaction before the delete. And its rows
// may be updated only as auditUpdatable says (an erasure's blanking of personal fields, the
// upgrade of the chain's hash to v2).
var appendOnlyTables = []string{"audit_events", "audit_checkpoints"}

// prunable is the condition under which a row of audit_events (OLD) may be deleted.
const prunable = `(OLD.seq IS NOT NULL AND OLD.seq <= (SELECT coalesce(max(through_seq), 0) FROM audit_checkpoints))
	OR (OLD.seq IS NULL AND EXISTS (SELECT 1 FROM audit_checkpoints))`

// same is the condition that an audit_events column is unchanged by an UPDATE.
func same(col string) string { return `NEW.` + col + ` IS NOT DISTINCT FROM OLD.` + col }

// auditEventFacts are the columns of audit_events no update may change.
var auditEventFacts = []string{"id", "seq", "occurred_at", "actor_id", "action", "object_type", "object_id", "request_id"}

// auditUpdatable is the condition under which a row of audit_events may be updated (the
// chain's hash covers a salted digest of the personal fields, internal/audit): an erasure
// (audit.Erase) blanks the personal fields and the salt of a v2 event and changes nothing
// else; the upgrade of the chain to v2 (audit.Upgrade) gives a v1 event a salt and digest
// of its unchanged personal fields and relinks the hashes. The facts never change.
var auditUpdatable = func() string {
	facts := ""
	for _, c := range auditEventFacts {
		facts += same(c) + ` AND `
	}
	erase := `coalesce(OLD.personal_digest, '') <> '' AND ` + same("personal_digest") + ` AND ` + same("hash") + ` AND ` +
		same("prev_hash") + ` AND coalesce(NEW.actor_email, '') = '' AND coalesce(NEW.ip, '') = '' AND NEW.details IS NULL AND coalesce(NEW.salt, '') = ''`
	relink := same("actor_email") + ` AND ` + same("ip") + ` AND ` + same("details") + ` AND coalesce(NEW.personal_digest, '') <> '' AND (coalesce(OLD.personal_digest, '') = '' OR (` +
		same("salt") + ` AND ` + same("personal_digest") + `))`
	return `(` + facts + `((` + erase + `) OR (` + relink + `)))`
}()

// InstallGuards (re)installs the append-only triggers (Migrate runs it after every run).
func (d *DB) InstallGuards(ctx context.Context) error {
	var stmts []string
	switch d.Dialect {
	case dialect.Postgres:
		stmts = append(stmts, `CREATE OR REPLACE FUNCTION coalition_append_only() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`,
			`CREATE OR REPLACE FUNCTION coalition_audit_events_guard() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN
				IF TG_OP = 'DELETE' AND (`+prunable+`) THEN RETURN OLD; END IF;
				IF TG_OP = 'UPDATE' AND `+auditUpdatable+` THEN RETURN NEW; END IF;
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
			when, whenUpdate := "", ""
			if t == "audit_events" {
				when = ` WHEN NOT (` + prunable + `)`
				whenUpdate = ` WHEN NOT ` + auditUpdatable
			}
			// Dropped and created again (in one transaction) so a changed condition replaces
			// the old trigger: SQLite has no CREATE OR REPLACE TRIGGER.
			stmts = append(stmts,
				`DROP TRIGGER IF EXISTS `+t+`_no_update`,
				`CREATE TRIGGER `+t+`_no_update BEFORE UPDATE ON `+t+whenUpdate+
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
