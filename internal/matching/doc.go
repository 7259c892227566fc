// Package matching is a stable-matching engine for the hospitals/residents problem with
// capacities: trainees rank slots, each slot has a capacity and ranks trainees, and the
// engine assigns each trainee at most one slot. It is pure Go and needs no database.
//
// # Rules
//
// A trainee and a slot can be matched only if both list each other ("mutually
// acceptable"). A slot listed by a trainee that does not rank that trainee is simply not
// available to them; a trainee ranked by a slot they did not list is ignored. A slot with
// capacity 0 takes nobody. Empty preference lists are allowed; such trainees stay
// unmatched. Every name used in a list must be defined, no list may name anyone twice, and
// capacities must not be negative: [Solve] refuses such an instance with an [*InputError]
// naming the problem.
//
// # Guarantees
//
//   - Stable: in the result there is no trainee and slot that would both rather be
//     together: no mutually acceptable pair where the trainee is unmatched or prefers the
//     slot to their own, and the slot has a free seat or ranks the trainee above one of the
//     trainees it got. [Verify] checks this independently of the solver.
//   - Trainee-optimal by default: [TraineeOptimal] (trainee-proposing deferred acceptance)
//     gives every trainee the best slot they can have in any stable matching, so no
//     trainee gains by misreporting their preferences. [HostOptimal] (slot-proposing) gives
//     the stable matching that is best for the slots and worst for the trainees.
//   - Same trainees matched either way: every stable matching of an instance matches the
//     same set of trainees and fills each slot with the same number of trainees (the
//     "rural hospitals" theorem); a slot left with empty seats gets the same trainees in
//     every stable matching. The two variants differ only in who goes where.
//   - Deterministic: the same instance always gives the same result, whatever the order in
//     which its maps were built. Names are processed in sorted order and every list in a
//     [Result] is sorted.
//   - Fast: time and memory grow linearly with the total length L of all preference lists
//     plus the number of trainees and slots, apart from an O(n log n) sort of the names.
//     There is no trainees×slots table: names are translated once to dense indices, and
//     only mutually acceptable pairs are kept, in flat arrays. A slot keeps the trainees it
//     holds in a bitmap over its own ranking and remembers its worst holder, so accepting
//     or rejecting a proposal costs amortised O(1) (no heap needed). With 50,000 trainees,
//     5,000 slots and lists of up to 15 slots, deferred acceptance itself takes a few
//     milliseconds; solving and verifying from names takes under a tenth of a second on
//     two cores, most of it spent reading and looking up the names.
//
// # Use
//
// [Solve] takes an [Instance] keyed by names. To solve the same instance more than once
// (for example both variants), [Compile] it once and call [Compiled.Solve]. [Explain]
// says, slot by slot, why a trainee did not get a slot they preferred. [RunSolveCLI] reads
// an instance as JSON and writes the result as JSON, for the command line.
package matching
