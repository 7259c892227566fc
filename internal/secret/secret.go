package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefixes tell the kinds of bearer secret apart (and make leaked ones easy to grep for).
const (
	sessionPrefix = "cs_"
	tokenPrefix   = "ct_"
)

// newSecret returns 32 random bytes, base64url-encoded, after prefix.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the platform is broken; nothing safe to do
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is what is stored: SHA-256 of the secret, hex. The secrets are 256-bit random
// values, so a fast unsalted hash is enough (nothing to brute-force).
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// plausibleSecret rejects obviously malformed secrets before touching the database.
func plausibleSecret(s, prefix string) bool {
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

// NewSecret returns a new random secret (32 bytes, base64url) after prefix, for other
// single-use links (e.g. a referee's upload link); store only HashSecret of it.
func NewSecret(prefix string) string { return newSecret(prefix) }

// HashSecret is what is stored of a secret: SHA-256, hex.
func HashSecret(s string) string { return hashSecret(s) }

// PlausibleSecret reports whether s has the form of a secret made by NewSecret(prefix).
func PlausibleSecret(s, prefix string) bool { return plausibleSecret(s, prefix) }
