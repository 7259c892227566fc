package privacy

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gocart-coalition/coalition/ent"
)

// Erased text: the domains' Erase methods remove the person's rows or blank their fields,
// and where a row written by someone else is kept (a meeting's minutes, a centre's
// profile) they replace the person's name and address inside its free text with
// ErasedText.

// ErasedText replaces a person's name or address inside kept free text.
const ErasedText = "[erased]"

// PersonValues returns the text values that identify p: p.Name and p.Email, and the name
// and address on their account. It reads the account, which the auth domain's Erase
// anonymises: the erasure either fills p.Name beforehand or runs that domain last.
// Values shorter than three characters are left out, as they would match inside ordinary
// words.
func PersonValues(ctx context.Context, c *ent.Client, p Person) ([]string, error) {
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len([]rune(v)) < 3 {
			return
		}
		for _, o := range out {
			if strings.EqualFold(o, v) {
				return
			}
		}
		out = append(out, v)
	}
	add(p.Name)
	add(p.Email)
	u, err := c.User.Get(ctx, p.ID)
	switch {
	case ent.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("read the person's account: %w", err)
	default:
		add(u.Name)
		add(u.Email)
	}
	return out, nil
}

// Redact returns s with every occurrence of each value (compared without case) replaced
// by ErasedText, and whether it changed anything. An occurrence counts only as a whole
// word: "Marek Novák" is not found inside "Marek Nováková", nor "a@b.co" inside
// "a@b.com" or "a@b.co.uk".
func Redact(s string, values []string) (string, bool) {
	out := s
	for _, v := range values {
		if v == "" {
			continue
		}
		re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(v))
		var b strings.Builder
		last := 0
		for _, m := range re.FindAllStringIndex(out, -1) {
			if !wordEdge(out, m[0], m[1]) {
				continue
			}
			b.WriteString(out[last:m[0]])
			b.WriteString(ErasedText)
			last = m[1]
		}
		b.WriteString(out[last:])
		out = b.String()
	}
	return out, out != s
}

// wordEdge tells whether s[from:to] stands alone: no letter, digit or address character
// touches it, and a dot after it does not continue the word.
func wordEdge(s string, from, to int) bool {
	inWord := func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '@' || r == '+' || r == '%'
	}
	if from > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:from])
		if inWord(r) || r == '.' {
			return false
		}
	}
	if to < len(s) {
		r, n := utf8.DecodeRuneInString(s[to:])
		if inWord(r) {
			return false
		}
		if r == '.' && to+n < len(s) {
			if next, _ := utf8.DecodeRuneInString(s[to+n:]); inWord(next) {
				return false
			}
		}
	}
	return true
}
