// Package programme owns the observership programme: calls for applications (their
// rules and their status, which staff move on one checked step at a time), the slots host
// centres offer in a call (proposed by the centre's coordinators, approved by staff), and
// later the applications, their documents, review and host rankings.
//
// Who may do what is decided by the named predicates of internal/access/programme.go
// (CanRunCalls, CanOfferSlots, CanApply, CanEditApplication, …), which the services ask
// first and the ent privacy policies are built on; reads on a person's behalf are made as
// that person, facts they may not read with viewer.ForFacts, and only the jobs act as the
// system. This package checks every input and state (the transition tables states_*.go)
// before anything is written (user errors change nothing), and queues the emails of each
// change in the same transaction.
package programme
