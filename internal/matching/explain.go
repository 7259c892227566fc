package matching

import "fmt"

// ReasonCode says why a trainee did not get a slot they listed.
type ReasonCode string

// Reason codes.
const (
	// ReasonNoCapacity: the slot has capacity 0.
	ReasonNoCapacity ReasonCode = "NO_CAPACITY"
	// ReasonNotRanked: the slot did not rank the trainee.
	ReasonNotRanked ReasonCode = "NOT_RANKED"
	// ReasonFull: the slot is full, and its host ranked every trainee it got above this
	// one.
	ReasonFull ReasonCode = "FULL"
	// ReasonBlocking: the slot would have taken the trainee (it has a free seat, or got
	// someone it ranks lower), so the result is not stable. Never given for a result of
	// Solve.
	ReasonBlocking ReasonCode = "BLOCKING"
)

// Reason explains why a trainee did not get one slot.
type Reason struct {
	Slot string     `json:"slot"`
	Code ReasonCode `json:"code"`
	// Capacity is the slot's capacity and Assigned how many trainees it got.
	Capacity int `json:"capacity"`
	Assigned int `json:"assigned"`
	// RankedHigher is how many of the slot's assigned trainees its host ranked above this
	// trainee; for FULL, that is all of them. It is 0 for NO_CAPACITY and NOT_RANKED.
	RankedHigher int `json:"rankedHigher"`
	// Message says the same in words.
	Message string `json:"message"`
}

// Explain says why trainee did not get the slots they preferred in r, a result for in
// (normally from Solve). For an unmatched trainee it gives one Reason for every slot they
// listed, in their order; for a matched trainee, one for every slot they listed above the
// slot they got. A trainee with an empty list gets an empty slice.
//
// Explain reads only the trainee's list, the slots on it and r.Assignments; it does not
// validate the rest of in or r (use Verify for that). It returns an *InputError if
// trainee or a slot on their list is not defined in in, and an error if r assigns the
// trainee more than once or to a slot they did not list.
func Explain(in Instance, r Result, trainee string) ([]Reason, error) {
	return NewExplainer(in, r).Explain(trainee)
}

// Explainer explains the outcomes of many trainees in one result (every unmatched trainee
// of a published match), indexing the result once instead of once per trainee.
type Explainer struct {
	in     Instance
	r      Result
	slotOf map[string]string
	twice  map[string]bool
	// position[slot][trainee] is the trainee's index in the slot's ranking, built on first use.
	position map[string]map[string]int
}

// NewExplainer returns an Explainer of r, a result for in.
func NewExplainer(in Instance, r Result) *Explainer {
	x := &Explainer{in: in, r: r, slotOf: map[string]string{}, twice: map[string]bool{}, position: map[string]map[string]int{}}
	for slot, names := range r.Assignments {
		for _, name := range names {
			if _, ok := x.slotOf[name]; ok {
				x.twice[name] = true
			}
			x.slotOf[name] = slot
		}
	}
	return x
}

func (x *Explainer) positions(slotName string, slot Slot) map[string]int {
	if p, ok := x.position[slotName]; ok {
		return p
	}
	p := make(map[string]int, len(slot.Ranking))
	for i, name := range slot.Ranking {
		if _, seen := p[name]; !seen {
			p[name] = i
		}
	}
	x.position[slotName] = p
	return p
}

// Explain is Explain(in, r, trainee) for the Explainer's in and r.
func (x *Explainer) Explain(trainee string) ([]Reason, error) {
	in, r := x.in, x.r
	list, ok := in.Trainees[trainee]
	if !ok {
		return nil, inputErrorf("unknown trainee %q", trainee)
	}
	if x.twice[trainee] {
		return nil, fmt.Errorf("result assigns trainee %q more than once", trainee)
	}
	mine := x.slotOf[trainee]

	reasons := make([]Reason, 0, len(list))
	for _, slotName := range list {
		if slotName == mine {
			return reasons, nil
		}
		slot, ok := in.Slots[slotName]
		if !ok {
			return nil, inputErrorf("trainee %q lists unknown slot %q", trainee, slotName)
		}
		assigned := r.Assignments[slotName]
		reason := Reason{Slot: slotName, Capacity: slot.Capacity, Assigned: len(assigned)}

		// The trainees the host ranked above this one.
		pos := x.positions(slotName, slot)
		at, ranked := pos[trainee]
		if !ranked {
			at = len(slot.Ranking)
		}
		for _, name := range assigned {
			if p, ok := pos[name]; ok && p < at {
				reason.RankedHigher++
			}
		}

		switch {
		case slot.Capacity == 0:
			reason.Code = ReasonNoCapacity
			reason.RankedHigher = 0
			reason.Message = fmt.Sprintf("slot %q takes nobody (capacity 0)", slotName)
		case !ranked:
			reason.Code = ReasonNotRanked
			reason.RankedHigher = 0
			reason.Message = fmt.Sprintf("slot %q did not rank trainee %q", slotName, trainee)
		case len(assigned) >= slot.Capacity && reason.RankedHigher == len(assigned):
			reason.Code = ReasonFull
			reason.Message = fmt.Sprintf("slot %q is full: its host ranked all %d assigned trainees above trainee %q",
				slotName, len(assigned), trainee)
		case len(assigned) < slot.Capacity:
			reason.Code = ReasonBlocking
			reason.Message = fmt.Sprintf("slot %q has a free seat and ranks trainee %q: the result is not stable",
				slotName, trainee)
		default:
			reason.Code = ReasonBlocking
			reason.Message = fmt.Sprintf("slot %q ranks trainee %q above %d of its %d assigned trainees: the result is not stable",
				slotName, trainee, len(assigned)-reason.RankedHigher, len(assigned))
		}
		reasons = append(reasons, reason)
	}
	if mine != "" {
		return nil, fmt.Errorf("result assigns trainee %q to slot %q, which they did not list", trainee, mine)
	}
	return reasons, nil
}
