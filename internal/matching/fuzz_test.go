package matching

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// FuzzSolve feeds arbitrary bytes to RunSolveCLI. It must never panic; it fails only with
// an *InputError; and whenever it succeeds, its output is a stable matching of the input
// that Verify accepts, and the other variant is stable too.
func FuzzSolve(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"trainees": {"t1": ["s1", "s2"], "t2": ["s1"], "t3": []},
		"slots": {"s1": {"capacity": 1, "ranking": ["t2", "t1"]}, "s2": {"capacity": 2, "ranking": ["t1"]}}}`))
	f.Add([]byte(`{"trainees": {"a": ["x", "y"], "b": ["y", "x"]},
		"slots": {"x": {"capacity": 1, "ranking": ["b", "a"]}, "y": {"capacity": 1, "ranking": ["a", "b"]}},
		"optimal": "host"}`))
	f.Add([]byte(`{"trainees": {"t1": ["s1"]}, "slots": {"s1": {"capacity": 0, "ranking": ["t1"]}}}`))
	f.Add([]byte(`{"trainees": {"t1": ["s9"]}, "slots": {}}`))
	f.Add([]byte(`{"trainees": {"t1": ["s1", "s1"]}, "slots": {"s1": {"capacity": -1}}}`))
	f.Add([]byte(`{"trainees": {"": [""]}, "slots": {"": {"capacity": 9223372036854775807, "ranking": [""]}}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := RunSolveCLI(bytes.NewReader(data), &out)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("non-input error: %v", err)
			}
			if out.Len() != 0 {
				t.Fatalf("wrote output on error: %q", out.Bytes())
			}
			return
		}
		var got struct {
			Assignments   map[string][]string `json:"assignments"`
			Unmatched     []string            `json:"unmatched"`
			BlockingPairs *int                `json:"blockingPairs"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out.Bytes())
		}
		if got.BlockingPairs == nil || *got.BlockingPairs != 0 || got.Unmatched == nil {
			t.Fatalf("bad output:\n%s", out.Bytes())
		}
		in, opt, err := decodeCLIInput(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("input decoded by RunSolveCLI but not again: %v", err)
		}
		for s, l := range got.Assignments {
			if l == nil {
				t.Fatalf("null list for slot %q", s)
			}
		}
		if len(got.Assignments) != len(in.Slots) {
			t.Fatalf("%d slots in output, %d in input", len(got.Assignments), len(in.Slots))
		}
		if n, err := Verify(in, Result{Assignments: got.Assignments, Unmatched: got.Unmatched}); err != nil || n != 0 {
			t.Fatalf("Verify(output) = %d, %v", n, err)
		}
		other := TraineeOptimal
		if opt == TraineeOptimal {
			other = HostOptimal
		}
		r, err := Solve(in, other)
		if err != nil {
			t.Fatalf("Solve(%v): %v", other, err)
		}
		if n, err := Verify(in, r); err != nil || n != 0 {
			t.Fatalf("Verify(%v) = %d, %v", other, n, err)
		}
		if len(r.Unmatched) != len(got.Unmatched) {
			t.Fatalf("variants leave %d and %d unmatched", len(got.Unmatched), len(r.Unmatched))
		}
	})
}

// instanceFromBytes decodes bytes into a small instance that is always valid, so the
// fuzzer explores the solver rather than the JSON parser. Byte 0: trainees (0..7); byte
// 1: slots (0..4); then per slot a capacity (0..3); then per trainee a list length and
// slots; then per slot a ranking length and trainees (duplicates skipped).
func instanceFromBytes(data []byte) Instance {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := int(data[0])
		data = data[1:]
		return b
	}
	T, S := next()%8, next()%5
	in := Instance{Trainees: map[string][]string{}, Slots: map[string]Slot{}}
	caps := make([]int, S)
	for s := range caps {
		caps[s] = next() % 4
	}
	for t := range T {
		list := []string{}
		if S > 0 {
			seen := map[int]bool{}
			for range next() % (S + 1) {
				s := next() % S
				if !seen[s] {
					seen[s] = true
					list = append(list, fmt.Sprint("s", s))
				}
			}
		}
		in.Trainees[fmt.Sprint("t", t)] = list
	}
	for s := range S {
		ranking := []string{}
		if T > 0 {
			seen := map[int]bool{}
			for range next() % (T + 1) {
				t := next() % T
				if !seen[t] {
					seen[t] = true
					ranking = append(ranking, fmt.Sprint("t", t))
				}
			}
		}
		in.Slots[fmt.Sprint("s", s)] = Slot{Capacity: caps[s], Ranking: ranking}
	}
	return in
}

// FuzzBruteForce checks the solver on small fuzzed instances against brute force: both
// results stable, trainee-optimal best and host-optimal worst for every trainee.
func FuzzBruteForce(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 2, 1, 2, 2, 0, 1, 2, 1, 0, 1, 1, 3, 2, 1, 0, 2, 0, 1})
	f.Add([]byte{7, 4, 1, 1, 1, 1, 4, 0, 1, 2, 3, 4, 3, 2, 1, 0, 4, 1, 2, 3, 0, 4, 2, 3, 0, 1, 7, 0, 1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := instanceFromBytes(data)
		d := toDense(in)
		stable, _ := d.stableMatchings()
		if len(stable) == 0 {
			t.Fatalf("no stable matching for %+v", in)
		}
		to := d.fromResult(mustSolve(t, in, TraineeOptimal))
		ho := d.fromResult(mustSolve(t, in, HostOptimal))
		for _, m := range stable {
			for tr := range d.tn {
				if d.better(tr, m[tr], to[tr]) || d.better(tr, ho[tr], m[tr]) {
					t.Fatalf("trainee %q: stable %d, trainee-optimal %d, host-optimal %d\n%+v",
						d.tn[tr], m[tr], to[tr], ho[tr], in)
				}
				if (m[tr] < 0) != (to[tr] < 0) {
					t.Fatalf("trainee %q matched in some stable matchings only\n%+v", d.tn[tr], in)
				}
			}
		}
	})
}
