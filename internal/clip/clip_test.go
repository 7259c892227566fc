package clip

import (
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"truncate me", 8, "truncate"},
		{"Dvořák", 4, "Dvo"}, // "ř" is 2 bytes: cutting at 4 would split it
		{"Dvořák", 5, "Dvoř"},
		{"anything", 0, ""},
		{"anything", -1, ""},
	} {
		got := String(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) || len(got) > max(c.n, 0) {
			t.Errorf("String(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
