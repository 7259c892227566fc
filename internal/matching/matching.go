package matching

import (
	"fmt"
)

// Optimal selects which side the stable matching favours.
type Optimal int

const (
	// TraineeOptimal (the zero value) runs trainee-proposing deferred acceptance: every
	// trainee gets the best slot they can have in any stable matching.
	TraineeOptimal Optimal = iota
	// HostOptimal runs slot-proposing deferred acceptance: every slot gets the best
	// trainees it can have in any stable matching, and every trainee the worst slot.
	HostOptimal
)

// String returns "trainee", "host", or "Optimal(n)" for an undefined value.
func (o Optimal) String() string {
	switch o {
	case TraineeOptimal:
		return "trainee"
	case HostOptimal:
		return "host"
	}
	return fmt.Sprintf("Optimal(%d)", int(o))
}

// ParseOptimal parses "trainee" (or "", the default) and "host". Anything else is an
// *InputError.
func ParseOptimal(s string) (Optimal, error) {
	switch s {
	case "", "trainee":
		return TraineeOptimal, nil
	case "host":
		return HostOptimal, nil
	}
	return 0, inputErrorf(`invalid optimal %q: want "trainee" or "host"`, s)
}

func (o Optimal) valid() bool { return o == TraineeOptimal || o == HostOptimal }

// Instance is a matching problem keyed by names. Trainee names and slot names are separate
// namespaces.
type Instance struct {
	// Trainees maps each trainee to the slots they would accept, most preferred first.
	Trainees map[string][]string
	// Slots maps each slot to its capacity and ranking.
	Slots map[string]Slot
}

// Slot is one host position.
type Slot struct {
	// Capacity is how many trainees the slot takes; 0 takes nobody, negative is invalid.
	Capacity int
	// Ranking lists the trainees the slot would accept, most preferred first.
	Ranking []string
}

// Result is a matching, keyed by names.
type Result struct {
	// Assignments maps every slot of the instance to the trainees assigned to it, sorted.
	// A slot that got nobody maps to an empty, non-nil slice.
	Assignments map[string][]string `json:"assignments"`
	// Unmatched lists, sorted, every trainee that got no slot, including trainees with
	// empty lists. It is empty, not nil, when everyone is matched.
	Unmatched []string `json:"unmatched"`
	// Match maps every matched trainee to their slot; unmatched trainees are absent. It
	// is derived from Assignments and may be nil in a Result built by hand.
	Match map[string]string `json:"-"`
}

// InputError reports an invalid instance or malformed input. Its message names the
// offending trainee, slot or field, and is safe to show to whoever wrote the input.
type InputError struct {
	// Msg describes the problem.
	Msg string
	// Err is the underlying cause, such as a JSON syntax error; it may be nil.
	Err error
}

