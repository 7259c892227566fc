package check

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// MaxLanguages bounds a list of languages.
const MaxLanguages = 10

// LocalLayout is how local times are written in the API: a date and a time of day in a
// named time zone, e.g. 2027-03-04T14:00.
const LocalLayout = "2006-01-02T15:04"

// Path returns the field path of an input field: ["input", name, more...].
func Path(name string, more ...string) []string {
	return append([]string{"input", name}, more...)
}

// Text trims s and reports a user error on field when it is longer than max or holds an
// invisible character (Invisible; line breaks and tabs are allowed, so multi-line fields
// use Text alone and single-line ones add HasControl). A Windows line break (CR LF) is
// kept as a plain LF. The limit is in characters; ent's MaxLen validators count bytes, so
// text whose characters fit but whose UTF-8 encoding does not is refused here too, with
// its own message, rather than failing later in the database layer.
func Text(errs *apperr.UserErrors, s string, max int, what string, field []string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	switch {
	case strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && Invisible(r) }):
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s contains an invisible or control character (such as a zero-width space, a text-direction override or NUL); type it again without it.", what), field...)
	case utf8.RuneCountInString(s) > max:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("%s can be at most %d characters.", what, max), field...)
	case len(s) > max:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("%s is too long: at most %d bytes are stored, and accented letters and symbols take two or more.", what, max), field...)
	}
	return s
}

// RequiredText is Text for a text that must not be empty.
func RequiredText(errs *apperr.UserErrors, s string, max int, what, missing string, field []string) string {
	s = Text(errs, s, max, what, field)
	if s == "" {
		errs.Add(apperr.CodeRequired, missing, field...)
	}
	return s
}

// MaxNameLen is the longest name of an organisation, a host centre or a working group.
const MaxNameLen = 200

// Name checks a required single-line name (of an organisation, a host centre or a
// working group) of at most MaxNameLen characters.
func Name(errs *apperr.UserErrors, s string, field []string) string {
	s = RequiredText(errs, s, MaxNameLen, "The name", "Enter the name.", field)
	if HasControl(s) {
		errs.Add(apperr.CodeInvalid, "The name must be a single line of text.", field...)
	}
	return s
}

// MaxSearchLen bounds the free-text search of a connection's filter.
const MaxSearchLen = 100

// Search trims the free-text search of a connection's filter and refuses (BAD_REQUEST) one
// longer than MaxSearchLen characters or not a single line.
func Search(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxSearchLen {
		return "", apperr.New(apperr.BadRequest, "filter.search: at most %d characters", MaxSearchLen)
	}
	if HasControl(s) {
		return "", apperr.New(apperr.BadRequest, "filter.search: a single line of text")
	}
	return s, nil
}

// HasControl reports whether s contains a character a single line of text must not hold:
// a control character (a line break or tab in a name, NUL) or another Invisible one.
func HasControl(s string) bool {
	return strings.ContainsFunc(s, Invisible)
}

// Invisible reports whether r is a control character (Unicode category Cc: NUL, line
// breaks, escape…) or a format character (Cf: zero-width space U+200B, text-direction
// overrides such as U+202E, the byte-order mark…), which make two texts that look the
// same differ, or reorder what is shown. The zero-width joiner and non-joiner (U+200C,
// U+200D) are let through: emoji sequences and Persian or Indic writing need them.
func Invisible(r rune) bool {
	if r == '\u200c' || r == '\u200d' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf)
}

// MaxEmailLen is the longest address accepted (RFC 5321's path limit less the brackets).
const MaxEmailLen = 254

// Limits of an address's parts, in octets: the local part (RFC 5321 §4.5.3.1.1) and a
// domain label in ASCII (RFC 1035 §2.3.4).
const (
	maxLocalPart = 64
	maxLabel     = 63
)

// Why an address is refused (NormaliseEmail).
var (
	ErrEmailInvisible = errors.New("the address contains an invisible or control character")
	ErrEmailInvalid   = errors.New("not a valid email address")
)

// NormaliseEmail is the one normal form of an email address, used wherever an address is
// taken (sign-in, staff creating users, referees, the command line) and compared: the
// address trimmed, with no control or format character anywhere (Cc, Cf: a zero-width space after
// it would otherwise make a second account that looks the same), its domain converted to
// ASCII (IDNA: bücher.example → xn--bcher-kva.example) and the whole lower-cased, then
// checked to be a bare address (no display name, no comments) of at most MaxEmailLen
// characters, a local part of at most 64 and domain labels of at most 63, whose domain has
// a dot. Two addresses are the same person's when their
// normal forms are equal. It returns ErrEmailInvisible or ErrEmailInvalid when s is not
// an address.
func NormaliseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }) {
		return "", ErrEmailInvisible // joiners included: an address has no use for them
	}
	at := strings.LastIndexByte(s, '@')
	if s == "" || len(s) > 4*MaxEmailLen || at <= 0 || at == len(s)-1 {
		return "", ErrEmailInvalid
	}
	domain, err := idna.Lookup.ToASCII(s[at+1:])
	if err != nil {
		return "", ErrEmailInvalid
	}
	s = strings.ToLower(s[:at] + "@" + domain)
	if len(s) > MaxEmailLen || at > maxLocalPart || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", ErrEmailInvalid
	}
	// idna.Lookup does not check lengths: a label of an IDN domain can pass it and still be
	// over the 63 octets DNS allows once encoded (RFC 1035 §2.3.4), which no mail reaches.
	for _, label := range strings.Split(domain, ".") {
		if len(label) == 0 || len(label) > maxLabel {
			return "", ErrEmailInvalid
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", ErrEmailInvalid
	}
	return s, nil
}

