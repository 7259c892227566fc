// Package auth owns identity: passwordless sign-in links, sessions, API tokens, turning a
// bearer token into a viewer, and staff administration of users and tokens
// (ARCHITECTURE §6.11). Secrets are random, shown once, and stored only as SHA-256 hashes.
package auth
