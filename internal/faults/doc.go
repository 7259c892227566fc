// Package faults runs the process-level fault scenarios of `make faults` against a built
// coalition binary: SIGKILL and restart on SQLite, two processes on one PostgreSQL with
// one killed, a restart of the database under a running service, and a relay that
// answers 4xx, refuses connections or answers 5xx. Each scenario queues emails, breaks
// something, and counts what the real SMTP server (internal/testkit's, in this process)
// received: lost and duplicated messages, and how long mail stalled.
//
// The campaign scenarios drive the service as staff do (tokens from `coalition user
// create --print-token-only`, GraphQL over HTTP: a list, a campaign approved by a second
// member of staff, sendCampaignNow, pause, resume), with only the subscribers seeded
// straight into the database: a 10,000-recipient campaign killed with SIGKILL mid-send
// (sign-in links requested meanwhile must leave within SignInDuringCampaign), a relay
// answering 4xx for a while and 5xx for chosen recipients, pause then SIGKILL then
// resume, and two processes on one PostgreSQL. Each ends when the campaign is SENT and
// checks every recipient reached (or failed) once, beyond the messages in flight at a kill.
package faults
