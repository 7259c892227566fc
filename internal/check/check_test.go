package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/apperr"
)

func TestNormaliseEmail(t *testing.T) {
	for in, want := range map[string]string{
		"  Jana.Novakova@FNBrno.example.cz ":                                 "jana.novakova@fnbrno.example.cz",
		"anna@Bücher.example":                                                "anna@xn--bcher-kva.example",
		"anna@xn--bcher-kva.example":                                         "anna@xn--bcher-kva.example",
		"o'brien+cart@example.ie":                                            "o'brien+cart@example.ie",
		strings.Repeat("j", 64) + "@" + strings.Repeat("a", 63) + ".example": strings.Repeat("j", 64) + "@" + strings.Repeat("a", 63) + ".example",
	} {
		got, err := NormaliseEmail(in)
		if err != nil || got != want {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]error{
		"jana@example.cz\u200b":  ErrEmailInvisible, // zero-width space after it
		"ja\u200bna@example.cz":  ErrEmailInvisible,
		"jana@exam\u202eple.cz":  ErrEmailInvisible, // right-to-left override
		"jana@example.cz\x00":    ErrEmailInvisible, // NUL
		"\ufeffjana@example.cz":  ErrEmailInvisible, // byte-order mark
		"jana\u200d@example.cz":  ErrEmailInvisible, // joiners are refused in addresses
		"jana@example.cz\n":      nil,               // trimmed like any space
		"Jana <jana@example.cz>": ErrEmailInvalid,
		"jana@localhost":         ErrEmailInvalid,
		"jana@example.cz.":       ErrEmailInvalid,
		"@example.cz":            ErrEmailInvalid,
		"jana@":                  ErrEmailInvalid,
		"jana@exa mple.cz":       ErrEmailInvalid,
		"jana@xn--zz.example":    ErrEmailInvalid,
		// An IDN label that is 92 octets once encoded (DNS allows 63), an ASCII one of 64,
		// an empty label, and a local part of 65 octets (SMTP allows 64).
		"jana@bücherstraßeöffnungszeitenübersichtsverzeichnisgemeinschaftsausschussvorsitzender.example": ErrEmailInvalid,
		"jana@" + strings.Repeat("a", 64) + ".example":                                                   ErrEmailInvalid,
		"jana@example..cz":                      ErrEmailInvalid,
		strings.Repeat("j", 65) + "@example.cz": ErrEmailInvalid,
		"":                                      ErrEmailInvalid,
	} {
		_, err := NormaliseEmail(in)
		if !errors.Is(err, want) {
			t.Errorf("NormaliseEmail(%q): %v, want %v", in, err, want)
		}
	}
}

func TestTextRefusesInvisibleCharacters(t *testing.T) {
	for in, ok := range map[string]bool{
		"Marek Dvořák":                 true,
		"Line one\nline two\tindented": true,
		"Windows\r\nline":              true,
		"👩\u200d⚕️ ward round":         true,
		"Marek\u200b":                  false,
		"\u202eevil":                   false,
		"nul\x00":                      false,
		"escape\x1b[31m":               false,
		"lone\rreturn":                 false,
		"soft\u00adhyphen":             false,
	} {
		var errs apperr.UserErrors
		Text(&errs, in, 100, "The text", Path("text"))
		if (len(errs) == 0) != ok {
			t.Errorf("Text(%q): %v, want ok=%v", in, errs, ok)
		}
	}
	if HasControl("Marek Dvořák") || !HasControl("two\nlines") || !HasControl("Marek\u200b") || !HasControl("\u2066isolate") {
		t.Error("HasControl")
	}
}
