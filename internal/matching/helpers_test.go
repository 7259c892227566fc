package matching

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
)

// genParams shapes a random instance.
type genParams struct {
	trainees, slots int
	maxList         int     // a trainee lists 0..maxList slots
	minCap, maxCap  int     // capacities are minCap..maxCap
	fullLists       bool    // every trainee lists every slot
	pRanked         float64 // chance that a slot ranks a trainee who listed it
	pExtra          float64 // chance that a slot ranks a trainee who did not list it
	// anti makes slots prefer the trainees who ranked them low, which gives instances
	// with many stable matchings.
	anti bool
}

// randomInstance builds a random valid instance, with one-sided entries on both sides.
func randomInstance(rng *rand.Rand, p genParams) Instance {
	in := Instance{Trainees: map[string][]string{}, Slots: map[string]Slot{}}
	tn := make([]string, p.trainees)
	for i := range tn {
		tn[i] = fmt.Sprintf("t%d", i)
	}
	sn := make([]string, p.slots)
	for i := range sn {
		sn[i] = fmt.Sprintf("s%d", i)
	}
	listers := make([][]string, p.slots)
	for _, t := range tn {
		n := 0
		if p.slots > 0 {
			n = rng.IntN(min(p.maxList, p.slots) + 1)
		}
		if p.fullLists {
			n = p.slots
		}
		perm := rng.Perm(p.slots)[:n]
		list := make([]string, n)
		for k, s := range perm {
			list[k] = sn[s]
			listers[s] = append(listers[s], t)
		}
		in.Trainees[t] = list
	}
	for s, name := range sn {
		var ranking []string
		for _, t := range listers[s] {
			if rng.Float64() < p.pRanked {
				ranking = append(ranking, t)
			}
		}
		for _, t := range tn {
			if !slices.Contains(listers[s], t) && rng.Float64() < p.pExtra {
				ranking = append(ranking, t)
			}
		}
		rng.Shuffle(len(ranking), func(i, j int) { ranking[i], ranking[j] = ranking[j], ranking[i] })
		if p.anti {
			score := map[string]float64{}
			for _, t := range ranking {
				score[t] = float64(slices.Index(in.Trainees[t], name)) + 1.5*rng.Float64()
			}
			slices.SortStableFunc(ranking, func(a, b string) int { return cmp.Compare(score[b], score[a]) })
		}
		in.Slots[name] = Slot{Capacity: p.minCap + rng.IntN(p.maxCap-p.minCap+1), Ranking: ranking}
	}
	return in
}

// dense is a small instance as dense tables, for brute force and naive checks. Only for
// tests on small instances.
type dense struct {
	tn, sn []string
	cap    []int
	tPos   [][]int // tPos[t][s]: position of s in t's list, or -1
	sRank  [][]int // sRank[s][t]: rank of t in s's ranking, or -1
}

func toDense(in Instance) dense {
	d := dense{}
	for t := range in.Trainees {
		d.tn = append(d.tn, t)
	}
	for s := range in.Slots {
		d.sn = append(d.sn, s)
	}
	slices.Sort(d.tn)
	slices.Sort(d.sn)
	tid := map[string]int{}
	for i, t := range d.tn {
		tid[t] = i
	}
	sid := map[string]int{}
	for i, s := range d.sn {
		sid[s] = i
	}
	d.tPos = make([][]int, len(d.tn))
	for t, name := range d.tn {
		d.tPos[t] = make([]int, len(d.sn))
		for s := range d.tPos[t] {
			d.tPos[t][s] = -1
		}
		for k, s := range in.Trainees[name] {
			d.tPos[t][sid[s]] = k
		}
	}
	d.sRank = make([][]int, len(d.sn))
	d.cap = make([]int, len(d.sn))
	for s, name := range d.sn {
		d.cap[s] = in.Slots[name].Capacity
		d.sRank[s] = make([]int, len(d.tn))
		for t := range d.sRank[s] {
			d.sRank[s][t] = -1
		}
		for r, t := range in.Slots[name].Ranking {
			d.sRank[s][tid[t]] = r
		}
	}
	return d
}

func (d dense) acceptable(t, s int) bool {
	return d.tPos[t][s] >= 0 && d.sRank[s][t] >= 0 && d.cap[s] > 0
}

// blocking counts the blocking pairs of m (trainee -> slot or -1) the naive way.
func (d dense) blocking(m []int) int {
	load := make([]int, len(d.sn))
	worst := make([]int, len(d.sn))
	for s := range worst {
		worst[s] = -1
	}
	for t, s := range m {
		if s >= 0 {
			load[s]++
			worst[s] = max(worst[s], d.sRank[s][t])
		}
	}
	n := 0
	for t := range d.tn {
		for s := range d.sn {
			if !d.acceptable(t, s) {
				continue
			}
			prefers := m[t] < 0 || d.tPos[t][s] < d.tPos[t][m[t]]
			wants := load[s] < d.cap[s] || d.sRank[s][t] < worst[s]
			if prefers && wants {
				n++
			}
		}
	}
	return n
}

// allMatchings calls f with every matching (capacities and acceptability respected).
func (d dense) allMatchings(f func(m []int)) {
	m := make([]int, len(d.tn))
	load := make([]int, len(d.sn))
	var rec func(t int)
	rec = func(t int) {
		if t == len(d.tn) {
			f(m)
			return
		}
		m[t] = -1
		rec(t + 1)
		for s := range d.sn {
			if d.acceptable(t, s) && load[s] < d.cap[s] {
				m[t] = s
				load[s]++
				rec(t + 1)
				load[s]--
			}
		}
		m[t] = -1
	}
	rec(0)
}

// stableMatchings enumerates all matchings and keeps the stable ones.
func (d dense) stableMatchings() (stable [][]int, total int) {
	d.allMatchings(func(m []int) {
		total++
		if d.blocking(m) == 0 {
			stable = append(stable, slices.Clone(m))
		}
	})
	return stable, total
}

// fromResult converts r to trainee -> slot index.
func (d dense) fromResult(r Result) []int {
	sid := map[string]int{}
	for i, s := range d.sn {
		sid[s] = i
	}
	m := make([]int, len(d.tn))
	for t, name := range d.tn {
		m[t] = -1
		if s, ok := r.Match[name]; ok {
			m[t] = sid[s]
		}
	}
	return m
}

// toResult converts m to a Result.
func (d dense) toResult(m []int) Result {
	r := Result{Assignments: map[string][]string{}, Unmatched: []string{}, Match: map[string]string{}}
	for _, s := range d.sn {
		r.Assignments[s] = []string{}
	}
	for t, s := range m {
		if s < 0 {
			r.Unmatched = append(r.Unmatched, d.tn[t])
			continue
		}
		r.Assignments[d.sn[s]] = append(r.Assignments[d.sn[s]], d.tn[t])
		r.Match[d.tn[t]] = d.sn[s]
	}
	return r
}

// better reports whether trainee t prefers slot a to slot b (-1: unmatched).
func (d dense) better(t, a, b int) bool {
	if a < 0 {
		return false
	}
	if b < 0 {
		return true
	}
	return d.tPos[t][a] < d.tPos[t][b]
}
