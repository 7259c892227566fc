// Package access owns who may read and write what, written once: named predicates
// (Can…, ActsForCentre, …) that services call to refuse early, and the small ent privacy
// rules that every schema's Policy() is assembled from and that use the same predicates.
// One file per domain: policy.go (the building blocks and Require), users.go,
// directory.go, groups.go, meetings.go, programme.go, placements.go, campaigns.go.
//
// Deny by default: a policy whose rules all skip denies. Reads prefer filter rules (narrow
// the query to the viewer's own rows) over deny rules, because a deny on a nested edge
// would fail the whole root field (ARCHITECTURE §6.8).
package access
