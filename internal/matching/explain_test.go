package matching

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestExplainUnmatched(t *testing.T) {
	in := Instance{
		Trainees: map[string][]string{
			"t1": {"zero", "picky", "popular"},
			"t2": {"popular"},
			"t3": {"popular"},
			"t4": {},
		},
		Slots: map[string]Slot{
			"zero":    {Capacity: 0, Ranking: []string{"t1"}},
			"picky":   {Capacity: 1, Ranking: []string{"t4"}},
			"popular": {Capacity: 2, Ranking: []string{"t2", "t3", "t1"}},
		},
	}
	r := mustSolve(t, in, TraineeOptimal)
	checkResult(t, r, map[string][]string{"zero": {}, "picky": {}, "popular": {"t2", "t3"}}, []string{"t1", "t4"})

	got, err := Explain(in, r, "t1")
	if err != nil {
		t.Fatal(err)
	}
	codes := []ReasonCode{}
	for _, g := range got {
		codes = append(codes, g.Code)
	}
	if want := []ReasonCode{ReasonNoCapacity, ReasonNotRanked, ReasonFull}; !reflect.DeepEqual(codes, want) {
		t.Fatalf("codes = %v, want %v", codes, want)
	}
	want := Reason{Slot: "popular", Code: ReasonFull, Capacity: 2, Assigned: 2, RankedHigher: 2,
		Message: `slot "popular" is full: its host ranked all 2 assigned trainees above trainee "t1"`}
	if got[2] != want {
		t.Errorf("FULL reason = %+v, want %+v", got[2], want)
	}
	if got[0].Slot != "zero" || got[1].Slot != "picky" || got[0].RankedHigher != 0 || got[1].RankedHigher != 0 {
		t.Errorf("reasons = %+v", got)
	}
	b, _ := json.Marshal(got[0])
	if string(b) != `{"slot":"zero","code":"NO_CAPACITY","capacity":0,"assigned":0,"rankedHigher":0,"message":"slot \"zero\" takes nobody (capacity 0)"}` {
		t.Errorf("JSON = %s", b)
	}

	// An empty list: nothing to explain.
	if got, err := Explain(in, r, "t4"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Explain(t4) = %#v, %v", got, err)
	}
	// A matched trainee: only the slots listed above their own.
	if got, err := Explain(in, r, "t2"); err != nil || len(got) != 0 {
		t.Errorf("Explain(t2) = %#v, %v", got, err)
	}
	var ie *InputError
	if _, err := Explain(in, r, "nobody"); !errors.As(err, &ie) || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("Explain(nobody) error = %v", err)
	}
}

func TestExplainMatchedAndUnstable(t *testing.T) {
	in := classic()
	// Trainee-optimal: t2 gets s2, their first choice; host-optimal: t2 gets s1 because s2
	// is full with t1, whom s2 ranks higher.
	r := mustSolve(t, in, HostOptimal)
	got, err := Explain(in, r, "t2")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Slot != "s2" || got[0].Code != ReasonFull || got[0].RankedHigher != 1 {
		t.Errorf("Explain(t2) = %+v", got)
	}

	// A hand-made unstable result gets BLOCKING reasons.
	bad := Result{Assignments: map[string][]string{"s1": {"t1"}, "s2": {"t3"}}, Unmatched: []string{"t2"}}
	got, err = Explain(in, bad, "t2")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Code != ReasonBlocking || got[1].Code != ReasonBlocking || got[0].RankedHigher != 0 {
		t.Errorf("Explain(unstable) = %+v", got)
	}
	if _, err := Explain(in, Result{Assignments: map[string][]string{"s1": {"t2"}, "s2": {"t2"}}}, "t2"); err == nil {
		t.Error("Explain accepted a trainee assigned twice")
	}
}

// TestExplainRandom: in solver results, every reason is one of the three stable codes and
// FULL counts all the slot's trainees.
func TestExplainRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	counts := map[ReasonCode]int{}
	for range 300 {
		in := randomInstance(rng, genParams{trainees: 40, slots: 10, maxList: 5, maxCap: 5, pRanked: 0.8, pExtra: 0.05})
		for _, opt := range []Optimal{TraineeOptimal, HostOptimal} {
			r := mustSolve(t, in, opt)
			for tr := range in.Trainees {
				reasons, err := Explain(in, r, tr)
				if err != nil {
					t.Fatal(err)
				}
				for _, why := range reasons {
					counts[why.Code]++
					switch why.Code {
					case ReasonBlocking:
						t.Fatalf("stable result explained as %+v", why)
					case ReasonFull:
						if why.RankedHigher != why.Capacity || why.Assigned != why.Capacity {
							t.Fatalf("FULL reason %+v", why)
						}
					}
				}
			}
		}
	}
	t.Logf("explained reasons: %v", counts)
}
