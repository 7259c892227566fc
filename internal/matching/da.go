package matching

// The two deferred-acceptance variants. Both return match: trainee index -> slot index, or
// -1 for an unmatched trainee. Both do O(1) amortised work per mutually acceptable pair, so
// they run in time linear in the size of the compiled instance.

// traineeProposing runs trainee-proposing deferred acceptance (Gale–Shapley, with
// capacities). Free trainees propose down their lists; a slot holds its best proposers up
// to capacity and rejects the rest.
//
// A slot records the trainees it holds as a bitmap over the positions of its acceptable
// list (held), plus the position of its worst holder (worst). While the slot has free
// seats, worst only grows with each new holder. Once full the slot stays full, and each
// accepted proposal evicts the worst holder and moves worst down to the next held
// position; since worst then only ever decreases, the scans cost at most the length of
// the slot's list in total.
func (c *Compiled) traineeProposing() []int32 {
	T, S := len(c.traineeNames), len(c.slotNames)
	match := make([]int32, T)
	next := make([]int32, T) // next[t]: index into tSlot of t's next proposal
	copy(next, c.tStart[:T])
	held := make([]bool, len(c.sTrainee))
	count := make([]int32, S)
	worst := make([]int32, S)
	for s := range worst {
		worst[s] = -1
	}

	for t0 := range T {
		match[t0] = -1
		t := int32(t0) // the trainee currently proposing; -1 when nobody is free
		for t >= 0 {
			i := next[t]
			if i == c.tStart[t+1] {
				break // t has exhausted their list and stays unmatched
			}
			next[t] = i + 1
			s, p := c.tSlot[i], c.tRank[i]
			base := c.sStart[s]
			switch {
			case count[s] < c.capacity[s]:
				held[base+p] = true
				count[s]++
				worst[s] = max(worst[s], p)
				match[t] = s
				t = -1
			case p < worst[s]:
				w := worst[s]
				evicted := c.sTrainee[base+w]
				held[base+w] = false
				held[base+p] = true
				for w--; !held[base+w]; w-- {
				}
				worst[s] = w
				match[t] = s
				match[evicted] = -1
				t = evicted
			}
			// Otherwise s rejects t, who proposes to their next slot.
		}
	}
	return match
}

// hostProposing runs slot-proposing deferred acceptance. A slot with free seats proposes
// down its list; a trainee holds the best offer so far and releases the slot they held,
// which then proposes again. Each slot's pointer only advances, so every acceptable pair
// is tried at most once.
func (c *Compiled) hostProposing() []int32 {
	T, S := len(c.traineeNames), len(c.slotNames)
	match := make([]int32, T) // slot held by each trainee, or -1
	heldPos := make([]int32, T)
	for t := range match {
		match[t] = -1
	}
	next := make([]int32, S) // next[s]: index into sTrainee of s's next proposal
	copy(next, c.sStart[:S])
	free := make([]int32, S)
	copy(free, c.capacity)

	// Slots that may still propose, lowest index on top.
	queued := make([]bool, S)
	stack := make([]int32, 0, S)
	for s := S - 1; s >= 0; s-- {
		if free[s] > 0 {
			stack = append(stack, int32(s))
			queued[s] = true
		}
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		queued[s] = false
		end := c.sStart[s+1]
		for free[s] > 0 && next[s] < end {
			i := next[s]
			next[s]++
			t, k := c.sTrainee[i], c.sPos[i]
			old := match[t]
			if old >= 0 && heldPos[t] < k {
				continue // t rejects s
			}
			match[t], heldPos[t] = s, k
			free[s]--
			if old >= 0 {
				free[old]++
				if !queued[old] {
					queued[old] = true
					stack = append(stack, old)
				}
			}
		}
	}
	return match
}
