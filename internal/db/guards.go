package db

import (
	"context"

	"entgo.io/ent/dialect"
)

// appendOnlyTables may only ever be inserted into. The ent privacy policy refuses updates
// and deletes through the application; these triggers refuse them to anyone with SQL
// access too. They are not in the generated migrations (ent plans tables, not triggers),
// so Migrate (re)installs them idempotently after every run.
var appendOnlyTables = []string{"audit_events"}

func (d *DB) installGuards(ctx context.Context) error {
	var stmts []string
	switch d.Dialect {
	case dialect.Postgres:
		stmts = append(stmts, `CREATE OR REPLACE FUNCTION coalition_append_only() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`)
		for _, t := range appendOnlyTables {
			stmts = append(stmts,
				`CREATE OR REPLACE TRIGGER `+t+`_append_only BEFORE UPDATE OR DELETE ON `+t+
					` FOR EACH ROW EXECUTE FUNCTION coalition_append_only()`,
				`CREATE OR REPLACE TRIGGER `+t+`_no_truncate BEFORE TRUNCATE ON `+t+
					` FOR EACH STATEMENT EXECUTE FUNCTION coalition_append_only()`)
		}
	default:
		for _, t := range appendOnlyTables {
			stmts = append(stmts,
				`CREATE TRIGGER IF NOT EXISTS `+t+`_no_update BEFORE UPDATE ON `+t+
					` BEGIN SELECT RAISE(ABORT, '`+t+` is append-only'); END`,
				`CREATE TRIGGER IF NOT EXISTS `+t+`_no_delete BEFORE DELETE ON `+t+
					` BEGIN SELECT RAISE(ABORT, '`+t+` is append-only'); END`)
		}
	}
	for _, s := range stmts {
		if _, err := d.write.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
