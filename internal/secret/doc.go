// Package secret owns the random secrets the service hands out — sign-in links, sessions,
// API tokens, referees' upload links: New makes one (32 random bytes, base64url, after a
// prefix that tells the kinds apart and makes leaked ones easy to grep for), Hash is all
// that is stored of it (SHA-256), and Plausible refuses a malformed one before any lookup.
// It knows nothing of storage or of who may hold which secret (internal/auth,
// internal/programme decide that).
package secret
