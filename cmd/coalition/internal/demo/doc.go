// Package demo fills an empty database with a realistic, clearly fictional coalition
// (`coalition demo`): societies, host centres, trainees at every stage of two calls, a
// published match, working groups, a sent newsletter and published statements. Everything
// is built through the domain services, as the person who would do it, on a clock that
// starts at a fixed date and moves forward as the story needs, so every row is one the
// services could have written.
//
// It is not a domain but part of the command: it drives the assembled services (app.App)
// the way `coalition serve` wires them, with no HTTP or GraphQL of its own, so it lives
// under cmd/coalition (only that command can import it), above internal/app.
package demo
