package privacy_test

import (
	"testing"

	"github.com/gocart-coalition/coalition/internal/privacy"
)

func TestRedactReplacesWholeWordsOnly(t *testing.T) {
	values := []string{"Marek Novák", "marek.novak@fnbrno.example.cz"}
	for _, c := range []struct{ in, want string }{
		{"Marek Novák presented.", "[erased] presented."},
		{"MAREK NOVÁK and marek novák", "[erased] and [erased]"},
		{"Write to marek.novak@fnbrno.example.cz.", "Write to [erased]."},
		{"(marek.novak@fnbrno.example.cz)", "([erased])"},
		{"Marek Nováková presented.", "Marek Nováková presented."},
		{"Marek Novak presented.", "Marek Novak presented."},
		{"marek.novak@fnbrno.example.com", "marek.novak@fnbrno.example.com"},
		{"marek.novak@fnbrno.example.cz.uk", "marek.novak@fnbrno.example.cz.uk"},
		{"x.marek.novak@fnbrno.example.cz", "x.marek.novak@fnbrno.example.cz"},
		{"", ""},
	} {
		got, changed := privacy.Redact(c.in, values)
		if got != c.want || changed != (c.in != c.want) {
			t.Errorf("Redact(%q) = %q, %v; want %q", c.in, got, changed, c.want)
		}
	}
}
