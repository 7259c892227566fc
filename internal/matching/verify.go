package matching

import (
	"fmt"
	"maps"
	"slices"
)

// Verify checks r against in, independently of the solver, and counts r's blocking pairs.
//
// It returns an error, and no count, if in is invalid (an *InputError, as from Solve) or
// if r is not a matching of in: a name r uses that in does not define, a trainee assigned
// more than once, a slot over capacity, an assigned pair that is not mutually acceptable,
// an Unmatched list that is not exactly the trainees without a slot, or a Match map (when
// present) that disagrees with Assignments. A slot missing from Assignments counts as
// having nobody.
//
// Otherwise it returns the number of blocking pairs: mutually acceptable (trainee, slot)
// pairs where the trainee is unmatched or prefers the slot to their own, and the slot has
// a free seat or ranks the trainee above its worst assigned trainee. r is stable exactly
// when that number is 0.
//
// Verify runs in time linear in the size of in and r. Only when it finds a problem does it
// sort the names and check again, so that the problem it reports is deterministic: the
// first in name order.
func Verify(in Instance, r Result) (blockingPairs int, err error) {
	// Numbering names in map order saves sorting them. The count does not depend on the
	// numbering, but which of several problems is reported first does, so on an error
	// verify again in sorted order to report a deterministic one.
	n, err := verify(in, r, false)
	if err != nil {
		n, err = verify(in, r, true)
	}
	return n, err
}

// verify is Verify, with names numbered and checked in sorted order if sorted is set.
func verify(in Instance, r Result, sorted bool) (blockingPairs int, err error) {
	ix, err := index(in, sorted)
	if err != nil {
		return 0, err
	}
	T, S := len(ix.traineeNames), len(ix.slotNames)

	// Who is assigned where, from Assignments, checked slot by slot.
	assigned := make([]int32, T) // slot index, or -1
	for t := range assigned {
		assigned[t] = -1
	}
	load := make([]int, S)
	nAssigned := 0
	for _, slotName := range keys(r.Assignments, sorted) {
		s, ok := ix.slotID[slotName]
		if !ok {
			return 0, fmt.Errorf("result assigns trainees to unknown slot %q", slotName)
		}
		for _, name := range r.Assignments[slotName] {
			t, ok := ix.traineeID[name]
			if !ok {
				return 0, fmt.Errorf("result assigns unknown trainee %q to slot %q", name, slotName)
			}
			if prev := assigned[t]; prev >= 0 {
				return 0, fmt.Errorf("trainee %q is assigned more than once (to slot %q and to slot %q)",
					name, ix.slotNames[prev], slotName)
			}
			assigned[t] = s
			load[s]++
			nAssigned++
		}
		if load[s] > ix.capacity[s] {
			return 0, fmt.Errorf("slot %q has %d trainees assigned but capacity %d",
				slotName, load[s], ix.capacity[s])
		}
	}

	if r.Match != nil {
		if len(r.Match) != nAssigned {
			return 0, fmt.Errorf("result's Match has %d trainees but Assignments has %d", len(r.Match), nAssigned)
		}
		for _, name := range keys(r.Match, sorted) {
			t, ok := ix.traineeID[name]
			if !ok || assigned[t] < 0 || ix.slotNames[assigned[t]] != r.Match[name] {
				return 0, fmt.Errorf("result's Match says trainee %q has slot %q, which Assignments does not", name, r.Match[name])
			}
		}
	}

	// Unmatched must be exactly the trainees not assigned.
	inUnmatched := make([]bool, T)
	for _, name := range r.Unmatched {
		t, ok := ix.traineeID[name]
		switch {
		case !ok:
			return 0, fmt.Errorf("result lists unknown trainee %q as unmatched", name)
		case inUnmatched[t]:
			return 0, fmt.Errorf("result lists trainee %q as unmatched more than once", name)
		case assigned[t] >= 0:
			return 0, fmt.Errorf("result lists trainee %q as unmatched but assigns them to slot %q",
				name, ix.slotNames[assigned[t]])
		}
		inUnmatched[t] = true
	}
	for t := range T {
		if assigned[t] < 0 && !inUnmatched[t] {
			return 0, fmt.Errorf("trainee %q is neither assigned nor listed as unmatched", ix.traineeNames[t])
		}
	}

	// mine[t]: position of t's assigned slot in t's list; len(list) if unmatched, so that
	// every listed slot counts as preferred.
	mine := make([]int32, T)
	for t := range T {
		list := ix.prefs(t)
		if assigned[t] < 0 {
			mine[t] = int32(len(list))
			continue
		}
		k := slices.Index(list, assigned[t])
		if k < 0 {
			return 0, fmt.Errorf("trainee %q is assigned to slot %q, which they did not list",
				ix.traineeNames[t], ix.slotNames[assigned[t]])
		}
		mine[t] = int32(k)
	}

	// Invert the trainees' lists: listers[lStart[s]:lStart[s+1]] are (trainee, position)
	// pairs for every trainee listing s.
	type lister struct{ t, k int32 }
	lStart := make([]int, S+1)
	for _, s := range ix.prefSlot {
		lStart[s+1]++
	}
	for s := range S {
		lStart[s+1] += lStart[s]
	}
	fillAt := slices.Clone(lStart[:S])
	listers := make([]lister, len(ix.prefSlot))
	for t := range T {
		for k, s := range ix.prefs(t) {
			listers[fillAt[s]] = lister{int32(t), int32(k)}
			fillAt[s]++
		}
	}

	// Slot by slot: rank its trainees, find its worst assigned trainee, then test every
	// trainee who lists it.
	rankBy := make([]int32, T) // rankBy[t] == s+1: s ranks t, at rank[t]
	rank := make([]int32, T)
	for s := range S {
		for r, t := range ix.ranking(s) {
			rankBy[t] = int32(s) + 1
			rank[t] = int32(r)
		}
		worstRank := int32(-1)
		for _, l := range listers[lStart[s]:lStart[s+1]] {
			if assigned[l.t] != int32(s) {
				continue
			}
			if rankBy[l.t] != int32(s)+1 {
				return 0, fmt.Errorf("trainee %q is assigned to slot %q, which does not rank them",
					ix.traineeNames[l.t], ix.slotNames[s])
			}
			worstRank = max(worstRank, rank[l.t])
		}
		// A pair blocks if the slot would take the trainee: a free seat admits anyone it
		// ranks, a full slot only those ranked above its worst assigned trainee.
		threshold := worstRank
		if load[s] < ix.capacity[s] {
			threshold = int32(len(ix.ranking(s)))
		}
		for _, l := range listers[lStart[s]:lStart[s+1]] {
			if rankBy[l.t] == int32(s)+1 && rank[l.t] < threshold && l.k < mine[l.t] {
				blockingPairs++
			}
		}
	}
	return blockingPairs, nil
}

// keys returns m's keys, sorted if sorted is set.
func keys[V any](m map[string]V, sorted bool) []string {
	k := slices.AppendSeq(make([]string, 0, len(m)), maps.Keys(m))
	if sorted {
		slices.Sort(k)
	}
	return k
}
