package auth

import (
	"net/mail"
	"strings"
)

// NormaliseEmail trims and lower-cases an address and checks that it is a bare, valid
// address of at most 254 characters. It returns "" when it is not.
func NormaliseEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 254 {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return ""
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return ""
	}
	return s
}
