package markdown

import (
	"strings"
	"testing"
)

func TestHTML(t *testing.T) {
	for _, c := range []struct {
		in          string
		want, never []string
	}{
		{"**Weekly programme**: ward rounds, *apheresis*.", []string{"<strong>Weekly programme</strong>", "<em>apheresis</em>"}, nil},
		{"| day | topic |\n|---|---|\n| Mon | CRS grading |", []string{"<table>", "<td>CRS grading</td>"}, nil},
		{"[site](https://example.org)", []string{`href="https://example.org"`, `rel="nofollow noreferrer noopener"`, `target="_blank"`}, nil},
		{"<script>alert(1)</script>\n\nhello", []string{"<p>hello</p>"}, []string{"<script", "alert(1)</script>"}},
		{`<img src=x onerror="alert(1)">`, nil, []string{"onerror", "<img"}},
		{"[click](javascript:alert(1))", []string{"click"}, []string{"javascript:"}},
	} {
		got := HTML(c.in)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("HTML(%q) = %q, want it to contain %q", c.in, got, w)
			}
		}
		for _, n := range c.never {
			if strings.Contains(got, n) {
				t.Errorf("HTML(%q) = %q, must not contain %q", c.in, got, n)
			}
		}
	}
}
