// Package app wires coalition together: database, services, outbox worker, scheduled jobs
// and the HTTP handler, from a config.Config. `coalition serve` and the end-to-end tests
// both build the service through New, so tests exercise exactly what runs in production.
package app
