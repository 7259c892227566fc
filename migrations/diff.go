//go:build ignore

// Command diff plans a new versioned migration for each dialect from the ent schema:
//
//	go run ./migrations/diff.go NAME
//
// SQLite is planned against an in-memory database, PostgreSQL against a fresh, empty
// database created on COALITION_DEV_POSTGRES_URL (default: the local server) and dropped
// afterwards. When the schema has not changed, no file is written: `make check` relies on
// that to fail when someone changed the schema but did not generate a migration.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	entmigrate "github.com/gocart-coalition/coalition/ent/migrate"

	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
)

// ent's NamedDiff opens PostgreSQL URLs with the driver name "postgres": serve it with pgx.
func init() { sql.Register("postgres", stdlib.GetDefaultDriver()) }

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" {
		log.Fatal("usage: go run ./migrations/diff.go NAME")
	}
	name := os.Args[1]
	ctx := context.Background()

	if err := diff(ctx, "migrations/sqlite", dialect.SQLite, "sqlite://diff?mode=memory&_fk=1", name); err != nil {
		log.Fatalf("sqlite: %v", err)
	}

	admin := os.Getenv("COALITION_DEV_POSTGRES_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	devURL, drop, err := scratchDatabase(ctx, admin)
	if err != nil {
		log.Fatalf("postgres: %v", err)
	}
	defer drop()
	if err := diff(ctx, "migrations/postgres", dialect.Postgres, devURL, name); err != nil {
		drop()
		log.Fatalf("postgres: %v", err)
	}
}

func diff(ctx context.Context, path, dialectName, devURL, name string) error {
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return err
	}
	return entmigrate.NamedDiff(ctx, devURL, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialectName),
		schema.WithFormatter(migrate.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
}

// scratchDatabase creates an empty database next to admin and returns its URL.
func scratchDatabase(ctx context.Context, admin string) (string, func(), error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "coalition_migrate_dev_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create scratch database (is PostgreSQL running?): %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	q := u.Query()
	q.Set("search_path", "public")
	u.RawQuery = q.Encode()
	dev := strings.Replace(u.String(), "postgresql://", "postgres://", 1)
	return dev, func() {
		_, _ = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}, nil
}
