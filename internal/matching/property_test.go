package matching

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPropertyStable solves thousands of random instances of small to medium size with
// both variants and checks that the results are stable matchings, that the trainee-optimal
// one is at least as good for every trainee as the host-optimal one, and that both match
// the same trainees and fill every slot equally.
func TestPropertyStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240601, 1))
	const instances = 3000
	matched, pairs := 0, 0
	for i := range instances {
		p := genParams{
			trainees: rng.IntN(120),
			slots:    rng.IntN(30),
			maxList:  1 + rng.IntN(10),
			maxCap:   rng.IntN(8),
			pRanked:  0.5 + rng.Float64()/2,
			pExtra:   rng.Float64() / 10,
			anti:     i%3 == 0,
		}
		in := randomInstance(rng, p)
		to := mustSolve(t, in, TraineeOptimal)
		ho := mustSolve(t, in, HostOptimal)
		if len(to.Match) != len(ho.Match) || !slices.Equal(to.Unmatched, ho.Unmatched) {
			t.Fatalf("instance %d: variants match different trainees: %v vs %v", i, to.Unmatched, ho.Unmatched)
		}
		for s := range in.Slots {
			if len(to.Assignments[s]) != len(ho.Assignments[s]) {
				t.Fatalf("instance %d: slot %q gets %d vs %d", i, s, len(to.Assignments[s]), len(ho.Assignments[s]))
			}
		}
		for tr, s := range to.Match {
			list := in.Trainees[tr]
			if slices.Index(list, s) > slices.Index(list, ho.Match[tr]) {
				t.Fatalf("instance %d: trainee %q prefers host-optimal %q to trainee-optimal %q", i, tr, ho.Match[tr], s)
			}
		}
		matched += len(to.Match)
		for _, l := range in.Trainees {
			pairs += len(l)
		}
	}
	t.Logf("checked %d random instances with both variants (%d list entries, %d trainees matched): all stable, same trainees matched",
		instances, pairs, matched)
}

// TestPropertyBruteForce enumerates every matching of thousands of small instances and
// checks the solver against the set of stable matchings: trainee-proposing gives every
// trainee their best stable partner, slot-proposing their worst, and every stable matching
// matches the same trainees, fills every slot equally and gives under-filled slots the same
// trainees (the rural hospitals theorem).
func TestPropertyBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240601, 2))
	const instances = 3000
	var matchings, stableTotal, differ int
	for i := range instances {
		p := genParams{
			trainees: 2 + rng.IntN(5), // 2..6
			slots:    1 + rng.IntN(4), // 1..4
			maxList:  4,
			maxCap:   2,
			pRanked:  0.8 + rng.Float64()*0.2,
			pExtra:   0.2,
		}
		if i%2 == 1 { // competitive: full lists, slots prefer who ranked them low
			p = genParams{
				trainees: 3 + rng.IntN(4), slots: 2 + rng.IntN(3), fullLists: true,
				minCap: 1, maxCap: 2, pRanked: 0.9 + rng.Float64()*0.1, anti: true,
			}
		}
		if i%10 == 0 { // some degenerate ones too
			p.trainees, p.slots = rng.IntN(3), rng.IntN(3)
		}
		in := randomInstance(rng, p)
		d := toDense(in)
		stable, total := d.stableMatchings()
		matchings += total
		stableTotal += len(stable)
		if len(stable) == 0 {
			t.Fatalf("instance %d has no stable matching: %+v", i, in)
		}

		to := d.fromResult(mustSolve(t, in, TraineeOptimal))
		ho := d.fromResult(mustSolve(t, in, HostOptimal))
		if !slices.Equal(to, ho) {
			differ++
		}
		if !slices.ContainsFunc(stable, func(m []int) bool { return slices.Equal(m, to) }) ||
			!slices.ContainsFunc(stable, func(m []int) bool { return slices.Equal(m, ho) }) {
			t.Fatalf("instance %d: a solver result is not among the stable matchings", i)
		}
		for _, m := range stable {
			for tr := range d.tn {
				if d.better(tr, m[tr], to[tr]) {
					t.Fatalf("instance %d: trainee %q gets %d in a stable matching but %d trainee-optimal\n%+v",
						i, d.tn[tr], m[tr], to[tr], in)
				}
				if d.better(tr, ho[tr], m[tr]) {
					t.Fatalf("instance %d: trainee %q gets %d in a stable matching but %d host-optimal\n%+v",
						i, d.tn[tr], m[tr], ho[tr], in)
				}
				if (m[tr] < 0) != (to[tr] < 0) {
					t.Fatalf("instance %d: trainee %q matched in some stable matchings only", i, d.tn[tr])
				}
			}
			for s := range d.sn {
				a, b := assignedTo(m, s), assignedTo(to, s)
				if len(a) != len(b) {
					t.Fatalf("instance %d: slot %q fills %d vs %d", i, d.sn[s], len(a), len(b))
				}
				if len(a) < d.cap[s] && !slices.Equal(a, b) {
					t.Fatalf("instance %d: under-filled slot %q gets %v vs %v", i, d.sn[s], a, b)
				}
			}
		}
	}
	t.Logf("brute-forced %d small instances: %d matchings enumerated, %d stable; variants differ on %d instances",
		instances, matchings, stableTotal, differ)
}

func assignedTo(m []int, s int) []int {
	var out []int
	for t, x := range m {
		if x == s {
			out = append(out, t)
		}
	}
	return out
}
