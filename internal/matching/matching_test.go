package matching

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func mustSolve(t *testing.T, in Instance, opt Optimal) Result {
	t.Helper()
	r, err := Solve(in, opt)
	if err != nil {
		t.Fatalf("Solve(%v): %v", opt, err)
	}
	n, err := Verify(in, r)
	if err != nil {
		t.Fatalf("Verify(%v): %v", opt, err)
	}
	if n != 0 {
		t.Fatalf("Solve(%v): %d blocking pairs", opt, n)
	}
	return r
}

func checkResult(t *testing.T, got Result, assignments map[string][]string, unmatched []string) {
	t.Helper()
	if !reflect.DeepEqual(got.Assignments, assignments) {
		t.Errorf("Assignments = %v, want %v", got.Assignments, assignments)
	}
	if !reflect.DeepEqual(got.Unmatched, unmatched) {
		t.Errorf("Unmatched = %#v, want %#v", got.Unmatched, unmatched)
	}
	match := map[string]string{}
	for s, ts := range assignments {
		for _, tr := range ts {
			match[tr] = s
		}
	}
	if !reflect.DeepEqual(got.Match, match) {
		t.Errorf("Match = %v, want %v", got.Match, match)
	}
}

func TestEmptyInstance(t *testing.T) {
	for _, in := range []Instance{{}, {Trainees: map[string][]string{}, Slots: map[string]Slot{}}} {
		for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
			r := mustSolve(t, in, opt)
			checkResult(t, r, map[string][]string{}, []string{})
		}
	}
}

func TestEmptyListsAndCapacityZero(t *testing.T) {
	in := Instance{
		Trainees: map[string][]string{"a": {}, "b": {"full", "zero"}, "c": {"zero"}, "d": nil},
		Slots: map[string]Slot{
			"zero":  {Capacity: 0, Ranking: []string{"b", "c"}},
			"full":  {Capacity: 1, Ranking: []string{"b"}},
			"empty": {Capacity: 3},
		},
	}
	for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
		r := mustSolve(t, in, opt)
		checkResult(t, r, map[string][]string{"zero": {}, "full": {"b"}, "empty": {}}, []string{"a", "c", "d"})
		if r.Assignments["zero"] == nil || r.Assignments["empty"] == nil {
			t.Errorf("empty assignment lists must be non-nil: %#v", r.Assignments)
		}
	}
}

func TestOneSided(t *testing.T) {
	// a lists s1, which does not rank a; s2 ranks b, who did not list s2.
	in := Instance{
		Trainees: map[string][]string{"a": {"s1", "s2"}, "b": {"s1"}},
		Slots: map[string]Slot{
			"s1": {Capacity: 2, Ranking: []string{"b"}},
			"s2": {Capacity: 2, Ranking: []string{"b", "a"}},
		},
	}
	for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
		r := mustSolve(t, in, opt)
		checkResult(t, r, map[string][]string{"s1": {"b"}, "s2": {"a"}}, []string{})
	}
	// Nobody acceptable at all.
	in = Instance{
		Trainees: map[string][]string{"a": {"s1"}, "b": {}},
		Slots:    map[string]Slot{"s1": {Capacity: 1, Ranking: []string{"b"}}},
	}
	for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
		r := mustSolve(t, in, opt)
		checkResult(t, r, map[string][]string{"s1": {}}, []string{"a", "b"})
	}
}

