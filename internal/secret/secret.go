package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// New returns 32 random bytes, base64url-encoded, after prefix: a bearer secret (a session
// or API token) or a single-use link's secret (a sign-in link, a referee's upload link).
// Show it once and store only Hash of it.
func New(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the platform is broken; nothing safe to do
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash is what is stored of a secret: SHA-256, hex. The secrets are 256-bit random
// values, so a fast unsalted hash is enough (nothing to brute-force).
func Hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Plausible reports whether s has the form of a secret made by New(prefix), so that
// obviously malformed ones are refused before the database is asked.
func Plausible(s, prefix string) bool {
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	body := s[len(prefix):]
	if len(body) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(body)
	return err == nil
}
