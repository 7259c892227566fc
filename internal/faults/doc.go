// Package faults runs the process-level fault scenarios of `make faults` against a built
// coalition binary: SIGKILL and restart on SQLite, two processes on one PostgreSQL with
// one killed, a restart of the database under a running service, and a relay that
// answers 4xx, refuses connections or answers 5xx. Each scenario queues emails, breaks
// something, and counts what the real SMTP server (internal/testkit's, in this process)
// received: lost and duplicated messages, and how long mail stalled.
package faults