func TestInvalidInstances(t *testing.T) {
	tests := []struct {
		name string
		in   Instance
		want string
	}{
		{"unknown slot", Instance{
			Trainees: map[string][]string{"t1": {"s1", "s9"}},
			Slots:    map[string]Slot{"s1": {Capacity: 1}},
		}, `trainee "t1" lists unknown slot "s9"`},
		{"unknown trainee", Instance{
			Trainees: map[string][]string{"t1": {"s1"}},
			Slots:    map[string]Slot{"s1": {Capacity: 1, Ranking: []string{"t1", "t7"}}},
		}, `slot "s1" ranks unknown trainee "t7"`},
		{"ranked but not defined", Instance{
			Slots: map[string]Slot{"s1": {Capacity: 1, Ranking: []string{"ghost"}}},
		}, `slot "s1" ranks unknown trainee "ghost"`},
		{"duplicate slot", Instance{
			Trainees: map[string][]string{"t1": {"s1", "s2", "s1"}},
			Slots:    map[string]Slot{"s1": {Capacity: 1}, "s2": {Capacity: 1}},
		}, `trainee "t1" lists slot "s1" more than once`},
		{"duplicate trainee", Instance{
			Trainees: map[string][]string{"t1": {"s1"}, "t2": nil},
			Slots:    map[string]Slot{"s1": {Capacity: 1, Ranking: []string{"t2", "t1", "t2"}}},
		}, `slot "s1" ranks trainee "t2" more than once`},
		{"negative capacity", Instance{
			Slots: map[string]Slot{"s1": {Capacity: 1}, "s2": {Capacity: -3}},
		}, `slot "s2" has negative capacity -3`},
		{"first error in name order", Instance{
			Trainees: map[string][]string{"b": {"y"}, "a": {"x"}},
		}, `trainee "a" lists unknown slot "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 5 { // map order must not change which error is reported
				_, err := Solve(tc.in, TraineeOptimal)
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("Solve error = %v (%T), want *InputError", err, err)
				}
				if err.Error() != tc.want {
					t.Fatalf("Solve error = %q, want %q", err, tc.want)
				}
				if _, err := Verify(tc.in, Result{}); err == nil || err.Error() != tc.want {
					t.Fatalf("Verify error = %v, want %q", err, tc.want)
				}
			}
		})
	}
	if _, err := Solve(Instance{}, Optimal(7)); err == nil {
		t.Error("Solve with Optimal(7) succeeded")
	}
}

// classic is an instance whose trainee-optimal and host-optimal matchings differ.
func classic() Instance {
	return Instance{
		Trainees: map[string][]string{
			"t1": {"s1", "s2"},
			"t2": {"s2", "s1"},
			"t3": {"s1", "s2"},
		},
		Slots: map[string]Slot{
			"s1": {Capacity: 2, Ranking: []string{"t2", "t3", "t1"}},
			"s2": {Capacity: 1, Ranking: []string{"t1", "t2", "t3"}},
		},
	}
}

func TestTraineeVersusHostOptimal(t *testing.T) {
	in := classic()
	checkResult(t, mustSolve(t, in, TraineeOptimal),
		map[string][]string{"s1": {"t1", "t3"}, "s2": {"t2"}}, []string{})
	checkResult(t, mustSolve(t, in, HostOptimal),
		map[string][]string{"s1": {"t2", "t3"}, "s2": {"t1"}}, []string{})

	// The textbook 2×2 case: each side's first choices form a cycle.
	in = Instance{
		Trainees: map[string][]string{"a": {"x", "y"}, "b": {"y", "x"}},
		Slots: map[string]Slot{
			"x": {Capacity: 1, Ranking: []string{"b", "a"}},
			"y": {Capacity: 1, Ranking: []string{"a", "b"}},
		},
	}
	checkResult(t, mustSolve(t, in, TraineeOptimal), map[string][]string{"x": {"a"}, "y": {"b"}}, []string{})
	checkResult(t, mustSolve(t, in, HostOptimal), map[string][]string{"x": {"b"}, "y": {"a"}}, []string{})
}

func TestCompiledReuse(t *testing.T) {
	in := classic()
	c, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []Optimal{TraineeOptimal, HostOptimal, TraineeOptimal} {
		got, err := c.Solve(opt)
		if err != nil {
			t.Fatal(err)
		}
		want := mustSolve(t, in, opt)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Compiled.Solve(%v) = %v, want %v", opt, got, want)
		}
	}
	if _, err := c.Solve(Optimal(-1)); err == nil {
		t.Error("Compiled.Solve(Optimal(-1)) succeeded")
	}
}

func TestParseOptimal(t *testing.T) {
	for s, want := range map[string]Optimal{"": TraineeOptimal, "trainee": TraineeOptimal, "host": HostOptimal} {
		got, err := ParseOptimal(s)
		if err != nil || got != want {
			t.Errorf("ParseOptimal(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseOptimal("Host"); err == nil {
		t.Error(`ParseOptimal("Host") succeeded`)
	}
	if TraineeOptimal.String() != "trainee" || HostOptimal.String() != "host" || Optimal(9).String() != "Optimal(9)" {
		t.Error("Optimal.String")
	}
}

// rebuild copies in, inserting map entries in a shuffled order.
func rebuild(in Instance, rng *rand.Rand) Instance {
	out := Instance{Trainees: map[string][]string{}, Slots: map[string]Slot{}}
	var tn, sn []string
	for k := range in.Trainees {
		tn = append(tn, k)
	}
	for k := range in.Slots {
		sn = append(sn, k)
	}
	rng.Shuffle(len(tn), func(i, j int) { tn[i], tn[j] = tn[j], tn[i] })
	rng.Shuffle(len(sn), func(i, j int) { sn[i], sn[j] = sn[j], sn[i] })
	for _, k := range tn {
		out.Trainees[k] = append([]string(nil), in.Trainees[k]...)
	}
	for _, k := range sn {
		s := in.Slots[k]
		out.Slots[k] = Slot{Capacity: s.Capacity, Ranking: append([]string(nil), s.Ranking...)}
	}
	return out
}

func TestDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 50 {
		in := randomInstance(rng, genParams{trainees: 60, slots: 12, maxList: 6, maxCap: 6, pRanked: 0.9, pExtra: 0.05})
		for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
			first, _ := json.Marshal(mustSolve(t, in, opt))
			for range 3 {
				again, _ := json.Marshal(mustSolve(t, rebuild(in, rng), opt))
				if string(again) != string(first) {
					t.Fatalf("instance %d, %v: results differ:\n%s\n%s", i, opt, first, again)
				}
			}
		}
	}
}

func TestVerifyRejectsNonMatchings(t *testing.T) {
	in := classic()
	good := mustSolve(t, in, TraineeOptimal)
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"unknown slot", Result{Assignments: map[string][]string{"s1": {"t1", "t3"}, "s2": {"t2"}, "s9": {}}},
			`unknown slot "s9"`},
		{"unknown trainee", Result{Assignments: map[string][]string{"s1": {"t1", "t3"}, "s2": {"t9"}}, Unmatched: []string{"t2"}},
			`unknown trainee "t9"`},
		{"twice", Result{Assignments: map[string][]string{"s1": {"t1", "t3"}, "s2": {"t1"}}, Unmatched: []string{"t2"}},
			`trainee "t1" is assigned more than once`},
		{"over capacity", Result{Assignments: map[string][]string{"s1": {}, "s2": {"t1", "t2"}}, Unmatched: []string{"t3"}},
			`slot "s2" has 2 trainees assigned but capacity 1`},
		{"valid but unstable", Result{Assignments: map[string][]string{"s1": {"t1"}, "s2": {"t2"}}, Unmatched: []string{"t3"},
			Match: nil}, ""},
		{"missing unmatched", Result{Assignments: map[string][]string{"s1": {"t1"}, "s2": {"t2"}}},
			`trainee "t3" is neither assigned nor listed as unmatched`},
		{"unmatched but assigned", Result{Assignments: good.Assignments, Unmatched: []string{"t1"}},
			`result lists trainee "t1" as unmatched but assigns them to slot "s1"`},
		{"unmatched twice", Result{Assignments: map[string][]string{"s1": {"t1"}, "s2": {"t2"}}, Unmatched: []string{"t3", "t3"}},
			`more than once`},
		{"bad match map", Result{Assignments: good.Assignments, Unmatched: []string{}, Match: map[string]string{"t1": "s2", "t2": "s2", "t3": "s1"}},
			`Match says trainee "t1" has slot "s2"`},
	}
	for _, tc := range tests {
		n, err := Verify(in, tc.r)
		if tc.want == "" {
			if err != nil || n == 0 {
				t.Errorf("%s: Verify = %d, %v; want blocking pairs", tc.name, n, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Verify error = %v, want %q", tc.name, err, tc.want)
		}
	}

	// Pairs that are not mutually acceptable.
	in = Instance{
		Trainees: map[string][]string{"a": {"x"}, "b": {}},
		Slots:    map[string]Slot{"x": {Capacity: 2, Ranking: []string{"b"}}},
	}
	if _, err := Verify(in, Result{Assignments: map[string][]string{"x": {"a"}}, Unmatched: []string{"b"}}); err == nil ||
		!strings.Contains(err.Error(), `slot "x", which does not rank them`) {
		t.Errorf("Verify (unranked) error = %v", err)
	}
	if _, err := Verify(in, Result{Assignments: map[string][]string{"x": {"b"}}, Unmatched: []string{"a"}}); err == nil ||
		!strings.Contains(err.Error(), `slot "x", which they did not list`) {
		t.Errorf("Verify (unlisted) error = %v", err)
	}
}

func TestVerifyCountsBlockingPairs(t *testing.T) {
	// Everyone unmatched in the 2×2 case: all four pairs block.
	in := Instance{
		Trainees: map[string][]string{"a": {"x", "y"}, "b": {"y", "x"}},
		Slots: map[string]Slot{
			"x": {Capacity: 1, Ranking: []string{"b", "a"}},
			"y": {Capacity: 1, Ranking: []string{"a", "b"}},
		},
	}
	n, err := Verify(in, Result{Unmatched: []string{"a", "b"}})
	if err != nil || n != 4 {
		t.Errorf("Verify(empty matching) = %d, %v; want 4", n, err)
	}
	// a→y, b→x is host-optimal and stable; a→x with b unmatched is blocked by (b, y), (b, x).
	n, err = Verify(in, Result{Assignments: map[string][]string{"x": {"a"}}, Unmatched: []string{"b"}})
	if err != nil || n != 2 {
		t.Errorf("Verify = %d, %v; want 2", n, err)
	}
}

// TestVerifyAgainstNaive compares Verify's count with a naive count on random matchings,
// most of them unstable.
func TestVerifyAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const instances = 1000
	unstable := 0
	for range instances {
		p := genParams{trainees: rng.IntN(15), slots: rng.IntN(6), maxList: 4, maxCap: 3, pRanked: 0.8, pExtra: 0.1}
		in := randomInstance(rng, p)
		d := toDense(in)
		// A random matching: trainees in random order take a random acceptable free slot.
		m := make([]int, len(d.tn))
		load := make([]int, len(d.sn))
		for _, tr := range rng.Perm(len(d.tn)) {
			m[tr] = -1
			var options []int
			for s := range d.sn {
				if d.acceptable(tr, s) && load[s] < d.cap[s] {
					options = append(options, s)
				}
			}
			if len(options) > 0 && rng.IntN(4) > 0 {
				m[tr] = options[rng.IntN(len(options))]
				load[m[tr]]++
			}
		}
		want := d.blocking(m)
		got, err := Verify(in, d.toResult(m))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if got != want {
			t.Fatalf("Verify = %d blocking pairs, naive count %d\ninstance %+v\nmatching %v", got, want, in, m)
		}
		if want > 0 {
			unstable++
		}
	}
	t.Logf("compared Verify with the naive count on %d random matchings (%d unstable)", instances, unstable)
}

// TestParallelIndex checks that indexing a large instance with several goroutines gives
// the same results and the same first error as indexing it sequentially.
func TestParallelIndex(t *testing.T) {
	base := benchInstance(6000, 600, 10, 19)
	bad := func(mutate func(in Instance)) Instance {
		in := rebuild(base, rand.New(rand.NewPCG(1, 1)))
		mutate(in)
		return in
	}
	cases := map[string]Instance{
		"valid": base,
		"late unknown slot and early unknown trainee": bad(func(in Instance) {
			in.Trainees["t005990"] = append(in.Trainees["t005990"], "nowhere")
			s := in.Slots["s00001"]
			s.Ranking = append(s.Ranking, "nobody")
			in.Slots["s00001"] = s
		}),
		"unknown trainees in two chunks": bad(func(in Instance) {
			for _, name := range []string{"s00590", "s00002"} {
				s := in.Slots[name]
				s.Ranking = append([]string{"ghost-" + name}, s.Ranking...)
				in.Slots[name] = s
			}
		}),
		"repeated slots in two chunks": bad(func(in Instance) {
			for _, name := range []string{"t005000", "t000010"} {
				in.Trainees[name] = append(in.Trainees[name], in.Trainees[name][0])
			}
		}),
	}
	saved := parallelThreshold
	defer func() { parallelThreshold = saved }()
	for name, in := range cases {
		var out [2]string
		for i, threshold := range []int{1 << 30, 1} {
			parallelThreshold = threshold
			var got []byte
			r, err := Solve(in, TraineeOptimal)
			if err == nil {
				var n int
				n, err = Verify(in, r)
				if n != 0 {
					t.Fatalf("%s: %d blocking pairs", name, n)
				}
				got, _ = json.Marshal(r)
			} else {
				_, verr := Verify(in, Result{})
				if verr == nil || verr.Error() != err.Error() {
					t.Fatalf("%s: Solve error %v, Verify error %v", name, err, verr)
				}
				got = []byte(err.Error())
			}
			out[i] = string(got)
		}
		if out[0] != out[1] {
			t.Errorf("%s: sequential and parallel differ:\n%.300s\n%.300s", name, out[0], out[1])
		}
		if name != "valid" {
			t.Logf("%s: %s", name, out[0])
		}
	}
}

func TestSortPrefixed(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"", "\x00", "a", "b", "ab", "é", "\xff", "00000000", "0000000\x00"}
	for _, n := range []int{0, 1, 2, 100, 5000} {
		seen := map[string]bool{}
		var keys []prefixed
		var want []string
		for len(want) < n {
			s := ""
			for range rng.IntN(6) {
				s += alphabet[rng.IntN(len(alphabet))]
			}
			if !seen[s] {
				seen[s] = true
				want = append(want, s)
				keys = append(keys, prefixed{prefix(s), s})
			}
		}
		slices.Sort(want)
		for _, parallel := range []bool{false, true} {
			got := sortPrefixed(slices.Clone(keys), parallel)
			for i := range got {
				if got[i].s != want[i] {
					t.Fatalf("n=%d parallel=%v: position %d is %q, want %q", n, parallel, i, got[i].s, want[i])
				}
			}
		}
	}
}
