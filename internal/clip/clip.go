package clip

import "unicode/utf8"

// String returns s cut to at most n bytes, on a character boundary.
func String(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:max(n, 0)]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
