// Package statements owns the coalition's policy statements: drafting in immutable
// revisions (SHA-256 of a canonical form, optimistic concurrency on the revision an edit
// is based on), sign-off by designated signatories pinned to a revision hash, endorsement,
// scheduled publication by a job with the campaigns' too-late guard, corrections and
// withdrawal, the announcement through the newsletter's campaigns, and the public read
// API (public.go) the web pages and feed are built on. The status table is states.go.
package statements
