// Command coalition is the CAR-T coalition service: `coalition serve` runs the GraphQL API,
// the email outbox and the scheduled jobs; the other subcommands operate it.
package main
