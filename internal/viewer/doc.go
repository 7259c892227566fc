// Package viewer owns the identity of whoever is calling: a small value carried in the
// context (user id, roles, token scopes) that privacy rules and services consult. It knows
// nothing of HTTP or storage; internal/auth builds viewers, internal/access reads them.
package viewer
