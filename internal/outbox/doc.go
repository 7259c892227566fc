// Package outbox owns the durable email outbox (ARCHITECTURE §6.12): Enqueue writes one
// row per email in the caller's transaction, so an email exists exactly when the change
// that caused it commits; the Worker claims due rows, sends them through a mail.Transport,
// and records each result — sent, retried later with exponential back-off and jitter, or
// failed — so that an email is sent even if the process dies a moment after the commit.
//
// Rows move queued → sending → sent | failed (| suppressed | cancelled, set by others).
// A claim puts a lease on the rows it takes; rows whose lease ran out (their worker died)
// are due again, and are resent with the same Message-ID, which is derived from the row
// id. On PostgreSQL several processes claim concurrently with FOR UPDATE SKIP LOCKED; on
// SQLite the single writer connection serialises claims.
//
// The package also has the operators' view (Status, Retry, RetryFailed) and Prometheus
// metrics (Metrics). Every read and write acts as the explicit system viewer.
package outbox
