// Package db owns the connection to the database: opening SQLite (embedded default) or
// PostgreSQL from a URL with the settings of ARCHITECTURE §6.3–6.4, applying the embedded
// versioned migrations after checking their integrity, reporting migration status, and
// taking online backups of SQLite.
package db
