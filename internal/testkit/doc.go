// Package testkit is the test harness: a fresh, migrated database per test (a SQLite file
// always; PostgreSQL too when COALITION_TEST_POSTGRES_URL is set), a settable clock, a
// capturing SMTP server on loopback, and a GraphQL client that acts as a real user through
// a real token over real HTTP.
package testkit
