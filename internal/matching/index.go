package matching

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// indexed is an Instance with names replaced by dense indices, validated.
// It is the parsing step shared by Compile and Verify; each builds its own structures on
// top of it.
type indexed struct {
	traineeNames []string // index -> name
	slotNames    []string // index -> name
	traineeID    map[string]int32
	slotID       map[string]int32
	capacity     []int // per slot, >= 0

	// Trainee t's list is prefSlot[prefStart[t]:prefStart[t+1]].
	prefStart, prefSlot []int32
	// Slot s's ranking is rankTrainee[rankStart[s]:rankStart[s+1]].
	rankStart, rankTrainee []int32
}

func (ix *indexed) prefs(t int) []int32 { return ix.prefSlot[ix.prefStart[t]:ix.prefStart[t+1]] }

func (ix *indexed) ranking(s int) []int32 {
	return ix.rankTrainee[ix.rankStart[s]:ix.rankStart[s+1]]
}

type named[V any] struct {
	name string
	v    V
}

// entries returns m's entries, sorted by key if sorted is set and in map order otherwise.
// If parallel is set, the sort uses two goroutines.
func entries[V any](m map[string]V, sorted, parallel bool) []named[V] {
	e := make([]named[V], 0, len(m))
	if !sorted {
		for k, v := range m {
			e = append(e, named[V]{k, v})
		}
		return e
	}
	keys := make([]prefixed, 0, len(m))
	for k := range m {
		keys = append(keys, prefixed{prefix(k), k})
	}
	keys = sortPrefixed(keys, parallel)
	for _, k := range keys {
		e = append(e, named[V]{k.s, m[k.s]})
	}
	return e
}

