// Package config owns the service configuration: one struct, filled from command-line
// flags and COALITION_* environment variables (a flag wins over the environment), with
// every option documented in --help. Only cmd/coalition reads it.
package config
