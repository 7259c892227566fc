package groups

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/markdown"
)

// Limits of the directory's input.
const (
	maxNameLen          = 200
	maxCityLen          = 100
	maxWebsiteLen       = 500
	maxPositionLen      = 200
	maxAccreditationLen = 100
	maxLanguages        = 10
	maxProducts         = 20
	maxProductLen       = 100
	maxAnnualPatients   = 10000
	maxDescriptionLen   = markdown.MaxLen
	// maxSearchLen bounds the free-text search of the directory connections.
	maxSearchLen = 100
)

// path returns the field path of an input field: ["input", name, more...].
func path(name string, more ...string) []string {
	return append([]string{"input", name}, more...)
}

// checkText trims s and reports a user error on field when it is longer than max. The
// limit is in characters; ent's MaxLen validators count bytes, so text whose characters
// fit but whose UTF-8 encoding does not is refused here too, with its own message, rather
// than failing later in the database layer.
func checkText(errs *apperr.UserErrors, s string, max int, what string, field []string) string {
	s = strings.TrimSpace(s)
	switch {
	case utf8.RuneCountInString(s) > max:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("%s can be at most %d characters.", what, max), field...)
	case len(s) > max:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("%s is too long: at most %d bytes are stored, and accented letters and symbols take two or more.", what, max), field...)
	}
	return s
}

// checkRequiredText is checkText for a text that must not be empty.
func checkRequiredText(errs *apperr.UserErrors, s string, max int, what, missing string, field []string) string {
	s = checkText(errs, s, max, what, field)
	if s == "" {
		errs.Add(apperr.CodeRequired, missing, field...)
	}
	return s
}

// hasControl reports whether s contains control characters (line breaks in a name, NUL).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// checkName checks the name of an organisation or host centre.
func checkName(errs *apperr.UserErrors, s string, field []string) string {
	s = checkRequiredText(errs, s, maxNameLen, "The name", "Enter the name.", field)
	if hasControl(s) {
		errs.Add(apperr.CodeInvalid, "The name must be a single line of text.", field...)
	}
	return s
}

// checkCity checks a city; required says whether it may be empty.
func checkCity(errs *apperr.UserErrors, s string, required bool, field []string) string {
	s = checkText(errs, s, maxCityLen, "The city", field)
	switch {
	case s == "" && required:
		errs.Add(apperr.CodeRequired, "Enter the city.", field...)
	case hasControl(s):
		errs.Add(apperr.CodeInvalid, "The city must be a single line of text.", field...)
	}
	return s
}

// checkCountry checks an ISO 3166-1 alpha-2 code. It is not upper-cased silently: the code
// is stored and compared as written, so the caller is told to write it in upper case.
func checkCountry(errs *apperr.UserErrors, s string, field []string) string {
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

// checkWebsite checks an optional http(s) URL (the same rule as the ent field validator).
func checkWebsite(errs *apperr.UserErrors, s string, field []string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if utf8.RuneCountInString(s) > maxWebsiteLen || len(s) > maxWebsiteLen {
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("The website address can be at most %d characters.", maxWebsiteLen), field...)
		return s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || hasControl(s) {
		errs.Add(apperr.CodeInvalid, "Enter the website as a full http or https address, e.g. https://www.example.org.", field...)
	}
	return s
}

// normaliseLanguage returns s trimmed and in lower case, and whether it is an ISO 639-1 code.
func normaliseLanguage(s string) (string, bool) {
	l := strings.ToLower(strings.TrimSpace(s))
	return l, vocab.IsLanguage(l)
}

// checkLanguages checks 1–10 distinct ISO 639-1 codes and returns them in lower case.
func checkLanguages(errs *apperr.UserErrors, in []string, field []string) []string {
	switch {
	case len(in) == 0:
		errs.Add(apperr.CodeRequired, "List at least one language spoken with observers, as an ISO 639-1 code, e.g. en.", field...)
		return nil
	case len(in) > maxLanguages:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("List at most %d languages.", maxLanguages), field...)
		return nil
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		l, ok := normaliseLanguage(s)
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

// checkFocusAreas checks that the focus areas are known and distinct.
func checkFocusAreas(errs *apperr.UserErrors, in []vocab.FocusArea, field []string) []vocab.FocusArea {
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

// checkProducts checks at most 20 distinct product names (compared without regard to
// case), each 1–100 characters after trimming.
func checkProducts(errs *apperr.UserErrors, in []string, field []string) []string {
	if len(in) > maxProducts {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("List at most %d products.", maxProducts), field...)
		return nil
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		f := append(slices.Clone(field), strconv.Itoa(i))
		var one apperr.UserErrors
		p := checkText(&one, s, maxProductLen, "A product name", f)
		switch {
		case len(one) > 0:
			*errs = append(*errs, one...)
		case p == "":
			errs.Add(apperr.CodeInvalid, "A product name cannot be empty.", f...)
		case hasControl(p):
			errs.Add(apperr.CodeInvalid, "A product name must be a single line of text.", f...)
		case slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, p) }):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s is listed twice.", p), f...)
		default:
			out = append(out, p)
		}
	}
	return out
}
