package directory

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/markdown"
)

// Limits of the directory's input.
const (
	maxCityLen          = 100
	maxWebsiteLen       = 500
	maxPositionLen      = 200
	maxAccreditationLen = 100
	maxLanguages        = 10
	maxProducts         = 20
	maxProductLen       = 100
	maxAnnualPatients   = 10000
	maxDescriptionLen   = markdown.MaxLen
)

// checkCity checks a city; required says whether it may be empty.
func checkCity(errs *apperr.UserErrors, s string, required bool, field []string) string {
	s = check.Text(errs, s, maxCityLen, "The city", field)
	switch {
	case s == "" && required:
		errs.Add(apperr.CodeRequired, "Enter the city.", field...)
	case check.HasControl(s):
		errs.Add(apperr.CodeInvalid, "The city must be a single line of text.", field...)
	}
	return s
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
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || check.HasControl(s) {
		errs.Add(apperr.CodeInvalid, "Enter the website as a full http or https address, e.g. https://www.example.org.", field...)
	}
	return s
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
		p := check.Text(&one, s, maxProductLen, "A product name", f)
		switch {
		case len(one) > 0:
			*errs = append(*errs, one...)
		case p == "":
			errs.Add(apperr.CodeInvalid, "A product name cannot be empty.", f...)
		case check.HasControl(p):
			errs.Add(apperr.CodeInvalid, "A product name must be a single line of text.", f...)
		case slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, p) }):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s is listed twice.", p), f...)
		default:
			out = append(out, p)
		}
	}
	return out
}
