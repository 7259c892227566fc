// Package migrations embeds the versioned SQL migrations of both dialects. The files are
// generated from the ent schema (`make migrate-diff NAME=…`, see diff.go) and never edited by
// hand; atlas.sum in each directory lets the service refuse a tampered or reordered file.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"ariga.io/atlas/sql/migrate"
)

//go:embed sqlite postgres
var files embed.FS

// Dir returns the migration directory of a dialect ("sqlite3" or "postgres") as an Atlas
// directory held in memory.
func Dir(dialect string) (*migrate.MemDir, error) {
	sub := map[string]string{"sqlite3": "sqlite", "postgres": "postgres"}[dialect]
	if sub == "" {
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	return Load(files, sub)
}

// Load copies the migration files under root of fsys into an in-memory Atlas directory.
func Load(fsys fs.FS, root string) (*migrate.MemDir, error) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", root, err)
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, root+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("load migration %s: %w", e.Name(), err)
		}
	}
	return dir, nil
}
