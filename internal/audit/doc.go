// Package audit owns the append-only audit trail: who did what to which object, when and
// from which request. Sign-ins and other explicit events are recorded with Record; every
// mutation made by a signed-in user is recorded by the ent hook that Install adds.
package audit
