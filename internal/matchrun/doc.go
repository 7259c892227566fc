// Package matchrun turns a call's preferences into a schedule: it freezes the input of a
// match from the database (trainees' slot lists from their ranked hosts, availability and
// preferred length; hosts' rankings; approved slot capacities; staff pins and exclusions)
// with its hash, runs the engine (internal/matching) and its verifier, records every run,
// compares runs, computes their statistics and explains each application's outcome, and
// publishes one real run per call: the call becomes MATCHED, every assignment an OFFERED
// placement created as the staff member who publishes, and every party is emailed in the
// same transaction. A run's states are the pure table of states.go (NextRunState). What
// happens to a placement afterwards is internal/placement's; who may run, see and publish
// a match is written once in internal/access/placements.go.
package matchrun
