// Package retention owns how long personal data is kept: the registry of retention rules
// (Rules: what is deleted, after how long, under which COALITION_* variable, by which job),
// which the record of processing lists, and the jobs that apply the rules it does not leave
// to a domain (sent mail bodies, unconfirmed newsletter subscriptions, the audit trail).
package retention