// Email is NormaliseEmail for an input field: it returns the normal form, or "" after
// adding a user error on field (REQUIRED when empty, INVALID otherwise, saying so when an
// invisible character is the reason).
func Email(errs *apperr.UserErrors, s string, field []string) string {
	if strings.TrimSpace(s) == "" {
		errs.Add(apperr.CodeRequired, "Enter an email address.", field...)
		return ""
	}
	addr, err := NormaliseEmail(s)
	switch {
	case errors.Is(err, ErrEmailInvisible):
		errs.Add(apperr.CodeInvalid, "The email address contains an invisible or control character (such as a zero-width space); type it again.", field...)
	case err != nil:
		errs.Add(apperr.CodeInvalid, "Enter a valid email address, e.g. name@hospital.example.", field...)
	}
	return addr
}

// NormaliseLanguage returns s trimmed and in lower case, and whether it is an ISO 639-1 code.
func NormaliseLanguage(s string) (string, bool) {
	l := strings.ToLower(strings.TrimSpace(s))
	return l, vocab.IsLanguage(l)
}

// Languages checks 1–10 distinct ISO 639-1 codes and returns them in lower case.
func Languages(errs *apperr.UserErrors, in []string, field []string) []string {
	switch {
	case len(in) == 0:
		errs.Add(apperr.CodeRequired, "List at least one language spoken with observers, as an ISO 639-1 code, e.g. en.", field...)
		return nil
	case len(in) > MaxLanguages:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("List at most %d languages.", MaxLanguages), field...)
		return nil
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		l, ok := NormaliseLanguage(s)
		switch {
		case !ok:
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%q is not an ISO 639-1 language code; use two letters, e.g. en, fr or de.", strings.TrimSpace(s)), append(slices.Clone(field), strconv.Itoa(i))...)
		case slices.Contains(out, l):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s is listed twice.", l), append(slices.Clone(field), strconv.Itoa(i))...)
		default:
			out = append(out, l)
		}
	}
	return out
}

// FocusAreas checks that the focus areas are known and distinct.
func FocusAreas(errs *apperr.UserErrors, in []vocab.FocusArea, field []string) []vocab.FocusArea {
	out := make([]vocab.FocusArea, 0, len(in))
	for i, f := range in {
		switch {
		case !f.Valid():
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%q is not a focus area.", string(f)), append(slices.Clone(field), strconv.Itoa(i))...)
		case slices.Contains(out, f):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s is listed twice.", f), append(slices.Clone(field), strconv.Itoa(i))...)
		default:
			out = append(out, f)
		}
	}
	return out
}

// Country checks an ISO 3166-1 alpha-2 code. It is not upper-cased silently: the code
// is stored and compared as written, so the caller is told to write it in upper case.
func Country(errs *apperr.UserErrors, s string, field []string) string {
	c := strings.TrimSpace(s)
	switch {
	case c == "":
		errs.Add(apperr.CodeRequired, "Enter the country as an ISO 3166-1 alpha-2 code in upper case, e.g. CZ.", field...)
	case vocab.IsCountry(c):
	case vocab.IsCountry(strings.ToUpper(c)):
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Write the country code in upper case: %s.", strings.ToUpper(c)), field...)
	default:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code; use two upper-case letters, e.g. CZ, FR or DE.", c), field...)
	}
	return c
}

// Zone checks an IANA time-zone name and returns it trimmed with its location (nil when
// it is not one).
func Zone(errs *apperr.UserErrors, s string, field []string) (string, *time.Location) {
	z := strings.TrimSpace(s)
	if z == "" {
		errs.Add(apperr.CodeRequired, "Enter the time zone, e.g. Europe/Paris.", field...)
		return z, nil
	}
	loc, err := time.LoadLocation(z)
	if err != nil || len(z) > 64 || z == "Local" {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("%q is not a time zone; use an IANA name such as Europe/Paris.", clipRunes(z, 40)), field...)
		return z, nil
	}
	return z, loc
}

// ErrSkippedTime is returned by ParseLocal for a local time the zone skips.
var ErrSkippedTime = errors.New("the local time does not exist in the zone")

// ParseLocal parses s (LocalLayout) as a local time in loc and returns the instant in UTC.
// A time the zone skips (the hour lost when clocks go forward) is ErrSkippedTime, not
// silently moved.
func ParseLocal(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(LocalLayout, s, loc)
	if err != nil {
		return time.Time{}, err
	}
	if t.Format(LocalLayout) != s {
		return time.Time{}, ErrSkippedTime
	}
	return t.UTC(), nil
}

// LocalTime checks a required local time in loc (what is called what in messages) and
// returns it in UTC; ok is false when it was refused.
func LocalTime(errs *apperr.UserErrors, s string, loc *time.Location, what string, field []string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		errs.Add(apperr.CodeRequired, fmt.Sprintf("Enter the %s as YYYY-MM-DDTHH:MM.", what), field...)
		return time.Time{}, false
	}
	t, err := ParseLocal(s, loc)
	switch {
	case errors.Is(err, ErrSkippedTime):
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s does not exist in %s: the clocks go forward then.", s, loc), field...)
		return time.Time{}, false
	case err != nil:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Give the %s as a local date and time, YYYY-MM-DDTHH:MM, e.g. 2027-03-04T14:00.", what), field...)
		return time.Time{}, false
	}
	return t, true
}

// clipRunes shortens s to n characters for a message.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