func (e *InputError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the underlying cause, if any.
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) *InputError {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Solve validates in and returns its stable matching favouring opt's side. An invalid
// instance (see the package documentation) gives an *InputError naming the problem; an
// undefined opt gives an *InputError too. Solve is Compile followed by Compiled.Solve.
func Solve(in Instance, opt Optimal) (Result, error) {
	if !opt.valid() {
		return Result{}, inputErrorf("invalid optimal %v", opt)
	}
	c, err := Compile(in)
	if err != nil {
		return Result{}, err
	}
	return c.Solve(opt)
}

// Compiled is a validated instance translated to dense integer indices: names are numbered
// in sorted order and only mutually acceptable pairs are kept. It is immutable, so
// Compiled.Solve may be called any number of times, also concurrently.
type Compiled struct {
	traineeNames []string // index -> name, sorted
	slotNames    []string // index -> name, sorted

	// capacity[s] is min(declared capacity, len of s's acceptable list).
	capacity []int32

	// Trainee t's mutually acceptable slots, in t's order, are tSlot[tStart[t]:tStart[t+1]];
	// tRank holds, aligned with tSlot, t's position in that slot's acceptable list.
	tStart, tSlot, tRank []int32

	// Slot s's mutually acceptable trainees, in s's order, are sTrainee[sStart[s]:sStart[s+1]];
	// sPos holds, aligned with sTrainee, s's position in that trainee's original list.
	sStart, sTrainee, sPos []int32
}

// Compile validates in and translates it for Compiled.Solve. Errors are *InputError, as
// for Solve. Compile takes time and memory linear in the total length of the lists, plus
// sorting the names.
func Compile(in Instance) (*Compiled, error) {
	ix, err := index(in, true)
	if err != nil {
		return nil, err
	}
	T, S := len(ix.traineeNames), len(ix.slotNames)
	L := len(ix.prefSlot)

	// Bucket the trainees' list entries by slot: entries bFlat[bStart[s]:bStart[s+1]] are
	// the positions in prefSlot that name s, in trainee order.
	bStart := make([]int32, S+1)
	for _, s := range ix.prefSlot {
		bStart[s+1]++
	}
	for s := range S {
		bStart[s+1] += bStart[s]
	}
	next := make([]int32, S)
	copy(next, bStart[:S])
	bFlat := make([]int32, L)
	bOwner := make([]int32, L)
	for t := range T {
		for i := ix.prefStart[t]; i < ix.prefStart[t+1]; i++ {
			s := ix.prefSlot[i]
			p := next[s]
			next[s]++
			bFlat[p] = i
			bOwner[p] = int32(t)
		}
	}

	// For each slot, mark the trainees who list it, then walk its ranking: a ranked
	// trainee who is marked is mutually acceptable. rankOf[i] becomes the position of
	// prefSlot[i]'s trainee in that slot's acceptable list, or -1.
	rankOf := make([]int32, L)
	for i := range rankOf {
		rankOf[i] = -1
	}
	mark := make([]int32, T)  // mark[t] == s+1: t lists s
	where := make([]int32, T) // where[t]: flat index in prefSlot of s in t's list
	c := &Compiled{
		traineeNames: ix.traineeNames,
		slotNames:    ix.slotNames,
		capacity:     make([]int32, S),
		sStart:       make([]int32, S+1),
	}
	// Upper bound on the number of mutually acceptable pairs.
	acc := min(L, len(ix.rankTrainee))
	c.sTrainee = make([]int32, 0, acc)
	c.sPos = make([]int32, 0, acc)
	for s := range S {
		c.sStart[s] = int32(len(c.sTrainee))
		if ix.capacity[s] == 0 {
			continue
		}
		for p := bStart[s]; p < bStart[s+1]; p++ {
			t := bOwner[p]
			mark[t] = int32(s) + 1
			where[t] = bFlat[p]
		}
		for _, t := range ix.ranking(s) {
			if mark[t] != int32(s)+1 {
				continue
			}
			i := where[t]
			rankOf[i] = int32(len(c.sTrainee)) - c.sStart[s]
			c.sTrainee = append(c.sTrainee, t)
			c.sPos = append(c.sPos, i-ix.prefStart[t])
		}
		n := int32(len(c.sTrainee)) - c.sStart[s]
		c.capacity[s] = int32(min(ix.capacity[s], int(n)))
	}
	c.sStart[S] = int32(len(c.sTrainee))

	// Keep only the acceptable entries of the trainees' lists.
	c.tStart = make([]int32, T+1)
	c.tSlot = make([]int32, 0, len(c.sTrainee))
	c.tRank = make([]int32, 0, len(c.sTrainee))
	for t := range T {
		c.tStart[t] = int32(len(c.tSlot))
		for i := ix.prefStart[t]; i < ix.prefStart[t+1]; i++ {
			if r := rankOf[i]; r >= 0 {
				c.tSlot = append(c.tSlot, ix.prefSlot[i])
				c.tRank = append(c.tRank, r)
			}
		}
	}
	c.tStart[T] = int32(len(c.tSlot))
	return c, nil
}

// Solve returns the stable matching favouring opt's side. The only error is an
// *InputError for an undefined opt.
func (c *Compiled) Solve(opt Optimal) (Result, error) {
	var match []int32
	switch opt {
	case TraineeOptimal:
		match = c.traineeProposing()
	case HostOptimal:
		match = c.hostProposing()
	default:
		return Result{}, inputErrorf("invalid optimal %v", opt)
	}
	return c.result(match), nil
}

// result translates match (trainee index -> slot index or -1) to names.
func (c *Compiled) result(match []int32) Result {
	S := len(c.slotNames)
	fill := make([]int32, S+1)
	matched := 0
	for _, s := range match {
		if s >= 0 {
			fill[s+1]++
			matched++
		}
	}
	for s := range S {
		fill[s+1] += fill[s]
	}
	// One backing array for all the slots' lists; trainees are visited in index order,
	// which is name order, so every list comes out sorted.
	backing := make([]string, matched)
	next := make([]int32, S)
	copy(next, fill[:S])
	r := Result{
		Assignments: make(map[string][]string, S),
		Unmatched:   make([]string, 0, len(match)-matched),
		Match:       make(map[string]string, matched),
	}
	for t, s := range match {
		name := c.traineeNames[t]
		if s < 0 {
			r.Unmatched = append(r.Unmatched, name)
			continue
		}
		backing[next[s]] = name
		next[s]++
		r.Match[name] = c.slotNames[s]
	}
	for s, name := range c.slotNames {
		r.Assignments[name] = backing[fill[s]:fill[s+1]:fill[s+1]]
	}
	return r
}
