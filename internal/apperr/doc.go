// Package apperr owns the small set of error kinds the domain returns and that the API maps
// to GraphQL, in exactly one place (internal/server's error presenter). Services document
// which kinds they return; callers test them with errors.Is or Kind.
package apperr
