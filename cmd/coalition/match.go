package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/gocart-coalition/coalition/internal/matching"
)

// inputError is a problem with the input of `match solve`: exit status 2.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }
func (inputError) ExitCode() int   { return 2 }

// runMatch is `coalition match solve [FILE]`: it reads an instance as JSON from FILE (or
// stdin) and writes the stable matching as JSON; see internal/matching.RunSolveCLI for
// the formats. A malformed input, or a name used in a list but not defined, exits with
// status 2 and a message naming the problem.
func runMatch(_ context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "solve" || len(args) > 2 {
		fmt.Fprintln(e.stderr, "usage: coalition match solve [FILE]\n\nReads {\"trainees\": {...}, \"slots\": {...}, \"optimal\": \"trainee\"|\"host\"} from FILE or stdin\nand writes {\"assignments\": {...}, \"unmatched\": [...], \"blockingPairs\": 0}.")
		return errUsage
	}
	in := e.stdin
	if len(args) == 2 && args[1] != "-" {
		f, err := os.Open(args[1])
		if err != nil {
			return inputError{err}
		}
		defer f.Close()
		in = f
	}
	err := matching.RunSolveCLI(in, e.stdout)
	var ie *matching.InputError
	if errors.As(err, &ie) {
		return inputError{fmt.Errorf("match solve: %w", err)}
	}
	return err
}
