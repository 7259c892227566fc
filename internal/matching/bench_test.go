package matching

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchInstance builds an NRMP-like instance: every trainee lists 1..maxList distinct
// random slots, capacities are 1..maxCap (so total capacity is about the number of
// trainees when maxCap ≈ 2·trainees/slots), and every slot ranks all trainees who listed
// it, in random order.
func benchInstance(trainees, slots, maxList, maxCap int) Instance {
	rng := rand.New(rand.NewPCG(42, uint64(trainees)))
	tn := make([]string, trainees)
	for i := range tn {
		tn[i] = fmt.Sprintf("t%06d", i)
	}
	sn := make([]string, slots)
	for i := range sn {
		sn[i] = fmt.Sprintf("s%05d", i)
	}
	in := Instance{Trainees: make(map[string][]string, trainees), Slots: make(map[string]Slot, slots)}
	rankings := make([][]string, slots)
	for _, t := range tn {
		n := 1 + rng.IntN(min(maxList, slots))
		list := make([]string, 0, n)
		picked := make([]int, 0, n)
	pick:
		for len(list) < n {
			s := rng.IntN(slots)
			for _, p := range picked {
				if p == s {
					continue pick
				}
			}
			picked = append(picked, s)
			list = append(list, sn[s])
			rankings[s] = append(rankings[s], t)
		}
		in.Trainees[t] = list
	}
	for s, name := range sn {
		r := rankings[s]
		rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		in.Slots[name] = Slot{Capacity: 1 + rng.IntN(maxCap), Ranking: r}
	}
	return in
}

var benchCases = []struct {
	name                             string
	trainees, slots, maxList, maxCap int
}{
	{"nrmp", 50_000, 5_000, 15, 19},
	{"1000x200", 1_000, 200, 15, 9},
}

// BenchmarkSolveVerify is the whole path from names: Solve (validation, name compilation,
// deferred acceptance, result with names) plus Verify (its own validation and checks).
func BenchmarkSolveVerify(b *testing.B) {
	for _, bc := range benchCases {
		in := benchInstance(bc.trainees, bc.slots, bc.maxList, bc.maxCap)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r, err := Solve(in, TraineeOptimal)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := Verify(in, r); err != nil || n != 0 {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkSolve is Solve alone, from names to names.
func BenchmarkSolve(b *testing.B) {
	for _, bc := range benchCases {
		in := benchInstance(bc.trainees, bc.slots, bc.maxList, bc.maxCap)
		for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
			b.Run(bc.name+"/"+opt.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := Solve(in, opt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkVerify is Verify alone.
func BenchmarkVerify(b *testing.B) {
	for _, bc := range benchCases {
		in := benchInstance(bc.trainees, bc.slots, bc.maxList, bc.maxCap)
		r, err := Solve(in, TraineeOptimal)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if n, err := Verify(in, r); err != nil || n != 0 {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkCompile is validation and name compilation alone.
func BenchmarkCompile(b *testing.B) {
	for _, bc := range benchCases {
		in := benchInstance(bc.trainees, bc.slots, bc.maxList, bc.maxCap)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Compile(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompiledSolve is Compiled.Solve on an already compiled instance: deferred
// acceptance plus building the Result with names, but no validation or name lookups.
func BenchmarkCompiledSolve(b *testing.B) {
	for _, bc := range benchCases {
		c, err := Compile(benchInstance(bc.trainees, bc.slots, bc.maxList, bc.maxCap))
		if err != nil {
			b.Fatal(err)
		}
		for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
			b.Run(bc.name+"/"+opt.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := c.Solve(opt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDeferredAcceptance is the algorithm alone, on indices: no names at all.
func BenchmarkDeferredAcceptance(b *testing.B) {
	for _, bc := range benchCases {
		c, err := Compile(benchInstance(bc.trainees, bc.slots, bc.maxList, bc.maxCap))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name+"/trainee", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.traineeProposing()
			}
		})
		b.Run(bc.name+"/host", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.hostProposing()
			}
		})
	}
}