// sortPrefixed sorts keys, possibly in place, and returns the sorted slice. If parallel
// is set, it sorts the two halves concurrently and merges them.
func sortPrefixed(keys []prefixed, parallel bool) []prefixed {
	if !parallel || len(keys) < 1024 {
		slices.SortFunc(keys, comparePrefixed)
		return keys
	}
	a, b := keys[:len(keys)/2], keys[len(keys)/2:]
	both(true, func() { slices.SortFunc(a, comparePrefixed) }, func() { slices.SortFunc(b, comparePrefixed) })
	out := make([]prefixed, 0, len(keys))
	for len(a) > 0 && len(b) > 0 {
		if comparePrefixed(b[0], a[0]) < 0 {
			out = append(out, b[0])
			b = b[1:]
		} else {
			out = append(out, a[0])
			a = a[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// index validates in and numbers its names. The first problem found is returned as an
// *InputError: a negative capacity, then the trainees' lists (unknown or repeated slots),
// then the slots' rankings (unknown or repeated trainees).
//
// If sorted is set, names are numbered in sorted order and the problem reported is the
// first in that order, so both are deterministic. Otherwise names are numbered in map
// order, which saves the sort; a caller that needs a deterministic error must then index
// again, sorted, when it gets one.
func index(in Instance, sorted bool) (*indexed, error) {
	T, S := len(in.Trainees), len(in.Slots)
	ix := &indexed{
		traineeNames: make([]string, T),
		slotNames:    make([]string, S),
		traineeID:    make(map[string]int32, T),
		slotID:       make(map[string]int32, S),
		capacity:     make([]int, S),
		prefStart:    make([]int32, T+1),
		rankStart:    make([]int32, S+1),
	}
	// A large instance uses all cores: the trainee side and the slot side are numbered
	// concurrently, then the lists are translated in chunks (which only read the finished
	// name maps).
	workers := 1
	if T+S >= parallelThreshold {
		workers = min(runtime.GOMAXPROCS(0), maxWorkers)
	}

	var trainees []named[[]string]
	var slots []named[Slot]
	var prefLen, rankLen int
	var capErr error
	both(workers > 1, func() {
		trainees = entries(in.Trainees, sorted, workers > 1)
		for t, e := range trainees {
			ix.traineeNames[t] = e.name
			ix.traineeID[e.name] = int32(t)
			ix.prefStart[t] = int32(prefLen)
			prefLen += len(e.v)
		}
		ix.prefStart[T] = int32(prefLen)
	}, func() {
		slots = entries(in.Slots, sorted, false)
		for s, e := range slots {
			if e.v.Capacity < 0 && capErr == nil {
				capErr = inputErrorf("slot %q has negative capacity %d", e.name, e.v.Capacity)
			}
			ix.slotNames[s] = e.name
			ix.slotID[e.name] = int32(s)
			ix.capacity[s] = e.v.Capacity
			ix.rankStart[s] = int32(rankLen)
			rankLen += len(e.v.Ranking)
		}
		ix.rankStart[S] = int32(rankLen)
	})
	if capErr != nil {
		return nil, capErr
	}
	if max(T, S, prefLen, rankLen) > math.MaxInt32-1 {
		return nil, inputErrorf("instance too large")
	}

	// Worker w translates the w-th share of the trainees' lists, then the w-th share of
	// the slots' rankings. The error reported is the first in the sequential order: all
	// the lists, then all the rankings. A worker whose lists have an error can skip its
	// rankings, because that error or an earlier one wins.
	ix.prefSlot = make([]int32, prefLen)
	ix.rankTrainee = make([]int32, rankLen)
	tCut, sCut := cuts(ix.prefStart, workers), cuts(ix.rankStart, workers)
	prefErr, rankErr := make([]error, workers), make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		work := func() {
			prefErr[w] = ix.translatePrefs(trainees, tCut[w], tCut[w+1])
			if prefErr[w] == nil {
				rankErr[w] = ix.translateRankings(slots, sCut[w], sCut[w+1])
			}
		}
		if w == workers-1 {
			work()
		} else {
			wg.Go(work)
		}
	}
	wg.Wait()
	for _, errs := range [][]error{prefErr, rankErr} {
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	return ix, nil
}

// parallelThreshold is the number of trainees plus slots from which index uses more than
// one goroutine; below it the goroutines cost more than they save. A variable so that
// tests can compare both paths.
var parallelThreshold = 4096

// maxWorkers caps the goroutines index uses.
const maxWorkers = 8

// both runs a and b, concurrently if parallel is set, and returns when both are done.
func both(parallel bool, a, b func()) {
	if !parallel {
		a()
		b()
		return
	}
	var wg sync.WaitGroup
	wg.Go(b)
	a()
	wg.Wait()
}

// cuts splits the owners of a flat list array (start, as prefStart or rankStart) into n
// consecutive ranges with about equally many entries: range w is cut[w]..cut[w+1].
func cuts(start []int32, n int) []int {
	owners := len(start) - 1
	total := int(start[owners])
	cut := make([]int, n+1)
	for w := 1; w < n; w++ {
		i, _ := slices.BinarySearch(start[:owners], int32(total*w/n))
		cut[w] = max(i, cut[w-1])
	}
	cut[n] = owners
	return cut
}

// translatePrefs translates the lists of trainees from..to-1 into prefSlot, reporting
// the first unknown or repeated slot.
func (ix *indexed) translatePrefs(trainees []named[[]string], from, to int) error {
	seen := make([]int32, len(ix.slotNames)) // seen[s] == t+1: t's list names s
	for t := from; t < to; t++ {
		e := trainees[t]
		out := ix.prefSlot[ix.prefStart[t]:ix.prefStart[t+1]]
		for k, name := range e.v {
			s, ok := ix.slotID[name]
			if !ok {
				return inputErrorf("trainee %q lists unknown slot %q", e.name, name)
			}
			if seen[s] == int32(t)+1 {
				return inputErrorf("trainee %q lists slot %q more than once", e.name, name)
			}
			seen[s] = int32(t) + 1
			out[k] = s
		}
	}
	return nil
}

// translateRankings translates the rankings of slots from..to-1 into rankTrainee,
// reporting the first unknown or repeated trainee.
func (ix *indexed) translateRankings(slots []named[Slot], from, to int) error {
	seen := make([]int32, len(ix.traineeNames)) // seen[t] == s+1: s's ranking names t
	for s := from; s < to; s++ {
		e := slots[s]
		out := ix.rankTrainee[ix.rankStart[s]:ix.rankStart[s+1]]
		for r, name := range e.v.Ranking {
			t, ok := ix.traineeID[name]
			if !ok {
				return inputErrorf("slot %q ranks unknown trainee %q", e.name, name)
			}
			if seen[t] == int32(s)+1 {
				return inputErrorf("slot %q ranks trainee %q more than once", e.name, name)
			}
			seen[t] = int32(s) + 1
			out[r] = t
		}
	}
	return nil
}

// prefixed is a string with its first 8 bytes as a big-endian integer (zero-padded), so
// that most comparisons while sorting are one integer comparison.
type prefixed struct {
	pre uint64
	s   string
}

func prefix(s string) uint64 {
	var p uint64
	for i := range 8 {
		p <<= 8
		if i < len(s) {
			p |= uint64(s[i])
		}
	}
	return p
}

// comparePrefixed orders like strings.Compare: integers compare like the zero-padded byte
// prefixes, and equal prefixes fall back to the whole strings.
func comparePrefixed(a, b prefixed) int {
	if a.pre != b.pre {
		return cmp.Compare(a.pre, b.pre)
	}
	return strings.Compare(a.s, b.s)
}
