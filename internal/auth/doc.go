// Package auth owns identity: passwordless sign-in links, sessions, API tokens, turning a
// bearer token into a viewer, and staff administration of users and tokens
// (ARCHITECTURE §6.11). Secrets come from internal/secret: random, shown once, and stored
// only as SHA-256 hashes. Who may administer users is access.CanManageUsers (users.go),
// asked by the ent privacy policies and by this package alike.
package auth
