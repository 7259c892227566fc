// Package clock carries the request's clock in its context, so that rules which depend on
// today's date (the privacy policies of working groups and memberships, evaluated deep
// inside ent) read the same clock as the services: the server's injected Now for a
// request, the job runner's for a job, the test clock in tests. Everything else still
// takes an injected `now func() time.Time`; this is only for code that has nothing but a
// context.
package clock
