package matching

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func runCLI(input string) (string, error) {
	var out bytes.Buffer
	err := RunSolveCLI(strings.NewReader(input), &out)
	return out.String(), err
}

func TestCLIGood(t *testing.T) {
	input := `{
		"trainees": {"t1": ["s1", "s2"], "t2": ["s1"], "t3": ["s1"], "t4": []},
		"slots": {
			"s1": {"capacity": 2, "ranking": ["t2", "t1", "t3"]},
			"s2": {"capacity": 1, "ranking": []},
			"s3": {"capacity": 0}
		}
	}`
	want := `{
  "assignments": {
    "s1": [
      "t1",
      "t2"
    ],
    "s2": [],
    "s3": []
  },
  "unmatched": [
    "t3",
    "t4"
  ],
  "blockingPairs": 0
}
`
	for _, opt := range []string{``, `, "optimal": "trainee"`, `, "optimal": ""`} {
		got, err := runCLI(strings.TrimSuffix(input, "}") + opt + "}")
		if err != nil {
			t.Fatalf("optimal %q: %v", opt, err)
		}
		if got != want {
			t.Errorf("optimal %q: output\n%s\nwant\n%s", opt, got, want)
		}
	}
}

func TestCLIEmpty(t *testing.T) {
	for _, input := range []string{`{}`, `{"trainees": {}, "slots": {}}`, `{"trainees": null, "slots": null}`} {
		got, err := runCLI(input)
		if err != nil {
			t.Fatalf("%s: %v", input, err)
		}
		if want := "{\n  \"assignments\": {},\n  \"unmatched\": [],\n  \"blockingPairs\": 0\n}\n"; got != want {
			t.Errorf("%s: output %q, want %q", input, got, want)
		}
	}
}

func TestCLIHost(t *testing.T) {
	input := `{"trainees": {"t1": ["s1", "s2"], "t2": ["s2", "s1"], "t3": ["s1", "s2"]},
		"slots": {"s1": {"capacity": 2, "ranking": ["t2", "t3", "t1"]},
		          "s2": {"capacity": 1, "ranking": ["t1", "t2", "t3"]}},
		"optimal": "host"}`
	want := `{
  "assignments": {
    "s1": [
      "t2",
      "t3"
    ],
    "s2": [
      "t1"
    ]
  },
  "unmatched": [],
  "blockingPairs": 0
}
`
	got, err := runCLI(input)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("output\n%s\nwant\n%s", got, want)
	}
	trainee, err := runCLI(strings.Replace(input, `"host"`, `"trainee"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(trainee, "\"s2\": [\n      \"t2\"\n    ]") {
		t.Errorf("trainee-optimal output:\n%s", trainee)
	}
}

func TestCLIInputErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"empty input", ``, "unexpected end of input"},
		{"malformed", `{"trainees": {"t1": ["s1"}`, "malformed JSON"},
		{"truncated", `{"trainees": {"t1": ["s1"]`, "malformed JSON"},
		{"not an object", `[1, 2]`, "malformed JSON: input must be an object"},
		{"null input", `null`, "malformed JSON: input must be an object"},
		{"trailing data", `{} {}`, "unexpected data after the input object"},
		{"trailing garbage", `{} x`, "malformed JSON"},
		{"unknown field", `{"trainees": {}, "slot": {}}`, `unknown field "slot"`},
		{"unknown slot field", `{"slots": {"s1": {"capacity": 1, "rank": []}}}`, `slot "s1"`},
		{"wrong type", `{"slots": {"s1": {"capacity": "one"}}}`, `slot "s1"`},
		{"fractional capacity", `{"slots": {"s1": {"capacity": 1.5}}}`, `slot "s1"`},
		{"null slot", `{"slots": {"s1": null}}`, `slot "s1" is null`},
		{"null name", `{"trainees": {"t1": [null]}}`, `trainee "t1": null in a list of names`},
		{"null ranked name", `{"trainees": {"t1": []}, "slots": {"s1": {"ranking": ["t1", null]}}}`, `slot "s1" ranking: null in a list of names`},
		{"unknown slot", `{"trainees": {"t1": ["s9"]}, "slots": {"s1": {"capacity": 1}}}`, `trainee "t1" lists unknown slot "s9"`},
		{"unknown trainee", `{"trainees": {"t1": []}, "slots": {"s1": {"capacity": 1, "ranking": ["t7"]}}}`, `slot "s1" ranks unknown trainee "t7"`},
		{"duplicate in list", `{"trainees": {"t1": ["s1", "s1"]}, "slots": {"s1": {"capacity": 1}}}`, `trainee "t1" lists slot "s1" more than once`},
		{"duplicate in ranking", `{"trainees": {"t1": []}, "slots": {"s1": {"capacity": 1, "ranking": ["t1", "t1"]}}}`, `slot "s1" ranks trainee "t1" more than once`},
		{"trainee defined twice", `{"trainees": {"t1": [], "t1": ["s1"]}, "slots": {"s1": {"capacity": 1}}}`, `trainee "t1" is defined more than once`},
		{"slot defined twice", `{"slots": {"s1": {"capacity": 1}, "s1": {"capacity": 2}}}`, `slot "s1" is defined more than once`},
		{"field twice", `{"slots": {}, "slots": {}}`, `field "slots" appears more than once`},
		{"negative capacity", `{"slots": {"s1": {"capacity": -1}}}`, `slot "s1" has negative capacity -1`},
		{"invalid optimal", `{"optimal": "hospital"}`, `invalid optimal "hospital"`},
		{"optimal not a string", `{"optimal": 1}`, `"optimal"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(tc.input)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v (%T), want *InputError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("wrote %q on error", out)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCLIWriteError(t *testing.T) {
	err := RunSolveCLI(strings.NewReader(`{}`), failWriter{})
	var ie *InputError
	if err == nil || errors.As(err, &ie) {
		t.Errorf("error = %v, want a non-input error", err)
	}
}
