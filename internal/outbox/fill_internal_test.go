package outbox

import (
	"testing"
)

// fill gives the pieces of expand's result: frozen pieces of the text between the values,
// for well-formed, malformed and adjacent placeholders alike.
func TestFillIsExpandInPieces(t *testing.T) {
	value := func(k string) string { return "<" + k + ">{{name}}" }
	for _, s := range []string{
		"", "plain", "{{name}}", "Dear {{name}},\n{{email}}", "{{a}}{{b}}", "{{{{name}}}}", "{{not a key}} {{",
		"{{name", "}}{{x}}", "a {{}} b {{x_1}} c", "{{Upper}} {{ok}}\n",
	} {
		f := fill(s, value)
		if got, want := f.String(), expand(s, value); got != want {
			t.Errorf("fill(%q) = %q, want %q", s, got, want)
		}
		if s != "" && len(f)%2 != 1 {
			t.Errorf("fill(%q) has %d pieces, want frozen pieces around each value (an odd number)", s, len(f))
		}
		for i := 1; i < len(f); i += 2 {
			if f[i] != value(f[i][1:len(f[i])-len(">{{name}}")]) {
				t.Errorf("fill(%q): piece %d = %q is not a value", s, i, f[i])
			}
		}
	}
}
