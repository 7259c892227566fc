// Package placement owns the placement lifecycle once a match is published
// (internal/matchrun creates the offers): a trainee accepts or declines an offer, the host
// centre's coordinators confirm, propose other dates or cancel, both report afterwards;
// the transition table (Next) decides every change, applied as a conditional update under
// the slot's lock. It also owns the sign-in links placement emails carry (intents.go:
// accept, decline, confirm, answer a change of dates), the offer deadline rule
// (AddHoursExcludingWeekends), the hourly job (Maintain: expiries, the waiting list,
// completion, reminders) and the staff exports (CSV, calendar feed). Who may do what is
// written once in internal/access/placements.go.
package placement
