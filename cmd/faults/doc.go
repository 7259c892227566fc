// Command faults runs the process-level fault scenarios against a built coalition binary
// (`make faults`) and prints, as its last line,
//
//	faults: lost=L duplicated=D in-flight=F scenarios=N stall_max=S s
//
// It exits 1 when a scenario missed a target (a lost email, more duplicates than the
// outbox's concurrency, a stall over its limit) and 2 on bad arguments.
package main
