package matching

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RunSolveCLI reads one instance as JSON from r, solves it, verifies the result and writes
// it as indented JSON, with a trailing newline, to w. The input looks like
//
//	{"trainees": {"t1": ["s1", "s2"]},
//	 "slots": {"s1": {"capacity": 2, "ranking": ["t2", "t1"]}},
//	 "optimal": "trainee"}
//
// where "optimal" is "trainee" (the default when missing or empty) or "host". The output
// looks like
//
//	{"assignments": {"s1": ["t1"]}, "unmatched": ["t3"], "blockingPairs": 0}
//
// with every input slot a key of "assignments" and all lists sorted and never null.
//
// Any problem with the input is an *InputError naming it: malformed JSON, an unknown field,
// a trainee or slot defined twice, trailing data, an invalid "optimal", or an invalid
// instance (see Solve). Nothing is written then. Other errors come from w, or mean the
// solver produced a result that failed verification (a bug).
func RunSolveCLI(r io.Reader, w io.Writer) error {
	in, opt, err := decodeCLIInput(r)
	if err != nil {
		return err
	}
	res, err := Solve(in, opt)
	if err != nil {
		return err
	}
	blocking, err := Verify(in, res)
	if err != nil {
		return fmt.Errorf("matching: result failed verification: %w", err)
	}
	if blocking != 0 {
		return fmt.Errorf("matching: result has %d blocking pairs", blocking)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(cliOutput{
		Assignments:   res.Assignments,
		Unmatched:     res.Unmatched,
		BlockingPairs: blocking,
	})
}

type cliOutput struct {
	Assignments   map[string][]string `json:"assignments"`
	Unmatched     []string            `json:"unmatched"`
	BlockingPairs int                 `json:"blockingPairs"`
}

type cliSlot struct {
	Capacity int       `json:"capacity"`
	Ranking  []*string `json:"ranking"`
}

// decodeNames decodes a list of names; null elements are an error.
func decodeNames(dec *json.Decoder, what string) ([]string, error) {
	var list []*string
	if err := dec.Decode(&list); err != nil {
		return nil, jsonError(what, err)
	}
	return names(list, what)
}

func names(list []*string, what string) ([]string, error) {
	out := make([]string, len(list))
	for i, p := range list {
		if p == nil {
			return nil, inputErrorf("malformed JSON: %s: null in a list of names", what)
		}
		out[i] = *p
	}
	return out, nil
}

// decodeCLIInput parses the input object by hand, token by token, so that a trainee or
// slot defined twice is an error rather than silently overwritten (encoding/json keeps the
// last duplicate key), and so that field names must match exactly.
func decodeCLIInput(r io.Reader) (Instance, Optimal, error) {
	in := Instance{Trainees: map[string][]string{}, Slots: map[string]Slot{}}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()

	seen := map[string]bool{}
	optimal := ""
	err := decodeObject(dec, "input", false, func(key string) error {
		if seen[key] {
			return inputErrorf("field %q appears more than once", key)
		}
		seen[key] = true
		switch key {
		case "trainees":
			return decodeObject(dec, `"trainees"`, true, func(name string) error {
				if _, dup := in.Trainees[name]; dup {
					return inputErrorf("trainee %q is defined more than once", name)
				}
				list, err := decodeNames(dec, fmt.Sprintf("trainee %q", name))
				in.Trainees[name] = list
				return err
			})
		case "slots":
			return decodeObject(dec, `"slots"`, true, func(name string) error {
				if _, dup := in.Slots[name]; dup {
					return inputErrorf("slot %q is defined more than once", name)
				}
				var s *cliSlot
				if err := dec.Decode(&s); err != nil {
					return jsonError(fmt.Sprintf("slot %q", name), err)
				}
				if s == nil {
					return inputErrorf("slot %q is null", name)
				}
				ranking, err := names(s.Ranking, fmt.Sprintf("slot %q ranking", name))
				in.Slots[name] = Slot{Capacity: s.Capacity, Ranking: ranking}
				return err
			})
		case "optimal":
			if err := dec.Decode(&optimal); err != nil {
				return jsonError(`"optimal"`, err)
			}
			return nil
		}
		return inputErrorf("unknown field %q", key)
	})
	if err != nil {
		return Instance{}, 0, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return Instance{}, 0, inputErrorf("unexpected data after the input object")
		}
		return Instance{}, 0, jsonError("after the input object", err)
	}
	opt, err := ParseOptimal(optimal)
	if err != nil {
		return Instance{}, 0, err
	}
	return in, opt, nil
}

// decodeObject reads a JSON object from dec and calls member with each key; member must
// consume the value. If nullOK, null is taken as an empty object.
func decodeObject(dec *json.Decoder, what string, nullOK bool, member func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return inputErrorf("malformed JSON: %s: unexpected end of input", what)
		}
		return jsonError(what, err)
	}
	if tok == nil && nullOK {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return inputErrorf("malformed JSON: %s must be an object", what)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(what, err)
		}
		key, ok := tok.(string)
		if !ok {
			return inputErrorf("malformed JSON: %s: expected a key", what)
		}
		if err := member(key); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonError(what, err)
	}
	return nil
}

// jsonError wraps a decoding error as an *InputError.
func jsonError(what string, err error) error {
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &InputError{Msg: "malformed JSON: " + what + ": unexpected end of input"}
	}
	return &InputError{Msg: "malformed JSON: " + what, Err: err}
}
