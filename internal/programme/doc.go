// Package programme owns the observership programme: calls for applications (their
// rules and their status, which staff move on one checked step at a time), the slots host
// centres offer in a call (proposed by the centre's coordinators, approved by staff), and
// later the applications, their documents, review and host rankings.
//
// Reads are decided by the ent privacy policies (internal/access): drafts are for staff,
// approved slots of an open call are public. This package decides who may write, checks
// every input and state before anything is written (user errors change nothing), and
// queues the emails of each change in the same transaction.
package programme
