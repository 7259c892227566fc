package privacy

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
)

// Erased text: the domains' Erase methods remove the person's rows or blank their fields,
// and where a row written by someone else is kept (a meeting's minutes, a centre's
// profile, another member's end reason, a match override's reason) they replace the
// person's name and address inside its free text with ErasedText. They find those rows
// with Naming (a cheap first pass in SQL, one query per table) and change them with
// Redact (which decides, Unicode case-insensitively and by whole words).

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

// Naming returns a predicate for any ent query's Where (P is that entity's predicate type)
// that selects the rows in which one of columns may hold one of values, in any case: the
// candidates to pass through Redact, which decides. The test is dialect-neutral and does
// not depend on the database's locale: SQLite's LIKE and lower() fold ASCII letters only
// (so "MAREK NOVÁK" is not LIKE "%marek novák%"), so each value is looked for by its
// longest run of ASCII characters ("marek nov"), which every case variant of the value
// holds in some ASCII case. A value without such a run of three characters or more (a
// name in Greek or Cyrillic letters) is looked for as written, in lower case, in upper
// case and with capital initials. Columns may be text or JSON (compared as their text).
// With no values it selects nothing.
func Naming[P ~func(*sql.Selector)](values []string, columns ...string) P {
	terms := searchTerms(values)
	return P(func(s *sql.Selector) {
		var ps []*sql.Predicate
		for _, col := range columns {
			for _, t := range terms {
				ps = append(ps, t.predicate(s.C(col)))
			}
		}
		if len(ps) == 0 {
			s.Where(sql.False())
			return
		}
		s.Where(sql.Or(ps...))
	})
}

// searchTerm is one LIKE pattern of Naming: fold compares lower(column) with an ASCII
// pattern in lower case; otherwise the column is compared with the pattern as it is.
type searchTerm struct {
	text string
	fold bool
}

func (t searchTerm) predicate(col string) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		w := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(t.text)
		if t.fold {
			b.WriteString("lower(CAST(").Ident(col).WriteString(" AS TEXT))")
		} else {
			b.WriteString("CAST(").Ident(col).WriteString(" AS TEXT)")
		}
		b.WriteString(" LIKE ").Arg("%" + w + "%")
		if b.Dialect() != dialect.Postgres { // PostgreSQL's LIKE escapes with \ by default
			b.WriteString(` ESCAPE '\'`)
		}
	})
}

// searchTerms are the LIKE patterns that find values (see Naming).
func searchTerms(values []string) []searchTerm {
	var out []searchTerm
	add := func(t searchTerm) {
		for _, o := range out {
			if o == t {
				return
			}
		}
		out = append(out, t)
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if run := longestASCIIRun(v); len(strings.TrimSpace(run)) >= 3 {
			add(searchTerm{text: strings.ToLower(run), fold: true})
			continue
		}
		for _, x := range []string{v, strings.ToLower(v), strings.ToUpper(v), capitalInitials(v)} {
			add(searchTerm{text: x})
		}
	}
	return out
}

// longestASCIIRun is the longest run of ASCII characters in s (the first of equals).
func longestASCIIRun(s string) string {
	best, start := "", -1
	for i, r := range s + "\u0080" {
		switch {
		case r < utf8.RuneSelf && start < 0:
			start = i
		case r >= utf8.RuneSelf && start >= 0:
			if i-start > len(best) {
				best = s[start:i]
			}
			start = -1
		}
	}
	return best
}

// capitalInitials is s in lower case with the first letter of each word in upper case.
func capitalInitials(s string) string {
	var b strings.Builder
	prevLetter := false
	for _, r := range s {
		if prevLetter {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
		prevLetter = unicode.IsLetter(r)
	}
	return b.String()
}
