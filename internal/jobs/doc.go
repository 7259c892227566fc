// Package jobs owns the periodic, idempotent background jobs that `coalition serve` runs
// (reminders, expiries, scheduled publication, outbox dispatch): when each is due, a
// database lease so that only one process runs a job at a time even when several share
// one PostgreSQL, and the record of every job's last run for operators.
//
// A job's state lives in its row of the jobs table. A runner takes a job with a single
// conditional UPDATE that succeeds only while nobody holds an unexpired lease and the job
// is due; the lease lasts the job's Timeout, so the lease of a runner that crashed simply
// runs out and another process takes the job over. Jobs must therefore be idempotent: a
// run cut short by a crash is run again in full.
package jobs
