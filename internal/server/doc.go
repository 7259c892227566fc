// Package server owns the HTTP surface of coalition: middleware, the hardened /graphql
// endpoint (limits, error presenter, transactions, multipart uploads), authentication of
// requests, GraphiQL, the sign-in page, document downloads, the referee upload page, health
// and metrics.
package server
